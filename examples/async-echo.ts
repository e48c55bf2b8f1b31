// A line echo server written with await: asyncio's streams example in TypeScript.
// Reactor.run attaches a reactor to Node's loop; startServer hands each connection a
// StreamReader and a StreamWriter; `for await` reads it line by line (a last line without "\n"
// is echoed too), and `await writer.drain()` keeps a client that does not read from making the
// server buffer without bound. Ctrl-C (SIGINT) or SIGTERM stops it: the server stops listening,
// open connections are closed, and Reactor.run closes the reactor.
//
//   node dist/examples/async-echo.js [port] [--quiet]      (port also from $PORT; 0 picks one)
import { Reactor, type StreamReader, type StreamWriter } from 'selectloop';

const args = process.argv.slice(2);
const quiet = args.includes('--quiet');
const portArg = args.find((a) => !a.startsWith('--')) ?? process.env.PORT ?? '8888';
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid port: ${portArg}`);
  process.exit(2);
}
const log = quiet ? () => {} : console.log;

async function echo(reader: StreamReader, writer: StreamWriter): Promise<void> {
  const peer = writer.getExtraInfo('peername');
  log('connection from', peer);
  try {
    for await (const line of reader) {
      writer.write(line);
      await writer.drain();
    }
  } finally {
    log('closing', peer);
    writer.close();
  }
}

await Reactor.run(async (reactor) => {
  const server = reactor.startServer(echo, { host: '127.0.0.1', port });
  const [host, boundPort] = server.address() as [string, number];
  console.log(`listening on ${host}:${boundPort}`);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM']) {
      reactor.addSignalHandler(signal, () => {
        console.log(`${signal}: shutting down`);
        resolve();
      });
    }
  });
  server.close();
  server.closeClients();
  // One more turn of the loop, so the closing connections flush and release their sockets.
  await new Promise((resolve) => reactor.callLater(10, () => resolve(undefined)));
});
