// Node's own `net` echo server, the baseline of the echo benchmark.
//   node dist/bench/servers/net-echo.js <port> [--quiet]      (0 picks a port)
import * as net from 'node:net';

const quiet = process.argv.includes('--quiet');
const port = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? process.env.PORT ?? 1234);
const log = quiet ? () => {} : console.log;

const server = net.createServer((socket) => {
  log('connection from', socket.remoteAddress, socket.remotePort);
  socket.on('data', (d) => socket.write(d));
  socket.on('error', () => socket.destroy());
});
server.listen({ host: '127.0.0.1', port, backlog: 511 }, () => {
  const addr = server.address() as net.AddressInfo;
  console.log(`listening on ${addr.address}:${addr.port}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
