// The echo server as a Reactor + Protocol (asyncio's model): no fds, no selector loop.
//   node dist/examples/echo-protocol.js [port] [--quiet] [--attach]   (port also from $PORT; 0 picks one)
// --attach runs the reactor inside Node's own loop (reactor.attach()) instead of runForever().
// Ctrl-C (SIGINT) or SIGTERM stops it cleanly: the server and every connection are closed.
import { Reactor } from 'selectloop/loop';
import { type Protocol, type Transport } from 'selectloop/transports';
import 'selectloop/transports';

const quiet = process.argv.includes('--quiet');
const attached = process.argv.includes('--attach');
const port = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? process.env.PORT ?? 1234);
const log = quiet ? () => {} : console.log;

class EchoProtocol implements Protocol {
  private transport!: Transport;

  connectionMade(transport: Transport): void {
    this.transport = transport;
    if (!quiet) log('connection from', transport.getExtraInfo('peername'));
  }

  dataReceived(data: Buffer): void {
    this.transport.write(data);
  }

  connectionLost(err: Error | null): void {
    log('connection closed', err ? `(${err.message})` : '');
  }
}

const reactor = new Reactor();
const server = reactor.createServer(() => new EchoProtocol(), { host: '127.0.0.1', port });
const [host, boundPort] = server.address() as [string, number];
console.log(`listening on ${host}:${boundPort}`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  reactor.addSignalHandler(signal, () => {
    log(`${signal}: shutting down`);
    server.close();
    server.closeClients();
    // Let the closes flush and connectionLost run, then stop.
    reactor.callSoon(() => reactor.callSoon(shutdown));
  });
}

function shutdown(): void {
  if (!attached) return reactor.stop();
  // close() may not run inside the reactor's own callback: leave it to Node's next turn.
  setImmediate(() => {
    reactor.detach();
    reactor.close();
  });
}

if (attached) {
  reactor.attach();
} else {
  reactor.runForever();
  reactor.close();
}
