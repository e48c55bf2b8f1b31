// selectloop's UDP echo for `npm run bench:udp`: a DatagramProtocol that sends every datagram back
// to its sender (examples/udp-echo.ts, plus --rcvbuf so both servers get the same receive buffer).
//   node dist/bench/servers/datagram-echo.js [port] [--quiet] [--rcvbuf BYTES]
import { Reactor } from 'selectloop/loop';
import { SOL_SOCKET, SO_RCVBUF, type Address, type DatagramProtocol, type DatagramTransport, type Socket } from 'selectloop/transports';
import 'selectloop/transports';

const argv = process.argv.slice(2);
const rcvbufAt = argv.indexOf('--rcvbuf');
const rcvbuf = rcvbufAt >= 0 ? Number(argv.splice(rcvbufAt, 2)[1]) : 0;
const port = Number(argv.find((a) => !a.startsWith('--')) ?? 0);

class Echo implements DatagramProtocol {
  private transport!: DatagramTransport;
  connectionMade(transport: DatagramTransport): void {
    this.transport = transport;
  }
  datagramReceived(data: Buffer, addr: Address | null): void {
    if (addr !== null) this.transport.sendto(data, addr);
  }
  connectionLost(): void {
    reactor.stop();
  }
}

const reactor = new Reactor();
const [transport] = reactor.createDatagramEndpoint(() => new Echo(), { localAddr: ['127.0.0.1', port] });
if (rcvbuf > 0) (transport.getExtraInfo('socket') as Socket).setsockopt(SOL_SOCKET, SO_RCVBUF, rcvbuf);
for (const signal of ['SIGINT', 'SIGTERM']) reactor.addSignalHandler(signal, () => transport.close());
const [host, bound] = transport.getExtraInfo('sockname') as [string, number];
console.log(`listening on ${host}:${bound}`);
reactor.runForever();
reactor.close();
