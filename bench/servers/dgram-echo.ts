// node:dgram's UDP echo, the baseline of `npm run bench:udp`: every datagram back to its sender.
//   node dist/bench/servers/dgram-echo.js [port] [--quiet]   (prints `listening on HOST:PORT`)
import { createSocket } from 'node:dgram';

const port = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 0);
const sock = createSocket('udp4');
sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
sock.on('error', (err) => console.error('error:', err.message));
sock.bind(port, '127.0.0.1', () => {
  const { address, port: bound } = sock.address();
  console.log(`listening on ${address}:${bound}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => sock.close());
