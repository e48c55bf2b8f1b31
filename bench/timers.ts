// Timer and callSoon benchmark: selectloop's Reactor next to Node's own timers, in the same run.
//
//   npm run bench:timers                  # markdown table
//   npm run bench:timers -- --json        # machine-readable
//   options: --repeats 3  --chain-repeats 1  --timers 1000000  --soon 10000000  --chains 1000  --seed 24301
//
// Scenarios (each side of each one runs in its own child process, bench/timers-worker.ts, so the
// peak RSS reported is that side's alone; the child resets the kernel's high-water mark right
// before the scenario starts, so start-up does not count, and reads VmHWM when it ends):
//   timers       schedule --timers timers with fixed-seed random integer delays in [0, 100) ms, cancel
//                every other one, run until the rest fired. Reactor.callLater/TimerHandle.cancel vs
//                setTimeout/clearTimeout.
//   soon/chain   --soon callbacks, each scheduling the next: one callback per loop iteration.
//                Reactor.callSoon vs setImmediate (both run what a callback queues in the next
//                iteration, so this is also one backend poll per callback on both sides).
//   soon/batch   the same count as --chains independent chains: --chains callbacks per iteration,
//                which measures the queues rather than the per-iteration poll.
// Each side is run --repeats times (soon/chain: --chain-repeats), alternating sides; the median
// wall time and the median peak RSS are reported. ratio = selectloop / Node (below 1: selectloop
// is faster or smaller).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerResult } from './timers-worker.js';

interface Options {
  json: boolean;
  repeats: number;
  chainRepeats: number;
  timers: number;
  soon: number;
  chains: number;
  seed: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { json: false, repeats: 3, chainRepeats: 3, timers: 1_000_000, soon: 10_000_000, chains: 1000, seed: 0x5eed };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 1) throw new Error(`${a} needs a positive number`);
      return v;
    };
    if (a === '--json') o.json = true;
    else if (a === '--repeats') o.repeats = num();
    else if (a === '--chain-repeats') o.chainRepeats = num();
    else if (a === '--timers') o.timers = num();
    else if (a === '--soon') o.soon = num();
    else if (a === '--chains') o.chains = num();
    else if (a === '--seed') o.seed = num();
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const worker = fileURLToPath(new URL('./timers-worker.js', import.meta.url));
const SIDES = ['selectloop', 'node'] as const;
type Side = (typeof SIDES)[number];

function runWorker(scenario: string, side: Side, extra: string[]): WorkerResult {
  const args = ['--expose-gc', worker, scenario, side, '--seed', String(opts.seed), ...extra];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 90_000, maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${scenario}/${side} failed (status ${r.status}, signal ${r.signal}):\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as WorkerResult;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface SideSummary {
  wallMs: number;
  scheduleMs: number;
  maxRssMB: number;
  baseRssMB: number;
  runs: { wallMs: number; scheduleMs: number; maxRssMB: number }[];
}

interface ScenarioResult {
  name: string;
  label: string;
  callbacks: number;
  selectloop: SideSummary;
  node: SideSummary;
}

const MB = 1024 * 1024;

function scenario(name: string, label: string, workerScenario: string, extra: string[], repeats: number): ScenarioResult {
  const runs: Record<Side, WorkerResult[]> = { selectloop: [], node: [] };
  for (let i = 0; i < repeats; i++) {
    // Alternate which side goes first so drift in machine load does not favour one side.
    const order = i % 2 === 0 ? SIDES : [...SIDES].reverse();
    for (const side of order) {
      runs[side].push(runWorker(workerScenario, side, extra));
      if (!opts.json) process.stderr.write('.');
    }
  }
  const summary = (rs: WorkerResult[]): SideSummary => ({
    wallMs: median(rs.map((r) => r.wallMs)),
    scheduleMs: median(rs.map((r) => r.scheduleMs)),
    maxRssMB: median(rs.map((r) => r.maxRss / MB)),
    baseRssMB: median(rs.map((r) => r.baseRss / MB)),
    runs: rs.map((r) => ({ wallMs: r.wallMs, scheduleMs: r.scheduleMs, maxRssMB: r.maxRss / MB })),
  });
  return { name, label, callbacks: runs.selectloop[0]!.callbacks, selectloop: summary(runs.selectloop), node: summary(runs.node) };
}

const started = performance.now();
const results: ScenarioResult[] = [
  scenario('timers', `${opts.timers.toLocaleString('en')} timers, every other cancelled`, 'timers', ['--timers', String(opts.timers)], opts.repeats),
  scenario('soon-chain', `callSoon vs setImmediate ×${opts.soon.toLocaleString('en')}, 1 chain`, 'soon', ['--soon', String(opts.soon), '--chains', '1'], opts.chainRepeats),
  scenario('soon-batch', `callSoon vs setImmediate ×${opts.soon.toLocaleString('en')}, ${opts.chains} chains`, 'soon', ['--soon', String(opts.soon), '--chains', String(opts.chains)], opts.repeats),
];
const totalS = (performance.now() - started) / 1000;

if (opts.json) {
  process.stdout.write(JSON.stringify({ node: process.version, platform: `${process.platform}-${process.arch}`, options: opts, totalSeconds: totalS, results }, null, 2) + '\n');
} else {
  process.stderr.write('\n');
  const f0 = (x: number): string => x.toFixed(0);
  const ratio = (a: number, b: number): string => (a / b).toFixed(2);
  const rate = (ms: number, n: number): string => `${((n / ms) * 1000 / 1e6).toFixed(1)} M/s`;
  const rows: string[][] = [];
  for (const r of results) {
    const s = r.selectloop;
    const n = r.node;
    const wall = r.name === 'timers' ? (x: SideSummary): string => `${f0(x.wallMs)} ms (sched ${f0(x.scheduleMs)})` : (x: SideSummary): string => `${f0(x.wallMs)} ms (${rate(x.wallMs, r.callbacks)})`;
    rows.push([`${r.label}: wall`, wall(s), wall(n), ratio(s.wallMs, n.wallMs)]);
    const peak = (x: SideSummary): string => `${f0(x.maxRssMB)} MB (+${f0(x.maxRssMB - x.baseRssMB)})`;
    rows.push([`${r.label}: peak RSS (above baseline)`, peak(s), peak(n), ratio(s.maxRssMB, n.maxRssMB)]);
  }
  const out = ['| scenario | selectloop | Node | ratio |', '|---|---:|---:|---:|', ...rows.map((r) => `| ${r.join(' | ')} |`)];
  process.stdout.write(out.join('\n') + '\n');
  process.stdout.write(
    `\nNode ${process.version} ${process.platform}-${process.arch}; median of ${opts.repeats} runs per side (1-chain: ${opts.chainRepeats}); ` +
      `each side in its own process; baseline RSS before the scenario ≈ ${f0(results[0]!.node.baseRssMB)} MB; ratio = selectloop / Node; total ${totalS.toFixed(1)} s\n`,
  );
}
