// A UDP echo server as a Reactor + DatagramProtocol: every datagram goes back to its sender.
//   node dist/examples/udp-echo.js [port] [--quiet]   (port also from $PORT; 0 picks one)
// Ctrl-C (SIGINT) or SIGTERM stops it cleanly: the endpoint sends what is queued, then closes.
import { Reactor } from 'selectloop/loop';
import { type Address, type DatagramProtocol, type DatagramTransport } from 'selectloop/transports';
import 'selectloop/transports';

const quiet = process.argv.includes('--quiet');
const port = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? process.env.PORT ?? 1234);
const log = quiet ? () => {} : console.log;

class UdpEcho implements DatagramProtocol {
  private transport!: DatagramTransport;

  connectionMade(transport: DatagramTransport): void {
    this.transport = transport;
  }

  datagramReceived(data: Buffer, addr: Address | null): void {
    if (!quiet) log(`${data.length} bytes from ${JSON.stringify(addr)}`);
    // An unnamed AF_UNIX sender has no address to answer; a UDP sender always has one.
    if (addr !== null) this.transport.sendto(data, addr);
  }

  errorReceived(err: Error): void {
    log('error:', err.message); // ICMP reports and the like: the endpoint keeps serving
  }

  connectionLost(err: Error | null): void {
    log('closed', err ? `(${err.message})` : '');
    reactor.stop();
  }
}

const reactor = new Reactor();
const [transport] = reactor.createDatagramEndpoint(() => new UdpEcho(), { localAddr: ['127.0.0.1', port] });
for (const signal of ['SIGINT', 'SIGTERM']) {
  reactor.addSignalHandler(signal, () => {
    log(`${signal}: shutting down`);
    transport.close(); // connectionLost stops the reactor
  });
}

// Printed once Ctrl-C is handled: whoever waits for this line may signal right away.
const [host, boundPort] = transport.getExtraInfo('sockname') as [string, number];
console.log(`listening on ${host}:${boundPort}`);

reactor.runForever();
reactor.close();
