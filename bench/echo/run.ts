// Echo benchmark: selectloop's servers side by side with Node's `net`, driven by bench/loadgen.c.
//
//   npm run bench                  (= node dist/bench/echo/run.js)
//   npm run bench -- --quick       a short smoke run (1 rep, short scenarios, 1 000 idle conns)
//   npm run bench -- --json        machine-readable output instead of the markdown tables
//   npm run bench -- --only net,reactor    only the named servers (net and c are always included)
//   npm run bench -- --scenario idle       only the named scenarios (ids below: pp-50x64, bulk-8, ..., idle)
//   npm run bench -- --baseline name=DIR[,name=DIR]   adds the Reactor + Protocol echo of another build
//                                          (DIR: its dist/, e.g. a git worktree of an older commit, built),
//                                          measured in the same run: a change's cost before and after
//   npm run bench -- --workers N           adds examples/echo-workers.js with N reactors (worker_threads
//                                          on one SO_REUSEPORT port); pinned like every server, so on a
//                                          2-core machine it shows correctness and overhead, not scaling
//
// Every server runs pinned to core 0 and the load generator to core 1 (taskset, when there are two
// or more cores). Each figure is the median of the repetitions, each repetition measured after a
// warm-up; ratios are to Node's `net` echo and to the hand-written C server (bench/c-echo.c, the
// practical limit) in the same run, paired per round. Every row reports the server's CPU time per
// round trip (all its threads, user + system, read by the load generator from /proc/PID/stat over
// the measured interval). Servers are stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const asJson = args.includes('--json');
const onlyArg = args.find((a, i) => args[i - 1] === '--only');
const workersArg = args.find((a, i) => args[i - 1] === '--workers');
const baselineArg = args.find((a, i) => args[i - 1] === '--baseline');
const scenarioArg = args.find((a, i) => args[i - 1] === '--scenario');
if (workersArg !== undefined && !(Number.isInteger(Number(workersArg)) && Number(workersArg) >= 1)) {
  console.error(`bench: --workers needs a positive integer, got ${workersArg}`);
  process.exit(2);
}

const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const repoRoot = path.resolve(distRoot, '..');
const benchBinary = (name: string) => [path.join(repoRoot, 'build/Release', name), path.join(repoRoot, 'build', name)].find(existsSync);
const loadgen = benchBinary('loadgen');
const cEcho = benchBinary('c-echo');
if (!loadgen || !cEcho) {
  console.error('bench: build/loadgen or build/c-echo not found; build them with `npx cmake-js compile` (bench/loadgen.c, bench/c-echo.c)');
  process.exit(1);
}

const pin = availableParallelism() >= 2;
const REPS = quick ? 1 : 5;
const IDLE_REPS = quick ? 1 : 3;
const SECONDS = quick ? 0.5 : 0.8;
const WARMUP = quick ? 0.2 : 0.25;
const IDLE_CONNS = quick ? 1000 : 5000;
// The idle figure is measured twice, each on fresh servers: as a user sees it (no warm-up: the
// first connections also pay one-time costs, JIT compilation of the connection path and V8's young
// generation growing), and after this many connections were opened, echoed on and closed first
// (what a connection costs a server that has run a while).
const IDLE_WARMUP_CONNS = quick ? 200 : 1000;

