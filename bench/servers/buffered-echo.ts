// A BufferedProtocol echo: reads land in a buffer the protocol owns, then the filled part is
// written back. Transport.write copies whatever it cannot send at once, so the buffer is free
// again as soon as bufferUpdated returns, and one buffer serves every connection (the loop is
// single-threaded): an idle connection costs no buffer, and bulk reads are as large as the
// read-slab ones of the plain Protocol echo (256 KiB).
//   node dist/bench/servers/buffered-echo.js <port> [--quiet]      (0 picks a port)
import { Reactor } from 'selectloop/loop';
import { type BufferedProtocol, type Transport } from 'selectloop/transports';
import 'selectloop/transports';

const quiet = process.argv.includes('--quiet');
const port = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? process.env.PORT ?? 1234);
const log = quiet ? () => {} : console.log;

const sharedBuffer = Buffer.allocUnsafe(256 * 1024);

class BufferedEcho implements BufferedProtocol {
  private transport!: Transport;

  connectionMade(transport: Transport): void {
    this.transport = transport;
    if (!quiet) log('connection from', transport.getExtraInfo('peername'));
  }

  getBuffer(_sizeHint: number): Uint8Array {
    return sharedBuffer;
  }

  bufferUpdated(nbytes: number): void {
    this.transport.write(sharedBuffer.subarray(0, nbytes));
  }

  connectionLost(err: Error | null): void {
    log('connection closed', err ? `(${err.message})` : '');
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
