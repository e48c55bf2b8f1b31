// Certificates for the TLS tests, made in a temporary directory with the openssl CLI: a CA, a
// server certificate it signed (localhost, 127.0.0.1, ::1), a client certificate it signed, and a
// self-signed certificate no one trusts. null (tests skip) where the openssl CLI is missing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  ca: Buffer;
  serverKey: Buffer;
  serverCert: Buffer;
  clientKey: Buffer;
  clientCert: Buffer;
  selfSignedKey: Buffer;
  selfSignedCert: Buffer;
}

export const NO_OPENSSL_MESSAGE = 'SKIP: the openssl CLI is not installed, so the TLS tests cannot make their certificates';

function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

function opensslPresent(): boolean {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return r.status === 0;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Makes the certificates (about half a second); null where the openssl CLI is missing. */
export function makeTestCerts(): TestCerts | null {
  if (!opensslPresent()) return null;
  const dir = mkdtempSync(join(tmpdir(), 'selectloop-tls-'));
  try {
    openssl(dir, ['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=selectloop test CA']);
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n');
    writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    for (const name of ['server', 'client']) {
      openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name === 'server' ? 'localhost' : 'test client'}`]);
      openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
    }
    openssl(dir, ['req', '-x509', ...EC, '-keyout', 'self.key', '-out', 'self.crt', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
    const read = (f: string) => readFileSync(join(dir, f));
    return {
      ca: read('ca.crt'),
      serverKey: read('server.key'),
      serverCert: read('server.crt'),
      clientKey: read('client.key'),
      clientCert: read('client.crt'),
      selfSignedKey: read('self.key'),
      selfSignedCert: read('self.crt'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