/** A server: a script under dist/ run by this node, or (`binary`) an executable. */
interface ServerDef { id: string; name: string; file?: string; binary?: string; args?: string }
const allServers: ServerDef[] = [
  { id: 'c', name: 'hand-written C epoll (practical limit)', binary: cEcho },
  { id: 'net', name: "Node's net", file: 'bench/servers/net-echo.js' },
  { id: 'selectors', name: "docs' selectors echo", file: 'examples/echo-server.js' },
  { id: 'reactor', name: 'Reactor + Protocol (blocking)', file: 'examples/echo-protocol.js' },
  { id: 'attached', name: 'Reactor + Protocol (attached)', file: 'examples/echo-protocol.js', args: '--attach' },
  { id: 'buffered', name: 'BufferedProtocol (blocking)', file: 'bench/servers/buffered-echo.js' },
  { id: 'streams', name: 'streams, await (attached)', file: 'bench/servers/streams-echo.js' },
];
if (workersArg !== undefined) {
  allServers.push({ id: 'workers', name: `Reactor + Protocol × ${workersArg} worker_threads (SO_REUSEPORT)`, file: 'examples/echo-workers.js', args: `--workers ${workersArg}` });
}
const baselineIds: string[] = [];
for (const spec of baselineArg ? baselineArg.split(',') : []) {
  const m = /^([\w.-]+)=(.+)$/.exec(spec);
  const file = m ? path.resolve(m[2]!, 'examples/echo-protocol.js') : '';
  if (!m || !existsSync(file)) {
    console.error(`bench: --baseline takes name=DIR with DIR a built dist/ (DIR/examples/echo-protocol.js), got ${spec}`);
    process.exit(2);
  }
  baselineIds.push(m[1]!);
  allServers.push({ id: m[1]!, name: `Reactor + Protocol (blocking), ${m[1]} build`, file });
}
const only = onlyArg ? new Set(['c', 'net', ...(workersArg !== undefined ? ['workers'] : []), ...baselineIds, ...onlyArg.split(',')]) : null;
const servers = allServers.filter((s) => !only || only.has(s.id));

interface Scenario { id: string; title: string; mode: 'pingpong' | 'bulk'; conns: number; size: number }
const allScenarios: Scenario[] = [
  { id: 'pp-1x64', title: 'ping-pong 1 × 64 B (latency-bound, not a target)', mode: 'pingpong', conns: 1, size: 64 },
  { id: 'pp-50x64', title: 'ping-pong 50 × 64 B', mode: 'pingpong', conns: 50, size: 64 },
  { id: 'pp-10x1k', title: 'ping-pong 10 × 1 KiB', mode: 'pingpong', conns: 10, size: 1024 },
  { id: 'pp-50x4k', title: 'ping-pong 50 × 4 KiB', mode: 'pingpong', conns: 50, size: 4096 },
  { id: 'pp-10x10k', title: 'ping-pong 10 × 10 KiB', mode: 'pingpong', conns: 10, size: 10 * 1024 },
  { id: 'pp-10x100k', title: 'ping-pong 10 × 100 KiB', mode: 'pingpong', conns: 10, size: 100 * 1024 },
  { id: 'bulk-8', title: 'bulk 8 connections (256 KiB in flight each)', mode: 'bulk', conns: 8, size: 0 },
];
const chosenScenarios = scenarioArg ? new Set(scenarioArg.split(',')) : null;
for (const id of chosenScenarios ?? []) {
  if (id !== 'idle' && !allScenarios.some((sc) => sc.id === id)) {
    console.error(`bench: --scenario takes ids among ${[...allScenarios.map((sc) => sc.id), 'idle'].join(', ')}; got ${id}`);
    process.exit(2);
  }
}
const scenarios = allScenarios.filter((sc) => !chosenScenarios || chosenScenarios.has(sc.id));
const runIdle = !chosenScenarios || chosenScenarios.has('idle');

/** The idle rows: fresh servers with no warm-up (issue 15's figure), and after a warm-up. */
const idleRows = [
  { id: 'idle', warmupConns: 0, title: 'fresh server, no warm-up: what a user sees' },
  { id: 'idle-warm', warmupConns: IDLE_WARMUP_CONNS, title: `fresh server after ${IDLE_WARMUP_CONNS.toLocaleString('en-US')} warm-up connections opened and closed` },
] as const;

// ---- processes --------------------------------------------------------------------------------

const live = new Set<ChildProcess>();

