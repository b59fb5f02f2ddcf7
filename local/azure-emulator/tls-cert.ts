import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface SelfSignedCertificate {
  /** PEM private key for the HTTPS server. */
  key: string;
  /** PEM certificate; self-signed, so it is also the CA a client must trust (`tlsOptions: { ca }`). */
  cert: string;
}

// Written by hand instead of relying on the system openssl.cnf: distributions ship different defaults, and the
// SDK's TLS check needs the SAN (IP and DNS) plus CA:TRUE so the self-signed certificate can be its own trust anchor.
const OPENSSL_CONFIG = `[req]
distinguished_name = dn
x509_extensions = v3
prompt = no
[dn]
CN = localhost
O = astro-identity-sync azure-emulator
[v3]
subjectAltName = IP:127.0.0.1,DNS:localhost
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyCertSign
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
`;

let cached: Promise<SelfSignedCertificate> | undefined;

async function generate(): Promise<SelfSignedCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'azure-emulator-tls-'));
  try {
    const configPath = join(dir, 'openssl.cnf');
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    await writeFile(configPath, OPENSSL_CONFIG);
    // P-256 keeps generation in the milliseconds (RSA-2048 can take a second on a slow CI box).
    const args = [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-config',
      configPath,
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ];
    try {
      await run('openssl', args, { timeout: 30_000 });
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      const detail = missing
        ? 'the `openssl` command was not found on PATH (install it, e.g. `apt-get install openssl`)'
        : `openssl failed: ${(error as Error).message}`;
      // Node 20 has no API to create X.509 certificates, so the CLI is the only dependency-free way.
      throw new Error(`azure-emulator: cannot create its self-signed TLS certificate: ${detail}`);
    }
    const [key, cert] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
    return { key, cert };
  } finally {
    // The key only needs to live in memory; leave nothing behind in /tmp.
    await rm(dir, { recursive: true, force: true });
  }
}

/** One certificate per process: every emulator instance (any port) on 127.0.0.1 can share it. */
export function selfSignedCertificate(): Promise<SelfSignedCertificate> {
  if (cached === undefined) {
    cached = generate();
    // A failed attempt must not poison later ones (e.g. openssl installed after the first try).
    cached.catch(() => {
      cached = undefined;
    });
  }
  return cached;
}
