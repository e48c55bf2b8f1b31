// node:dgram's UDP echo, the baseline of `npm run bench:udp`: every datagram back to its sender.
//   node dist/bench/servers/dgram-echo.js [port] [--quiet] [--rcvbuf BYTES]   (prints `listening on HOST:PORT`)
import { createSocket } from 'node:dgram';

const argv = process.argv.slice(2);
const rcvbufAt = argv.indexOf('--rcvbuf');
const rcvbuf = rcvbufAt >= 0 ? Number(argv.splice(rcvbufAt, 2)[1]) : 0;
const port = Number(argv.find((a) => !a.startsWith('--')) ?? 0);
const sock = createSocket({ type: 'udp4', ...(rcvbuf > 0 ? { recvBufferSize: rcvbuf } : {}) });
sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
sock.on('error', (err) => console.error('error:', err.message));
sock.bind(port, '127.0.0.1', () => {
  const { address, port: bound } = sock.address();
  console.log(`listening on ${address}:${bound}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => sock.close());
