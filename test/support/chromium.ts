import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's Chromium, the browser the page tests drive with playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * The path of Debian's Chromium, installed here when it is missing and this machine can (root with apt-get, as on
 * CI, where .ci/run installs it first anyway).
 */
export function chromiumPath(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'], {
    stdio: 'ignore',
    timeout: 600_000,
  });
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing and could not be installed (apt-get install chromium)`);
  return CHROMIUM;
}
