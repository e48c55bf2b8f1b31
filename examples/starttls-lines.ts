// A STARTTLS-style line protocol (as SMTP, IMAP, XMPP): plaintext until the client says STARTTLS,
// then the same connection continues under TLS (reactor.startTls), where lines are echoed back.
//   node dist/examples/starttls-lines.js [port] [--quiet] --cert cert.pem --key key.pem
// Plaintext: "STARTTLS" -> "OK begin TLS", then the handshake; any other line -> "ERR STARTTLS first".
// Bytes that came in the same read right after the STARTTLS line (a client's ClientHello) go to
// startTls as readAhead, so nothing is lost. Ctrl-C (SIGINT) or SIGTERM stops it cleanly.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { Reactor } from 'selectloop/loop';
import { type Protocol, type Transport } from 'selectloop/transports';
import 'selectloop/transports';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { quiet: { type: 'boolean', default: false }, cert: { type: 'string' }, key: { type: 'string' } },
});
if (values.cert === undefined || values.key === undefined) {
  console.error('starttls-lines: --cert and --key are required');
  process.exit(2);
}
const port = Number(positionals[0] ?? 2525);
const log = values.quiet ? () => {} : console.log;
const tls = { server: true, cert: readFileSync(values.cert), key: readFileSync(values.key), shutdownTimeout: 2000 };
const reactor = new Reactor();
reactor.attach(); // TLS runs on Node's loop

/** After the upgrade: echoes each line as "secure: <line>". */
class SecureLines implements Protocol {
  transport: Transport | null = null;
  private partial = '';
  dataReceived(data: Buffer): void {
    const lines = (this.partial + data.toString('utf8')).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) this.transport?.write(`secure: ${line}\n`);
  }
  connectionLost(err: Error | null): void {
    log('TLS connection closed', err ? `(${(err as { code?: string }).code ?? err.message})` : '');
  }
}

/** Before the upgrade: waits for STARTTLS. */
class PlainLines implements Protocol {
  private transport!: Transport;
  private pending = Buffer.alloc(0);
  connectionMade(transport: Transport): void {
    this.transport = transport;
    transport.write('READY say STARTTLS\n');
  }
  dataReceived(data: Buffer): void {
    this.pending = Buffer.concat([this.pending, data]);
    for (let nl = this.pending.indexOf(10); nl >= 0; nl = this.pending.indexOf(10)) {
      const line = this.pending.subarray(0, nl).toString('utf8').trim();
      const rest = this.pending.subarray(nl + 1);
      this.pending = rest;
      if (line !== 'STARTTLS') {
        this.transport.write('ERR STARTTLS first\n');
        continue;
      }
      this.transport.write('OK begin TLS\n');
      const secure = new SecureLines();
      reactor.startTls(this.transport, secure, { ...tls, readAhead: rest }).then(
        (t) => {
          secure.transport = t;
          log('upgraded to', t.getExtraInfo('tlsProtocol'));
        },
        (err: Error) => log('handshake failed:', (err as { code?: string }).code ?? err.message),
      );
      return; // what follows belongs to TLS
    }
  }
}

const server = reactor.createServer(() => new PlainLines(), { host: '127.0.0.1', port });
const [host, boundPort] = server.address() as [string, number];
console.log(`listening on ${host}:${boundPort}`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  reactor.addSignalHandler(signal, () => {
    server.close();
    server.closeClients();
    const finish = (): void => {
      if (server.connections > 0) return void setTimeout(finish, 10);
      reactor.detach();
      reactor.close();
    };
    setImmediate(finish);
  });
}
