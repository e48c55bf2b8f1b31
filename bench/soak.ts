// Soak: a Reactor echo server (attached to Node's loop) under churn for N minutes, with Node `net`
// clients that echo random sizes, half-close, abort and reset (RST: resetAndDestroy, SO_LINGER 0),
// plus timer churn and pipe transports. Every 30 s the churn pauses until everything in flight has
// finished, then it prints fds (/proc/self/fd), RSS and heap (after a full GC). It fails if the fd
// count after warm-up ever grows, if RSS grows more than 10 % over the run, if an echo comes back
// wrong or the server holds transports nobody uses any more.
//
//   npm run soak -- --minutes N [--seed S] [--clients C]
import { connect, type Socket as NetSocket } from 'node:net';
import { readdirSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { Reactor, type Transport, type Protocol } from '../src/index.js';
import { pipe } from '../src/select/fds.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const minutes = arg('minutes', 1);
const seed = arg('seed', Date.now() % 100_000);
const inFlight = arg('clients', 24);
const reportEveryMs = Math.min(30_000, (minutes * 60_000) / 2);
// Long enough for the JIT, the young generation and malloc arenas to reach their working size.
const warmupMs = Math.min(30_000, (minutes * 60_000) / 2);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('soak: run with node --expose-gc (npm run soak does)');
  process.exit(2);
}

// mulberry32, seeded: a failing run can be repeated with --seed.
let state = seed >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const randInt = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

const failures: string[] = [];
const fail = (why: string) => {
  if (failures.length < 20) failures.push(why);
};

// ---- the server ------------------------------------------------------------------------------

const reactor = new Reactor();
reactor.setExceptionHandler((_r, ctx) => fail(`exception handler: ${ctx.message} ${String(ctx.exception)}`));
let serverOpen = 0;
class Echo implements Protocol {
  private t!: Transport;
  connectionMade(t: Transport) {
    this.t = t;
    serverOpen++;
  }
  dataReceived(d: Buffer) {
    this.t.write(d);
  }
  eofReceived() {
    return false; // closes once the echo is flushed: the client's half-close gets its bytes and EOF
  }
  connectionLost() {
    serverOpen--;
  }
}
const server = reactor.createServer(() => new Echo(), { host: '127.0.0.1', port: 0, backlog: 512 });
const port = (server.address() as [string, number])[1];
reactor.attach();

// ---- churn -----------------------------------------------------------------------------------

const counts = { echo: 0, halfClose: 0, abort: 0, reset: 0, idle: 0, pipes: 0, timersRun: 0, timersCancelled: 0 };
let clientsInFlight = 0;
let pipesInFlight = 0;
let paused = false;
let stopped = false;

const digest = (b: Buffer) => createHash('sha1').update(b).digest('hex');

function startClient(): void {
  clientsInFlight++;
  const kind = random();
  const size = random() < 0.7 ? randInt(1, 4096) : randInt(4097, 256 * 1024);
  const payload = randomBytes(size);
  const sock: NetSocket = connect(port, '127.0.0.1');
  const received: Buffer[] = [];
  let receivedBytes = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    clientsInFlight--;
    if (!paused && !stopped) setImmediate(startClient);
  };
  sock.on('error', () => {}); // resets from our own aborts are expected; correctness is checked on data
  sock.on('close', finish);
  if (kind < 0.45) {
    // Echo, then half-close once everything came back: the server's EOF follows.
    counts.echo++;
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (d: Buffer) => {
      received.push(d);
      receivedBytes += d.length;
      if (receivedBytes === size) sock.end();
      if (receivedBytes > size) fail(`echo: ${receivedBytes} bytes back for ${size}`);
    });
    sock.on('end', () => {
      if (receivedBytes !== size || digest(Buffer.concat(received)) !== digest(payload)) fail(`echo: ${receivedBytes}/${size} bytes or wrong content`);
    });
  } else if (kind < 0.7) {
    // Send and half-close at once: the echo of everything, then EOF.
    counts.halfClose++;
    sock.on('connect', () => sock.end(payload));
    sock.on('data', (d: Buffer) => {
      received.push(d);
      receivedBytes += d.length;
    });
    sock.on('end', () => {
      if (receivedBytes !== size || digest(Buffer.concat(received)) !== digest(payload)) fail(`half-close: ${receivedBytes}/${size} bytes or wrong content`);
    });
  } else if (kind < 0.82) {
    counts.abort++;
    sock.on('connect', () => {
      sock.write(payload);
      setTimeout(() => sock.destroy(), randInt(0, 5));
    });
  } else if (kind < 0.94) {
    // RST: SO_LINGER 0 then close (Node's resetAndDestroy).
    counts.reset++;
    sock.on('connect', () => {
      sock.write(payload);
      setTimeout(() => sock.resetAndDestroy(), randInt(0, 5));
    });
  } else {
    counts.idle++;
    sock.on('connect', () => sock.destroy());
  }
}

