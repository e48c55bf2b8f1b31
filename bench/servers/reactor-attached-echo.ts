// The Reactor + Protocol echo (examples/echo-protocol.ts) driven by Node's own loop via attach().
//   node dist/bench/servers/reactor-attached-echo.js <port> [--quiet]      (0 picks a port)
import { Reactor } from 'selectloop/loop';
import { type Protocol, type Transport } from 'selectloop/transports';
import 'selectloop/transports';

const quiet = process.argv.includes('--quiet');
const port = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? process.env.PORT ?? 1234);
const log = quiet ? () => {} : console.log;

class EchoProtocol implements Protocol {
  private transport!: Transport;

  connectionMade(transport: Transport): void {
    this.transport = transport;
    log('connection from', transport.getExtraInfo('peername'));
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
    reactor.detach();
    reactor.close();
  });
}
reactor.attach();
