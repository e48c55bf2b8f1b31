// One Reactor per core: echo servers in worker_threads sharing one port through SO_REUSEPORT
// (Linux, the BSDs, macOS), so the kernel spreads incoming connections over them.
//   node dist/examples/echo-workers.js [port] [--workers N] [--quiet] [--announce]
// --workers N   how many (default: one per core, os.availableParallelism())
// --announce    each connection first receives "worker <i>\n" from the worker serving it (tests
//               use it to see the spread), then the echo as usual
// Ctrl-C (SIGINT) or SIGTERM stops every worker cleanly: each closes its server and connections and
// returns from runForever(); the process then exits with nothing left running.
//
// A worker blocks in runForever() (epoll_wait), so it cannot hear a postMessage; each one watches
// the read end of its own stop pipe instead, and the main thread writes one byte to stop it.
import { availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Reactor } from 'selectloop/loop';
import { pipe, write, closeFd, type Protocol, type Transport } from 'selectloop/transports';
import 'selectloop/transports';

interface WorkerConfig {
  index: number;
  port: number;
  stopFd: number;
  quiet: boolean;
  announce: boolean;
}

if (isMainThread) {
  await runMain();
} else {
  runWorker(workerData as WorkerConfig);
}

async function runMain(): Promise<void> {
  const args = process.argv.slice(2);
  const quiet = args.includes('--quiet');
  const announce = args.includes('--announce');
  const workersArg = args.indexOf('--workers');
  const count = workersArg >= 0 ? Number(args[workersArg + 1]) : availableParallelism();
  if (!Number.isInteger(count) || count < 1) {
    console.error(`--workers needs a positive integer, got ${args[workersArg + 1]}`);
    process.exit(2);
  }
  const portArg = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--workers');
  let port = Number(portArg ?? process.env.PORT ?? 1234);

  const stopPipes: Array<[number, number]> = [];
  const exited: Array<Promise<void>> = [];
  let failed = false;
  const start = (index: number): Promise<number> => {
    const stop = pipe();
    stopPipes.push(stop);
    const config: WorkerConfig = { index, port, stopFd: stop[0], quiet, announce };
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: config });
    exited.push(new Promise((resolve) => worker.once('exit', (code) => {
      if (code !== 0) failed = true;
      resolve();
    })));
    return new Promise((resolve, reject) => {
      worker.once('message', (m: { listening: number }) => resolve(m.listening));
      worker.once('error', reject);
    });
  };

  let stopping = false;
  const stopAll = (): void => {
    if (stopping) return;
    stopping = true;
    for (const [, w] of stopPipes) write(w, 'x');
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stopAll);

  try {
    // The first worker binds (port 0 picks one); the others join the port it got.
    port = await start(0);
    await Promise.all(Array.from({ length: count - 1 }, (_, i) => start(i + 1)));
  } catch (err) {
    console.error('a worker failed to start:', (err as Error).message);
    failed = true;
    stopAll();
  }
  if (!failed) {
    console.log(`listening on 127.0.0.1:${port}`);
    if (!quiet) console.log(`${count} workers; Ctrl-C stops them`);
  }
  await Promise.all(exited);
  for (const [r, w] of stopPipes) {
    closeFd(r);
    closeFd(w);
  }
  if (!quiet) console.log('all workers stopped');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, stopAll);
  process.exitCode = failed ? 1 : 0;
}

function runWorker(config: WorkerConfig): void {
  const greeting = config.announce ? Buffer.from(`worker ${config.index}\n`) : null;

  class EchoProtocol implements Protocol {
    private transport: Transport | null = null;

    connectionMade(transport: Transport): void {
      this.transport = transport;
      if (greeting !== null) transport.write(greeting);
    }

    dataReceived(data: Buffer): void {
      this.transport!.write(data);
    }
  }

  const reactor = new Reactor();
  const server = reactor.createServer(() => new EchoProtocol(), { host: '127.0.0.1', port: config.port, reusePort: true });
  reactor.addReader(config.stopFd, () => {
    reactor.removeReader(config.stopFd);
    server.close();
    server.closeClients();
    // Let the closes flush and connectionLost run, then stop.
    reactor.callSoon(() => reactor.callSoon(() => reactor.stop()));
  });
  parentPort!.postMessage({ listening: (server.address() as [string, number])[1] });
  reactor.runForever();
  reactor.close();
}
