// One side of one scenario of `npm run bench:timers`, run in its own child process so that peak
// RSS (process.resourceUsage().maxRSS) belongs to that side alone. Prints one JSON line on stdout.
//
//   node dist/bench/timers-worker.js <timers|soon> <selectloop|node> [--timers N] [--soon N] [--chains K] [--seed S]
//
// timers: schedule N timers with delays drawn from a seeded PRNG, integer ms in [0, 100) (Node keys
//         its timer lists by duration, so integer delays are the shape Node is built for; the same
//         delays are used on both sides), then cancel every other one (odd indices) and run until
//         the N/2 live ones have fired. Wall time covers scheduling + cancelling + firing.
// soon:   N callbacks through callSoon / setImmediate. K independent chains are started; every
//         callback schedules the next one of its chain until N callbacks have been scheduled, so
//         each iteration of either loop runs K callbacks (K = 1: one callback per iteration).
import { readFileSync, writeFileSync } from 'node:fs';
import { Reactor } from '../src/loop/index.js';

export interface WorkerResult {
  scenario: string;
  side: string;
  /** ms, scheduling start -> last callback */
  wallMs: number;
  /** ms spent scheduling (and cancelling), included in wallMs */
  scheduleMs: number;
  /** peak RSS of this process, bytes */
  maxRss: number;
  /** RSS right before the scenario started, bytes */
  baseRss: number;
  callbacks: number;
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

/** mulberry32: tiny, fast, fixed-seed PRNG. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const [scenario, side] = process.argv.slice(2) as [string, string];
const N_TIMERS = arg('--timers', 1_000_000);
const N_SOON = arg('--soon', 10_000_000);
const CHAINS = arg('--chains', 1);
const SEED = arg('--seed', 0x5eed);

const now = (): number => performance.now();

/**
 * Starts peak-RSS tracking afresh (Linux: writing 5 to /proc/self/clear_refs resets VmHWM), so the
 * peak is the scenario's own and not start-up's (module loading can peak above the baseline).
 */
function resetPeakRss(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux: the peak then covers the whole process
  }
}

/** Peak RSS in bytes since resetPeakRss(): VmHWM where /proc has it, else getrusage. */
function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // fall through
  }
  return process.resourceUsage().maxRSS * 1024;
}

function report(r: Omit<WorkerResult, 'maxRss' | 'scenario' | 'side'>): void {
  const out: WorkerResult = { scenario, side, ...r, maxRss: peakRss() };
  process.stdout.write(JSON.stringify(out) + '\n');
}

function delays(n: number): Uint8Array {
  const rand = mulberry32(SEED);
  const d = new Uint8Array(n);
  for (let i = 0; i < n; i++) d[i] = Math.floor(rand() * 100);
  return d;
}

function timersSelectloop(): void {
  const d = delays(N_TIMERS);
  const reactor = new Reactor();
  const live = N_TIMERS - (N_TIMERS >> 1);
  let fired = 0;
  let end = 0;
  const cb = (): void => {
    if (++fired === live) {
      end = now();
      reactor.stop();
    }
  };
  global.gc?.();
  const baseRss = process.memoryUsage.rss();
  resetPeakRss();
  const start = now();
  let handles: ReturnType<Reactor['callLater']>[] | null = new Array(N_TIMERS);
  for (let i = 0; i < N_TIMERS; i++) handles[i] = reactor.callLater(d[i]!, cb);
  for (let i = 1; i < N_TIMERS; i += 2) handles[i]!.cancel();
  handles = null;
  const scheduleMs = now() - start;
  reactor.runForever();
  reactor.close();
  report({ wallMs: end - start, scheduleMs, baseRss, callbacks: fired });
}

function timersNode(): void {
  const d = delays(N_TIMERS);
  const live = N_TIMERS - (N_TIMERS >> 1);
  let fired = 0;
  let start = 0;
  let scheduleMs = 0;
  let baseRss = 0;
  const cb = (): void => {
    if (++fired === live) report({ wallMs: now() - start, scheduleMs, baseRss, callbacks: fired });
  };
  global.gc?.();
  baseRss = process.memoryUsage.rss();
  resetPeakRss();
  start = now();
  let handles: NodeJS.Timeout[] | null = new Array(N_TIMERS);
  for (let i = 0; i < N_TIMERS; i++) handles[i] = setTimeout(cb, d[i]!);
  for (let i = 1; i < N_TIMERS; i += 2) clearTimeout(handles[i]);
  handles = null;
  scheduleMs = now() - start;
}

function soonSelectloop(): void {
  const reactor = new Reactor();
  let scheduled = 0;
  let done = 0;
  let end = 0;
  const cb = (): void => {
    if (scheduled < N_SOON) {
      scheduled++;
      reactor.callSoon(cb);
    }
    if (++done === N_SOON) {
      end = now();
      reactor.stop();
    }
  };
  global.gc?.();
  const baseRss = process.memoryUsage.rss();
  resetPeakRss();
  const start = now();
  for (let i = 0; i < CHAINS && scheduled < N_SOON; i++) {
    scheduled++;
    reactor.callSoon(cb);
  }
  const scheduleMs = now() - start;
  reactor.runForever();
  reactor.close();
  report({ wallMs: end - start, scheduleMs, baseRss, callbacks: done });
}

function soonNode(): void {
  let scheduled = 0;
  let done = 0;
  let start = 0;
  let scheduleMs = 0;
  let baseRss = 0;
  const cb = (): void => {
    if (scheduled < N_SOON) {
      scheduled++;
      setImmediate(cb);
    }
    if (++done === N_SOON) report({ wallMs: now() - start, scheduleMs, baseRss, callbacks: done });
  };
  global.gc?.();
  baseRss = process.memoryUsage.rss();
  resetPeakRss();
  start = now();
  for (let i = 0; i < CHAINS && scheduled < N_SOON; i++) {
    scheduled++;
    setImmediate(cb);
  }
  scheduleMs = now() - start;
}

const table: Record<string, () => void> = {
  'timers/selectloop': timersSelectloop,
  'timers/node': timersNode,
  'soon/selectloop': soonSelectloop,
  'soon/node': soonNode,
};
const fn = table[`${scenario}/${side}`];
if (fn === undefined) {
  process.stderr.write(`usage: timers-worker.js <timers|soon> <selectloop|node> [options]\n`);
  process.exit(2);
}
fn();