function pinned(core: number, command: string): [string, string[]] {
  const sh = ['sh', '-c', `ulimit -n 20000 && exec ${command}`];
  return pin ? ['taskset', ['-c', String(core), ...sh]] : [sh[0]!, sh.slice(1)];
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

interface Running { def: ServerDef; child: ChildProcess; pid: number; port: number }

function startServer(def: ServerDef): Promise<Running> {
  const program = def.binary ? q(def.binary) : `${q(process.execPath)} ${q(path.resolve(distRoot, def.file!))}`;
  const [cmd, argv] = pinned(0, `${program} 0 --quiet${def.args ? ` ${def.args}` : ''}`);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.on('exit', () => live.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`${def.name}: no "listening on" line within 10 s`)), 10_000);
    const fail = (e: Error) => { clearTimeout(timer); stopServer(child); reject(e); };
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (.+):(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        if (m[1] !== '127.0.0.1') return fail(new Error(`${def.name}: listens on ${m[1]}, the load generator needs 127.0.0.1`));
        resolve({ def, child, pid: child.pid!, port: Number(m[2]) });
      }
    });
    child.on('exit', (code, signal) => fail(new Error(`${def.name} exited (${code ?? signal}) before listening: ${err.trim()}`)));
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => { try { process.kill(child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 2000);
    child.once('exit', () => { clearTimeout(kill); resolve(); });
    try { process.kill(child.pid!, 'SIGTERM'); } catch { clearTimeout(kill); resolve(); }
  });
}

function runLoadgen(argv: string[]): Promise<Record<string, number>> {
  const [cmd, a] = pinned(1, [q(loadgen!), ...argv].join(' '));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, a, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => { try { process.kill(child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      if (code === 0) {
        try { return resolve(JSON.parse(out)); } catch { /* fall through */ }
      }
      reject(new Error(`loadgen ${argv.join(' ')} failed (${code ?? signal}${code === 2 ? ': BYTE MISMATCH' : ''}): ${err.trim()}`));
    });
  });
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    for (const c of live) { try { process.kill(c.pid!, 'SIGKILL'); } catch { /* gone */ } }
    process.exit(130);
  });
}

