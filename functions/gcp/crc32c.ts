/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum Secret Manager keeps per secret version as
 * `payload.dataCrc32c`. Node 20 has no built-in for it (`zlib.crc32` is the IEEE polynomial and needs Node 22), and
 * a whole package for 30 lines would grow the function bundle for nothing.
 */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The unsigned 32-bit CRC-32C of the bytes. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
