import { describe, expect, it } from 'vitest';
import { crc32c } from '../../functions/gcp/crc32c.ts';

describe('crc32c', () => {
  // RFC 3720 (iSCSI) appendix B.4 test vectors, and the common "123456789" check value.
  it.each([
    ['32 bytes of zeros', new Uint8Array(32), 0x8a9136aa],
    ['32 bytes of 0xff', new Uint8Array(32).fill(0xff), 0x62a8ab43],
    ['32 incrementing bytes', Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
    ['32 decrementing bytes', Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
    ['"123456789"', new TextEncoder().encode('123456789'), 0xe3069283],
    ['nothing', new Uint8Array(0), 0],
  ])('%s', (_label, bytes, expected) => {
    expect(crc32c(bytes)).toBe(expected);
  });

  it('is unsigned, as Secret Manager sends it (a decimal int64 string)', () => {
    expect(String(crc32c(new Uint8Array(32).fill(0xff)))).toBe('1655221059');
  });
});
