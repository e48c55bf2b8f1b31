// A TLS echo server: the echo Protocol behind Node's TLS, on a reactor attached to Node's loop.
//   node dist/examples/tls-echo.js [port] [--quiet] [--host 127.0.0.1] [--cert cert.pem --key key.pem]
// Without --cert/--key it makes a self-signed certificate for localhost at first run (openssl CLI)
// and keeps it in the temp directory for the next runs. Try it with
//   openssl s_client -connect 127.0.0.1:PORT -quiet      (or: node's tls.connect, rejectUnauthorized: false)
// Ctrl-C (SIGINT) or SIGTERM: stop listening, close every connection (close_notify), exit 0.
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Reactor } from 'selectloop/loop';
import { type Protocol, type Transport } from 'selectloop/transports';
import 'selectloop/transports';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quiet: { type: 'boolean', default: false },
    host: { type: 'string', default: '127.0.0.1' },
    cert: { type: 'string' },
    key: { type: 'string' },
  },
});
const port = Number(positionals[0] ?? process.env.PORT ?? 8443);
const log = values.quiet ? () => {} : console.log;
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`tls-echo: bad port ${JSON.stringify(positionals[0])}`);
  process.exit(2);
}
if ((values.cert === undefined) !== (values.key === undefined)) {
  console.error('tls-echo: give both --cert and --key, or neither (a self-signed certificate is made)');
  process.exit(2);
}

/** A self-signed certificate for localhost, made once with the openssl CLI and kept for later runs. */
function selfSignedCertificate(): { cert: string; key: string } {
  const dir = join(tmpdir(), `selectloop-tls-echo-${userInfo().uid}`);
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  if (!existsSync(cert) || !existsSync(key)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '365', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1'], { encoding: 'utf8' });
    if (r.error !== undefined || r.status !== 0) {
      console.error(`tls-echo: could not make a self-signed certificate with openssl (${r.error?.message ?? r.stderr.trim()}); give --cert and --key`);
      process.exit(1);
    }
    log(`made a self-signed certificate in ${dir}`);
  }
  return { cert, key };
}

const files = values.cert !== undefined ? { cert: values.cert, key: values.key! } : selfSignedCertificate();

class EchoProtocol implements Protocol {
  private transport!: Transport;

  connectionMade(transport: Transport): void {
    this.transport = transport;
    log('connection from', transport.getExtraInfo('peername'), transport.getExtraInfo('tlsProtocol'));
  }

  dataReceived(data: Buffer): void {
    this.transport.write(data);
  }

  // A client that does not read its echoes is not allowed to fill our memory.
  pauseWriting(): void {
    this.transport.pauseReading();
  }

  resumeWriting(): void {
    this.transport.resumeReading();
  }

  connectionLost(err: Error | null): void {
    log('connection closed', err ? `(${(err as { code?: string }).code ?? err.message})` : '');
  }
}

const reactor = new Reactor();
reactor.attach(); // TLS runs on Node's loop
const server = reactor.createServer(() => new EchoProtocol(), {
  host: values.host,
  port,
  tls: { cert: readFileSync(files.cert), key: readFileSync(files.key), shutdownTimeout: 2000 },
});
const [host, boundPort] = server.address() as [string, number];
console.log(`listening on ${host}:${boundPort}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  reactor.addSignalHandler(signal, () => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    server.close();
    server.closeClients(); // close_notify to each; a peer that never answers is dropped after 2 s
    const finish = (): void => {
      if (server.connections > 0) return void setTimeout(finish, 10);
      reactor.detach();
      reactor.close();
    };
    setImmediate(finish); // close() may not run inside the reactor's own callback
  });
}
