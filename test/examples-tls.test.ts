// examples/tls-echo end to end: its own self-signed certificate (made at first run) or one given
// by --cert/--key, byte-exact echoes over node:tls, and a clean exit 0 on SIGINT; and
// examples/starttls-lines, a plaintext line protocol upgraded in place by STARTTLS.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as nodeTls from 'node:tls';
import * as net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExample } from './helpers/server.js';
import { withTimeout } from './helpers/index.js';
import { makeTestCerts, NO_OPENSSL_MESSAGE } from './helpers/tls-certs.js';

const certs = makeTestCerts();
const t = suite('tls-echo example');

/** Sends lines over TLS and resolves with everything echoed once `expected` bytes came back. */
function echo(port: number, options: nodeTls.ConnectionOptions, payload: string): Promise<{ echoed: string; socket: nodeTls.TLSSocket }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      let echoed = '';
      const socket = nodeTls.connect({ port, host: '127.0.0.1', ...options }, () => socket.write(payload));
      socket.on('data', (d: Buffer) => {
        echoed += d.toString();
        if (echoed.length >= payload.length) resolve({ echoed, socket });
      });
      socket.on('error', reject);
    }),
    15_000,
    'the TLS echo',
  );
}

function exited(child: import('node:child_process').ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return withTimeout(
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
      child.once('exit', (code, signal) => resolve({ code, signal }));
    }),
    15_000,
    'the example to exit',
  );
}

if (certs === null) {
  console.log(NO_OPENSSL_MESSAGE);
} else {
  t('self-signed at first run: echoes byte-exact; SIGINT closes the connection with close_notify and exits 0', async () => {
    const server = await startExample('examples/tls-echo.js', ['0', '--quiet'], 30_000);
    try {
      const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'z'.repeat(i % 50)} ünï\n`).join('');
      const { echoed, socket } = await echo(server.port, { rejectUnauthorized: false, servername: 'localhost' }, lines);
      assert.is(echoed, lines);
      assert.is((socket.getPeerCertificate() as { subject: { CN: string } }).subject.CN, 'localhost');
      const ended = new Promise<boolean>((r) => socket.once('end', () => r(true)));
      socket.resume();
      server.child.kill('SIGINT');
      assert.ok(await withTimeout(ended, 15_000, "the server's close_notify"));
      socket.destroy();
      const { code } = await exited(server.child);
      assert.is(code, 0, server.output());
    } finally {
      await server.stop();
    }
  });

  t('--cert/--key: a certificate the client verifies against its CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-echo-test-'));
    try {
      writeFileSync(join(dir, 'cert.pem'), certs.serverCert);
      writeFileSync(join(dir, 'key.pem'), certs.serverKey);
      const server = await startExample('examples/tls-echo.js', ['0', '--quiet', '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem')], 30_000);
      try {
        const { echoed, socket } = await echo(server.port, { ca: certs.ca, servername: 'localhost' }, 'verified\n');
        assert.is(echoed, 'verified\n');
        assert.ok(socket.authorized);
        socket.destroy();
        server.child.kill('SIGTERM');
        assert.is((await exited(server.child)).code, 0, server.output());
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  t('starttls-lines: plaintext until STARTTLS, then lines over TLS on the same connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'starttls-test-'));
    try {
      writeFileSync(join(dir, 'cert.pem'), certs.serverCert);
      writeFileSync(join(dir, 'key.pem'), certs.serverKey);
      const server = await startExample('examples/starttls-lines.js', ['0', '--quiet', '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem')], 30_000);
      try {
        const sock = net.connect(server.port, '127.0.0.1');
        let plain = '';
        const onData = (d: Buffer) => (plain += d.toString());
        sock.on('data', onData);
        sock.write('HELO\nSTARTTLS\n');
        await withTimeout(
          (async () => {
            while (!plain.includes('OK begin TLS\n')) await new Promise((r) => setTimeout(r, 5));
          })(),
          15_000,
          'the OK',
        );
        assert.is(plain, 'READY say STARTTLS\nERR STARTTLS first\nOK begin TLS\n');
        sock.off('data', onData);
        const secure = nodeTls.connect({ socket: sock, ca: certs.ca, servername: 'localhost' });
        const echoed = await withTimeout(
          new Promise<string>((resolve, reject) => {
            let got = '';
            secure.once('secureConnect', () => secure.write('one\ntwo\n'));
            secure.on('data', (d: Buffer) => {
              got += d.toString();
              if (got.split('\n').length > 2) resolve(got);
            });
            secure.on('error', reject);
          }),
          15_000,
          'the lines over TLS',
        );
        assert.is(echoed, 'secure: one\nsecure: two\n');
        assert.ok(secure.authorized);
        secure.destroy();
        server.child.kill('SIGINT');
        assert.is((await exited(server.child)).code, 0, server.output());
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

t.run();
