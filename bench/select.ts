// Microbenchmark: microseconds per selector.select(0) with N idle registered fds plus one active
// fd (a pipe holding one unread byte, so every call returns exactly one ready key), for
// SelectSelector (N <= 1000: FD_SETSIZE), PollSelector and EpollSelector. When python3 is around,
// bench/select_python.py runs the same matrix on CPython's selectors module, paired: for every
// configuration the two sides take turns, one sample each per round, and the speedup is the median
// of the per-round ratios (on a shared machine absolute figures drift; a ratio of samples taken
// back to back does much less).
//
//   npm run bench:select                   # markdown table
//   npm run bench:select -- --json         # machine-readable
//   options: --ns 10,1000,10000  --backends select,poll,epoll  --target-ms 300  --repeats 5  --no-python
//
// Idle fds: both ends of N/2 pipes, each registered for EVENT_READ. A pipe's read end is idle while
// it is empty; its write end never reports readability (it is only ever writable, and writability
// is not asked for), so it is idle too. Using both ends halves the fds needed, which is what lets
// the N = 1000 select() set fit below FD_SETSIZE = 1024. The fd pool is created once, lowest fds
// first, and every configuration registers the first N of it.
//
// Measurement: ~100 ms of warm-up, then K calls timed with K chosen so one measurement lasts about
// --target-ms; --repeats rounds, each one sample of ours and one of CPython's (alternating which
// goes first); the medians and the median per-round ratio are reported.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EpollSelector, PollSelector, SelectSelector, EVENT_READ } from '../src/selectors/index.js';
import type { BaseSelector } from '../src/selectors/index.js';
import { pipe, write, closeFd } from '../src/select/fds.js';
import { native } from '../src/select/native.js';