// ---- measuring --------------------------------------------------------------------------------

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Cell { reps: Array<Record<string, number>>; median: Record<string, number>; error?: string }
const results: Record<string, Record<string, Cell>> = {};
const errors: string[] = [];
const started = Date.now();
const progress = (msg: string) => { if (!asJson) process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${msg}\n`); };

function summarize(reps: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(reps[0] ?? {})) if (typeof reps[0]![k] === 'number') out[k] = median(reps.map((r) => r[k]!));
  return out;
}

async function main(): Promise<void> {
  // Throughput scenarios: all servers up at once (idle ones sleep in epoll_wait), repetitions
  // interleaved across servers so that drift in the machine hits every server alike.
  progress(`servers: ${servers.map((s) => s.id).join(', ')}; ${REPS} reps × ${SECONDS} s after ${WARMUP} s warm-up; pinning ${pin ? 'on' : 'off'}`);
  const running: Running[] = [];
  try {
    if (scenarios.length > 0) for (const def of servers) running.push(await startServer(def));
    for (const sc of scenarios) {
      const row: Record<string, Cell> = (results[sc.id] = {});
      for (const r of running) row[r.def.id] = { reps: [], median: {} };
      for (let rep = 0; rep < REPS; rep++) {
        for (const r of running) {
          const cell = row[r.def.id]!;
          if (cell.error) continue;
          const argv = ['--port', String(r.port), '--mode', sc.mode, '--conns', String(sc.conns), '--seconds', String(SECONDS), '--warmup', String(WARMUP), '--pid', String(r.pid)];
          if (sc.mode === 'pingpong') argv.push('--size', String(sc.size));
          try {
            cell.reps.push(await runLoadgen(argv));
          } catch (e) {
            cell.error = (e as Error).message;
            errors.push(`${sc.id} / ${r.def.id}: ${cell.error}`);
          }
        }
        progress(`${sc.id} rep ${rep + 1}/${REPS} done`);
      }
      for (const cell of Object.values(row)) cell.median = summarize(cell.reps);
    }
  } finally {
    await Promise.all(running.map((r) => stopServer(r.child)));
  }

  // Idle connections: a fresh server for every repetition, so earlier garbage does not blur its RSS.
  if (!runIdle) return;
  for (const idle of idleRows) {
    const row: Record<string, Cell> = (results[idle.id] = {});
    for (const def of servers) {
      const cell: Cell = (row[def.id] = { reps: [], median: {} });
      try {
        for (let rep = 0; rep < IDLE_REPS; rep++) {
          const r = await startServer(def);
          try {
            await new Promise((res) => setTimeout(res, 300)); // let start-up settle before the "before" RSS
            cell.reps.push(await runLoadgen(['--port', String(r.port), '--mode', 'idle', '--conns', String(IDLE_CONNS), '--size', '64', '--pid', String(r.pid), '--warmup-conns', String(idle.warmupConns)]));
          } finally {
            await stopServer(r.child);
          }
        }
        cell.median = summarize(cell.reps);
      } catch (e) {
        cell.error = (e as Error).message;
        errors.push(`${idle.id} / ${def.id}: ${cell.error}`);
      }
      progress(`${idle.id} ${def.id} done`);
    }
  }
}

// ---- reporting --------------------------------------------------------------------------------

/**
 * server ÷ base for one figure: the median over the rounds of the ratio within each round (a round
 * runs every server once, back to back, so both sides of a ratio saw the same machine), or the
 * ratio of the medians when the rounds do not pair up (an error, or the idle scenario).
 */
function pairedRatio(sc: string, server: string, base: string, key: string): number | null {
  const b = results[sc]?.[base];
  const v = results[sc]?.[server];
  if (!b || !v || b.error || v.error) return null;
  if (b.reps.length === v.reps.length && b.reps.length > 0 && !sc.startsWith('idle')) {
    const ratios = v.reps.map((r, i) => r[key]! / b.reps[i]![key]!).filter(Number.isFinite);
    if (ratios.length === v.reps.length) return median(ratios);
  }
  const bm = b.median[key];
  const vm = v.median[key];
  return bm && vm !== undefined ? vm / bm : null;
}

function ratio(sc: string, server: string, key: string): number | null {
  return pairedRatio(sc, server, 'net', key);
}

function toC(sc: string, server: string, key: string): number | null {
  return pairedRatio(sc, server, 'c', key);
}

interface Target { what: string; value: number | null; want: string; ok: boolean | null }
function targets(): Target[] {
  const t: Target[] = [];
  const ge = (what: string, value: number | null, min: number) => t.push({ what, value, want: `≥ ${min}`, ok: value === null ? null : value >= min });
  const le = (what: string, value: number | null, max: number) => t.push({ what, value, want: `≤ ${max}`, ok: value === null ? null : value <= max });
  ge('Reactor (blocking) round trips/s at 50×64 B, × net', ratio('pp-50x64', 'reactor', 'rps'), 1.35);
  ge('Reactor (blocking) round trips/s at 10×1 KiB, × net', ratio('pp-10x1k', 'reactor', 'rps'), 1.35);
  ge('Reactor (blocking) bulk MB/s, × net', ratio('bulk-8', 'reactor', 'mb_per_s'), 2.5);
  le('Reactor (blocking) RSS per idle connection after warm-up, KB', results['idle-warm']?.['reactor']?.median['kb_per_conn'] ?? null, 1);
  ge("docs' selectors echo round trips/s at 50×64 B, × net", ratio('pp-50x64', 'selectors', 'rps'), 1.2);
  ge('attached / blocking Reactor round trips/s at 50×64 B', pairedRatio('pp-50x64', 'attached', 'reactor', 'rps'), 0.9);
  for (const sc of ['pp-50x64', 'pp-10x1k', 'pp-50x4k']) {
    ge(`Reactor (blocking) round trips/s at ${sc.slice(3)}, × C (issue 15)`, toC(sc, 'reactor', 'rps'), 0.95);
  }
  le('Reactor (blocking) server CPU per round trip at 50x64, × C (issue 15)', toC('pp-50x64', 'reactor', 'server_cpu_us_per_rt'), 1.1);
  const idleKb = results['idle']?.['reactor']?.median['kb_per_conn'];
  le('Reactor (blocking) RSS per idle connection, fresh server, bytes (issue 15)', idleKb === undefined ? null : idleKb * 1024, 600);
  return t;
}

const fmt = (x: number | undefined, d = 0) => (x === undefined ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const fx = (x: number | null) => (x === null ? '–' : `${x.toFixed(2)}×`);

function markdown(): string {
  const lines: string[] = [];
  lines.push(`# Echo benchmark (${new Date().toISOString()})`, '');
  lines.push(`node ${process.version}, ${availableParallelism()} cores, servers ${pin ? 'on core 0 and loadgen on core 1 (taskset)' : 'unpinned'}; ` +
    `median of ${REPS} rounds × ${SECONDS} s after ${WARMUP} s warm-up each (a round runs every server once, back to back; ` +
    `"× net" is the median of the per-round ratios); idle: median of ${IDLE_REPS} fresh servers; every byte verified by the load generator.`, '');
  for (const sc of scenarios) {
    lines.push(`## ${sc.title}`, '');
    if (sc.mode === 'pingpong') {
      lines.push('| server | round trips/s | × net | × C | server CPU µs/rt | CPU × C | p50 µs | p99 µs | MB/s |', '|---|--:|--:|--:|--:|--:|--:|--:|--:|');
      for (const s of servers) {
        const c = results[sc.id]?.[s.id];
        if (!c || c.error) { lines.push(`| ${s.name} | error | | | | | | | |`); continue; }
        lines.push(`| ${s.name} | ${fmt(c.median['rps'])} | ${fx(ratio(sc.id, s.id, 'rps'))} | ${fx(toC(sc.id, s.id, 'rps'))} | ` +
          `${fmt(c.median['server_cpu_us_per_rt'], 2)} | ${fx(toC(sc.id, s.id, 'server_cpu_us_per_rt'))} | ` +
          `${fmt(c.median['p50_us'], 1)} | ${fmt(c.median['p99_us'], 1)} | ${fmt(c.median['mb_per_s'], 1)} |`);
      }
    } else {
      lines.push('| server | echoed MB/s | × net | × C | server CPU µs/MB | CPU × C |', '|---|--:|--:|--:|--:|--:|');
      for (const s of servers) {
        const c = results[sc.id]?.[s.id];
        if (!c || c.error) { lines.push(`| ${s.name} | error | | | | |`); continue; }
        lines.push(`| ${s.name} | ${fmt(c.median['mb_per_s'], 1)} | ${fx(ratio(sc.id, s.id, 'mb_per_s'))} | ${fx(toC(sc.id, s.id, 'mb_per_s'))} | ` +
          `${fmt(c.median['server_cpu_us_per_mb'], 1)} | ${fx(toC(sc.id, s.id, 'server_cpu_us_per_mb'))} |`);
      }
    }
    lines.push('');
  }
  for (const idle of runIdle ? idleRows : []) {
    lines.push(`## ${IDLE_CONNS.toLocaleString('en-US')} idle connections (one 64 B echo each; ${idle.title})`, '');
    lines.push('| server | RSS before KB | RSS after KB | B per connection | × net |', '|---|--:|--:|--:|--:|');
    for (const s of servers) {
      const c = results[idle.id]?.[s.id];
      if (!c || c.error) { lines.push(`| ${s.name} | error | | | |`); continue; }
      lines.push(`| ${s.name} | ${fmt(c.median['rss_before_kb'])} | ${fmt(c.median['rss_after_kb'])} | ${fmt(c.median['kb_per_conn']! * 1024)} | ${fx(ratio(idle.id, s.id, 'kb_per_conn'))} |`);
    }
    lines.push('');
  }
  lines.push('## Targets (issues 6 and 15)', '', '| target | measured | wanted | met |', '|---|--:|--:|:-:|');
  for (const t of targets()) lines.push(`| ${t.what} | ${t.value === null ? '–' : t.value.toFixed(2)} | ${t.want} | ${t.ok === null ? '–' : t.ok ? 'yes' : 'no'} |`);
  if (errors.length) lines.push('', '## Errors', '', ...errors.map((e) => `- ${e}`));
  lines.push('', `Total time ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  return lines.join('\n');
}

try {
  await main();
} catch (e) {
  errors.push((e as Error).message);
}
if (asJson) {
  console.log(JSON.stringify({
    node: process.version, cores: availableParallelism(), pinned: pin, reps: REPS, seconds: SECONDS, warmup: WARMUP,
    idleConns: IDLE_CONNS, servers, scenarios, results, targets: targets(), errors, totalSeconds: (Date.now() - started) / 1000,
  }, null, 2));
} else {
  console.log(markdown());
}
process.exitCode = errors.length ? 1 : 0;
