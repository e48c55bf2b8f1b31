// A UDP client: sends each line as one datagram, prints each reply, and reports the lines whose
// reply did not come back in time (UDP may lose datagrams: a client has to say so, not hang).
//   node dist/examples/udp-client.js [--host H] [--port P] [--timeout MS] [line ...]
// With no lines on the command line it sends standard input, one datagram per line.
// Exits 0 when every line got its reply, 1 when some timed out.
import { readFileSync } from 'node:fs';
import { Reactor } from 'selectloop/loop';
import { type DatagramProtocol, type DatagramTransport } from 'selectloop/transports';
import 'selectloop/transports';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const host = option('--host') ?? '127.0.0.1';
const port = Number(option('--port') ?? process.env.PORT ?? 1234);
const timeoutMs = Number(option('--timeout') ?? 1000);
const lines = args.length > 0 ? args : readFileSync(0, 'utf8').split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);

const reactor = new Reactor();
const waiting = new Map<string, number>(); // line -> copies still expected

class UdpClient implements DatagramProtocol {
  connectionMade(transport: DatagramTransport): void {
    for (const line of lines) {
      waiting.set(line, (waiting.get(line) ?? 0) + 1);
      transport.sendto(line);
    }
    if (lines.length === 0) reactor.stop();
  }

  datagramReceived(data: Buffer): void {
    const text = data.toString('utf8');
    console.log(text);
    const left = (waiting.get(text) ?? 0) - 1;
    if (left > 0) waiting.set(text, left);
    else waiting.delete(text);
    if (waiting.size === 0) reactor.stop();
  }

  errorReceived(err: Error): void {
    console.error(`error: ${err.message}`); // e.g. ECONNREFUSED: nothing listens on that port
  }
}

const [transport] = reactor.createDatagramEndpoint(() => new UdpClient(), { remoteAddr: [host, port] });
const timer = reactor.callLater(timeoutMs, () => reactor.stop());
reactor.runForever();
timer.cancel();
transport.abort();
reactor.runOnce(0);
reactor.close();
if (waiting.size > 0) {
  for (const [line, count] of waiting) console.error(`timeout: no reply to ${JSON.stringify(line)}${count > 1 ? ` (×${count})` : ''} within ${timeoutMs} ms`);
  process.exitCode = 1;
}
