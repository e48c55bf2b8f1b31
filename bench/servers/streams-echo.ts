// The echo as asyncio streams: Reactor.run + startServer, `await reader.read()` then write and
// `await writer.drain()`. Against the attached Protocol echo (examples/echo-protocol.js --attach)
// it measures what the promise layer costs.
//   node dist/bench/servers/streams-echo.js <port> [--quiet]      (0 picks a port)
import { Reactor } from 'selectloop/loop';
import 'selectloop/transports';

const quiet = process.argv.includes('--quiet');
const port = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? process.env.PORT ?? 1234);
const log = quiet ? () => {} : console.log;

await Reactor.run(async (reactor) => {
  const server = reactor.startServer(
    async (reader, writer) => {
      try {
        for (;;) {
          const data = await reader.read(256 * 1024);
          if (data.length === 0) break;
          writer.write(data);
          await writer.drain();
        }
      } catch (err) {
        log('connection failed', err);
      } finally {
        writer.close();
      }
    },
    { host: '127.0.0.1', port },
  );
  const [host, boundPort] = server.address() as [string, number];
  console.log(`listening on ${host}:${boundPort}`);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM']) reactor.addSignalHandler(signal, () => resolve());
  });
  server.close();
  server.abortClients();
});
