// A BufferedProtocol echo: reads land in the protocol's own buffer, then the filled part is
// written back (Transport.write copies what it cannot send at once, so the buffer is reusable).
//   node dist/bench/servers/buffered-echo.js <port> [--quiet]      (0 picks a port)
import { Reactor } from 'selectloop/loop';
import { type BufferedProtocol, type Transport } from 'selectloop/transports';
import 'selectloop/transports';

const quiet = process.argv.includes('--quiet');
const port = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? process.env.PORT ?? 1234);
const log = quiet ? () => {} : console.log;

class BufferedEcho implements BufferedProtocol {
  private transport!: Transport;
  private buf: Buffer | null = null;

  connectionMade(transport: Transport): void {
    this.transport = transport;
    log('connection from', transport.getExtraInfo('peername'));
  }

  getBuffer(_sizeHint: number): Uint8Array {
    // Allocated on first read, so an idle connection that never sends costs nothing here.
    return (this.buf ??= Buffer.allocUnsafe(65536));
  }

  bufferUpdated(nbytes: number): void {
    this.transport.write(this.buf!.subarray(0, nbytes));
  }

  connectionLost(err: Error | null): void {
    log('connection closed', err ? `(${err.message})` : '');
    this.buf = null;
  }
}

const reactor = new Reactor();
const server = reactor.createServer(() => new BufferedEcho(), { host: '127.0.0.1', port });
const [host, boundPort] = server.address() as [string, number];
console.log(`listening on ${host}:${boundPort}`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  reactor.addSignalHandler(signal, () => {
    log(`${signal}: shutting down`);
    server.close();
    reactor.stop();
  });
}
reactor.runForever();
reactor.close();
