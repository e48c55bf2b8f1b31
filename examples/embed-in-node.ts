// An attached reactor inside an ordinary Node program: the line protocol (examples/line-protocol)
// served by a Reactor that Node's own event loop drives (reactor.attach()), next to a node:http
// status page — one process, one thread, no blocking call.
//   node dist/examples/embed-in-node.js [port] [httpPort] [--quiet]   (0 picks a free port)
//   curl http://127.0.0.1:HTTP_PORT/status  ->  {"connections":1,"totalConnections":3,"keys":2,"uptime":12.3}
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Reactor } from 'selectloop/loop';
import 'selectloop/transports';
import { LineProtocol } from './line-protocol.js';

const args = process.argv.slice(2);
const quiet = args.includes('--quiet');
const [portArg, httpPortArg] = args.filter((a) => !a.startsWith('--'));
const port = Number(portArg ?? process.env.PORT ?? 6380);
const httpPort = Number(httpPortArg ?? 0);
const log = quiet ? () => {} : console.log;
const started = performance.now();

// The protocol side: exactly as in a blocking program, only attach() instead of runForever().
const store = new Map<string, string>();
const reactor = new Reactor();
let totalConnections = 0;
const server = reactor.createServer(() => new LineProtocol({ store, log }), { host: '127.0.0.1', port });
server.on('connection', () => totalConnections++);
reactor.attach();

// The Node side: a plain node:http server that reads the reactor's state directly.
const http = createHttpServer((req, res) => {
  if (req.method === 'GET' && req.url === '/status') {
    const body = JSON.stringify({
      connections: server.connections,
      totalConnections,
      keys: store.size,
      uptime: Math.round((performance.now() - started) / 100) / 10, // seconds
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  }
});
await new Promise<void>((resolve, reject) => {
  http.once('error', reject);
  http.listen(httpPort, '127.0.0.1', resolve);
});
const httpAddr = http.address() as AddressInfo;
const [host, boundPort] = server.address() as [string, number];
console.log(`http on ${httpAddr.address}:${httpAddr.port}`);
console.log(`listening on ${host}:${boundPort}`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  reactor.addSignalHandler(signal, () => {
    log(`${signal}: shutting down`);
    server.close();
    http.close();
    http.closeAllConnections();
    // close() the reactor outside its own callback; Node then exits once nothing is left.
    setImmediate(() => reactor.close());
  });
}