/** A pipe through two pipe transports: random bytes written, read back exactly, both ends closed. */
function startPipe(): void {
  pipesInFlight++;
  counts.pipes++;
  const [r, w] = pipe();
  const payload = randomBytes(randInt(1, 200_000));
  let got = 0;
  const chunks: Buffer[] = [];
  const done = () => {
    pipesInFlight--;
  };
  reactor.connectReadPipe(
    () => ({
      dataReceived: (d: Buffer) => {
        chunks.push(d);
        got += d.length;
      },
      eofReceived: () => {
        if (got !== payload.length || digest(Buffer.concat(chunks)) !== digest(payload)) fail(`pipe: ${got}/${payload.length} bytes`);
        return false;
      },
      connectionLost: done,
    }),
    r,
  );
  const [wt] = reactor.connectWritePipe(() => ({}), w);
  wt.write(payload);
  wt.close(); // flushes, then closes: the reader sees EOF
}

/** Timer churn: timers scheduled at random, a third of them cancelled; each must run or not. */
function timerChurn(): void {
  if (stopped) return;
  for (let i = 0; i < 50; i++) {
    const h = reactor.callLater(random() * 20, () => counts.timersRun++);
    if (random() < 0.33) {
      h.cancel();
      counts.timersCancelled++;
    }
  }
  if (!paused && pipesInFlight < 4) startPipe();
  reactor.callLater(10, timerChurn);
}

// ---- sampling --------------------------------------------------------------------------------

const fdCount = () => readdirSync('/proc/self/fd').length;
interface Sample {
  t: number;
  fds: number;
  rss: number;
  heap: number;
}
const samples: Sample[] = [];
const t0 = Date.now();

async function quiesce(): Promise<void> {
  paused = true;
  const limit = Date.now() + 30_000;
  while ((clientsInFlight > 0 || pipesInFlight > 0 || serverOpen > 0) && Date.now() < limit) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (clientsInFlight > 0 || pipesInFlight > 0 || serverOpen > 0) {
    fail(`did not quiesce in 30 s: ${clientsInFlight} clients, ${pipesInFlight} pipes, ${serverOpen} server transports open`);
  }
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function resume(): void {
  paused = false;
  for (let i = clientsInFlight; i < inFlight; i++) startClient();
}

async function sample(label: string): Promise<Sample> {
  await quiesce();
  const m = process.memoryUsage();
  const s = { t: (Date.now() - t0) / 1000, fds: fdCount(), rss: m.rss, heap: m.heapUsed };
  samples.push(s);
  const st = reactor.stats();
  console.log(
    `[soak] ${label.padEnd(8)} t=${s.t.toFixed(0).padStart(4)}s fds=${s.fds} rss=${(s.rss / 2 ** 20).toFixed(1)}MB heap=${(s.heap / 2 ** 20).toFixed(1)}MB` +
      ` conns=${counts.echo + counts.halfClose + counts.abort + counts.reset + counts.idle} (echo ${counts.echo}, half-close ${counts.halfClose}, abort ${counts.abort}, reset ${counts.reset}, idle ${counts.idle})` +
      ` pipes=${counts.pipes} timers=${counts.timersRun} run/${counts.timersCancelled} cancelled iterations=${st.iterations}`,
  );
  return s;
}

async function main(): Promise<void> {
  console.log(`[soak] ${minutes} min, seed ${seed}, ${inFlight} clients in flight, server on 127.0.0.1:${port}`);
  resume();
  timerChurn();
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  const base = await sample('warm-up');
  resume();
  const end = t0 + minutes * 60_000;
  while (Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(reportEveryMs, end - Date.now()))));
    const s = await sample(Date.now() >= end ? 'final' : 'sample');
    if (s.fds > base.fds) fail(`fds grew after warm-up: ${base.fds} -> ${s.fds} at t=${s.t}s`);
    if (Date.now() < end) resume();
  }
  stopped = true;
  const last = samples[samples.length - 1]!;
  const growth = last.rss / base.rss - 1;
  console.log(`[soak] RSS ${(base.rss / 2 ** 20).toFixed(1)}MB after warm-up -> ${(last.rss / 2 ** 20).toFixed(1)}MB at the end (${(growth * 100).toFixed(1)} %), fds ${base.fds} -> ${last.fds}`);
  if (growth > 0.1) fail(`RSS grew ${(growth * 100).toFixed(1)} % over the run (limit 10 %)`);
  server.close();
  reactor.detach();
  reactor.close();
  if (failures.length > 0) {
    console.log(`[soak] FAILED (seed ${seed}):\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }
  console.log('[soak] passed');
}

await main();
