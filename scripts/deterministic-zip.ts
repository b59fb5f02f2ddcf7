import { unzipSync, zipSync } from 'fflate';

/**
 * The zip's bytes depend only on the files' names and contents: entries are sorted, every entry carries the same
 * timestamp and Unix mode 0644, and the compression level is fixed. Terraform hashes the zip (source_code_hash,
 * object names), so an unchanged build must not redeploy anything.
 *
 * fflate encodes the DOS timestamp from the Date's local-time fields, so the fixed date is built from local fields
 * too, at the time of zipping: the same bytes come out in every time zone.
 */
const UNIX = 3;
const REGULAR_FILE_0644 = (0o100644 << 16) >>> 0;

export function deterministicZip(files: Readonly<Record<string, Uint8Array | string>>): Uint8Array {
  const mtime = new Date(1980, 0, 1, 0, 0, 0);
  const names = Object.keys(files).sort();
  const entries: Record<string, [Uint8Array, { mtime: Date; os: number; attrs: number; level: 9 }]> = {};
  for (const name of names) {
    const content = files[name];
    if (content === undefined) continue;
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    entries[name] = [bytes, { mtime, os: UNIX, attrs: REGULAR_FILE_0644, level: 9 }];
  }
  return zipSync(entries);
}

/** The files of a zip, by name (for tests and for checking what was packaged). */
export function readZip(zip: Uint8Array): Record<string, Uint8Array> {
  return unzipSync(zip);
}