interface Options {
  json: boolean;
  ns: number[];
  backends: string[];
  targetMs: number;
  repeats: number;
  python: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { json: false, ns: [10, 1000, 10000], backends: ['select', 'poll', 'epoll'], targetMs: 300, repeats: 5, python: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--json') o.json = true;
    else if (a === '--no-python') o.python = false;
    else if (a === '--ns') o.ns = val().split(',').map(Number);
    else if (a === '--backends') o.backends = val().split(',');
    else if (a === '--target-ms') o.targetMs = Number(val());
    else if (a === '--repeats') o.repeats = Number(val());
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const maxN = Math.max(...opts.ns);
const FD_HEADROOM = 64;

// --- RLIMIT_NOFILE: Node has no setrlimit, so re-exec under a shell that raises the soft limit. ---
function shellLimit(flag: '-n' | '-Hn'): number {
  const out = execFileSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).trim();
  return out === 'unlimited' ? Infinity : Number(out);
}

const needFds = maxN + 2 + FD_HEADROOM;
if (shellLimit('-n') < needFds && process.env.SELECTLOOP_BENCH_REEXEC !== '1') {
  const hard = shellLimit('-Hn');
  const soft = Math.min(hard, 65536);
  const quoted = [process.execPath, ...process.execArgv, ...process.argv.slice(1)].map((s) => `'${s.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('sh', ['-c', `ulimit -n ${soft} && exec ${quoted}`], {
    stdio: 'inherit',
    env: { ...process.env, SELECTLOOP_BENCH_REEXEC: '1' },
  });
  process.exit(r.status ?? 1);
}
const fdLimit = shellLimit('-n');

// --- fd pool ---
const allFds: number[] = [];
const [activeR, activeW] = pipe();
allFds.push(activeR, activeW);
write(activeW, 'x'); // never read: the read end stays ready for the whole run

const idle: number[] = [];
const notes: string[] = [];
// Leave FD_HEADROOM fds for Node's own, the selector's epoll fd and the Python probe's pipes.
const poolTarget = Math.min(maxN, Number.isFinite(fdLimit) ? Math.max(0, fdLimit - FD_HEADROOM - 2) & ~1 : maxN);
if (poolTarget < maxN) notes.push(`ulimit -n is ${fdLimit} (hard limit ${shellLimit('-Hn')}): only ${poolTarget} idle fds, larger N skipped; raise the hard limit to run them`);
try {
  while (idle.length < poolTarget) {
    const [r, w] = pipe();
    allFds.push(r, w);
    idle.push(r, w);
  }
} catch (err) {
  notes.push(`could only create ${idle.length} idle fds (${(err as Error).message}; ulimit -n is ${fdLimit}); larger N skipped`);
}
idle.sort((a, b) => a - b);

function closeAll(): void {
  for (const fd of allFds) {
    try {
      closeFd(fd);
    } catch {
      /* already closed */
    }
  }
  allFds.length = 0;
}

// --- measurement ---
type Ctor = new () => BaseSelector<unknown>;
const backendClasses: Record<string, [string, Ctor, boolean]> = {
  select: ['SelectSelector', SelectSelector, true],
  poll: ['PollSelector', PollSelector, native.backends.poll],
  epoll: ['EpollSelector', EpollSelector, native.backends.epoll],
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs k select(0) calls; returns elapsed nanoseconds. Checks every call reported exactly one key. */
function timeLoop(sel: BaseSelector<unknown>, k: number): number {
  let ready = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < k; i++) ready += sel.select(0).length;
  const t1 = process.hrtime.bigint();
  if (ready !== k) throw new Error(`expected ${k} ready keys in ${k} calls, got ${ready}`);
  return Number(t1 - t0);
}

/** Warms up (~100 ms) and returns the call count K for one sample of about --target-ms. */
function calibrate(sel: BaseSelector<unknown>): number {
  let k = 1;
  let ns = 0;
  const warmStart = process.hrtime.bigint();
  for (;;) {
    ns = timeLoop(sel, k);
    if (ns >= 20e6 && Number(process.hrtime.bigint() - warmStart) >= 100e6) break;
    if (ns < 20e6) k *= 2;
  }
  return Math.max(1, Math.round((k * opts.targetMs * 1e6) / ns));
}

interface Row {
  backend: string;
  n: number;
  ours: number | null;
  python: number | null;
  speedup: number | null;
  pythonThreaded?: number | null;
  speedupThreaded?: number | null;
  k?: number;
  samples?: number[];
  pythonSamples?: number[];
  note?: string;
}

/** CPython's side as a child answering one JSON request per line (select_python.py --serve). */
class PythonPeer {
  private readonly child;
  private readonly lines: AsyncIterator<string>;
  constructor(script: string, maxN: number, withThread: boolean) {
    const argv = [script, '--serve', String(maxN), ...(withThread ? ['--with-thread'] : [])];
    this.child = spawn('python3', argv, { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }
  async request(req: Record<string, unknown>): Promise<Record<string, number | string>> {
    this.child.stdin!.write(`${JSON.stringify(req)}\n`);
    const line = await this.lines.next();
    if (line.done) throw new Error('select_python.py exited');
    return JSON.parse(line.value) as Record<string, number | string>;
  }
  close(): void {
    this.child.stdin!.end();
  }
}

const pyScript = fileURLToPath(new URL('../../bench/select_python.py', import.meta.url));
let pythonInfo: string | null = null;
let peer: PythonPeer | null = null;
// CPython with one idle thread: poll()/select() then pay the kernel's per-fd reference counting
// that a multi-threaded process (every Node process) always pays; shows what is the kernel's.
let threadedPeer: PythonPeer | null = null;
if (opts.python) {
  const probe = spawnSync('python3', ['-c', 'import selectors, sys; print(sys.version.split()[0])'], { encoding: 'utf8' });
  if (probe.status === 0 && existsSync(pyScript)) {
    pythonInfo = `CPython ${probe.stdout.trim()}`;
    peer = new PythonPeer(pyScript, maxN, false);
    threadedPeer = new PythonPeer(pyScript, maxN, true);
  } else {
    notes.push('python3 with selectors not found: Python column skipped');
  }
}

const rows: Row[] = [];
try {
  for (const b of opts.backends) {
    const entry = backendClasses[b];
    if (!entry) throw new Error(`unknown backend ${b}`);
    const [name, Cls, available] = entry;
    for (const n of opts.ns) {
      if (!available) {
        rows.push({ backend: name, n, ours: null, python: null, speedup: null, note: 'not available here' });
        continue;
      }
      let fds = idle;
      if (b === 'select') {
        if (n >= native.FD_SETSIZE) continue; // FD_SETSIZE: not applicable
        fds = idle.filter((fd) => fd < native.FD_SETSIZE);
        if (activeR >= native.FD_SETSIZE) continue;
      }
      if (fds.length < n) {
        rows.push({ backend: name, n, ours: null, python: null, speedup: null, note: 'not enough fds' });
        continue;
      }
      const sel = new Cls();
      try {
        for (let i = 0; i < n; i++) sel.register(fds[i]!, EVENT_READ);
        sel.register(activeR, EVENT_READ);
        const k = calibrate(sel);
        let kPy = 0;
        if (peer && threadedPeer) {
          const setup = await peer.request({ op: 'setup', backend: b, n, target_ms: opts.targetMs });
          await threadedPeer.request({ op: 'setup', backend: b, n, target_ms: opts.targetMs });
          if (typeof setup['k'] === 'number') kPy = setup['k'];
          else notes.push(`CPython ${name} N=${n}: ${setup['error']}`);
        }
        const ours: number[] = [];
        const theirs: number[] = [];
        const theirsThreaded: number[] = [];
        const sample = async (p: PythonPeer) => (await p.request({ op: 'sample', k: kPy }))['us'] as number;
        for (let r = 0; r < opts.repeats; r++) {
          // Alternate who goes first, so neither side always follows the other's cache footprint.
          if (kPy && r % 2 === 1) theirs.push(await sample(peer!));
          ours.push(timeLoop(sel, k) / k / 1000);
          if (kPy && r % 2 === 0) theirs.push(await sample(peer!));
          if (kPy) theirsThreaded.push(await sample(threadedPeer!));
        }
        if (peer && threadedPeer) {
          await peer.request({ op: 'teardown' });
          await threadedPeer.request({ op: 'teardown' });
        }
        const row: Row = { backend: name, n, ours: median(ours), python: null, speedup: null, k, samples: ours };
        if (theirs.length === ours.length) {
          row.python = median(theirs);
          row.pythonSamples = theirs;
          row.speedup = median(theirs.map((t, i) => t / ours[i]!));
          row.pythonThreaded = median(theirsThreaded);
          row.speedupThreaded = median(theirsThreaded.map((t, i) => t / ours[i]!));
        }
        rows.push(row);
      } finally {
        sel.close();
      }
    }
  }
} finally {
  closeAll();
  peer?.close();
  threadedPeer?.close();
}

// --- report ---
const fmt = (x: number | null, d = 2): string => (x === null ? 'n/a' : x.toFixed(d));
if (opts.json) {
  console.log(
    JSON.stringify(
      { node: process.version, python: pythonInfo, platform: `${process.platform}-${process.arch}`, targetMs: opts.targetMs, repeats: opts.repeats, fdLimit, rows, notes },
      null,
      2,
    ),
  );
} else {
  console.log(`select(0) cost, N idle fds + 1 ready fd; median of ${opts.repeats} paired rounds x ~${opts.targetMs} ms per side (Node ${process.version}${pythonInfo ? `, ${pythonInfo}` : ''})\n`);
  console.log('| backend | N | selectloop µs/select | Python µs/select | speedup | Python + 1 thread µs | speedup vs it |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  const fx = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${x.toFixed(2)}×`);
  for (const r of rows) {
    if (r.note) console.log(`| ${r.backend} | ${r.n} | skipped: ${r.note} | | | | |`);
    else console.log(`| ${r.backend} | ${r.n} | ${fmt(r.ours)} | ${fmt(r.python)} | ${fx(r.speedup)} | ${fmt(r.pythonThreaded ?? null)} | ${fx(r.speedupThreaded)} |`);
  }
  console.log('\nspeedup = median over the rounds of Python µs / selectloop µs within the round (> 1: selectloop is faster). SelectSelector only for N < FD_SETSIZE (1024). ' +
    '"Python + 1 thread": CPython with one idle thread started, sampled in the same rounds; in a process with more than one thread the kernel ' +
    'takes and drops a reference on every fd poll()/select() looks at (its fd table is shared), which single-threaded CPython skips and every Node process pays.');
  for (const n of notes) console.log(`note: ${n}`);
}
