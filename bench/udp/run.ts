// UDP echo benchmark: selectloop's DatagramProtocol echo (examples/udp-echo) side by side with a
// node:dgram echo, driven by bench/udp-loadgen.c (N datagrams in flight, sendmmsg/recvmmsg, every
// payload verified, lost datagrams counted and reported).
//
//   npm run bench:udp              (= node dist/bench/udp/run.js)
//   npm run bench:udp -- --quick   a short smoke run (1 round)
//   npm run bench:udp -- --json    machine-readable output
//
// As `npm run bench`: each server pinned to core 0 and the load generator to core 1 (taskset, with
// two or more cores); rounds interleave the servers, and "× dgram" is the median of the per-round
// ratios, so both sides of a ratio saw the same machine. RSS is read from /proc/PID/status after
// each run.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const asJson = args.includes('--json');

const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const repoRoot = path.resolve(distRoot, '..');
const loadgen = [path.join(repoRoot, 'build/Release/udp-loadgen'), path.join(repoRoot, 'build/udp-loadgen')].find(existsSync);
if (!loadgen) {
  console.error('bench:udp: build/udp-loadgen not found; build it with `npx cmake-js compile` (bench/udp-loadgen.c, Linux)');
  process.exit(1);
}

const pin = availableParallelism() >= 2;
const ROUNDS = quick ? 1 : 5;
const SECONDS = quick ? 0.5 : 1;
const WARMUP = quick ? 0.2 : 0.3;
// In flight across 4 sockets, with both servers given the same 4 MiB receive buffer (capped by
// net.core.rmem_max) so that a burst does not overflow it and turn the run into a loss-timeout test.
const INFLIGHT = 512;
const SOCKETS = 4;
const RCVBUF = 4 * 1024 * 1024;
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ServerDef { id: string; name: string; file: string }
const servers: ServerDef[] = [
  { id: 'dgram', name: 'node:dgram echo', file: 'bench/servers/dgram-echo.js' },
  { id: 'selectloop', name: 'selectloop DatagramProtocol echo', file: 'bench/servers/datagram-echo.js' },
];
const sizes = [64, 1024];

const live = new Set<ChildProcess>();
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function pinned(core: number, command: string): [string, string[]] {
  return pin ? ['taskset', ['-c', String(core), 'sh', '-c', `exec ${command}`]] : ['sh', ['-c', `exec ${command}`]];
}

interface Running { def: ServerDef; child: ChildProcess; pid: number; port: number }

function startServer(def: ServerDef): Promise<Running> {
  const [cmd, argv] = pinned(0, `${q(process.execPath)} ${q(path.join(distRoot, def.file))} 0 --quiet --rcvbuf ${RCVBUF}`);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.on('exit', () => live.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { stopServer(child); reject(new Error(`${def.name}: no "listening on" line within 10 s`)); }, 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (.+):(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({ def, child, pid: child.pid!, port: Number(m[2]) });
      }
    });
    child.on('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`${def.name} exited (${code ?? signal}) before listening`)); });
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
      reject(new Error(`udp-loadgen ${argv.join(' ')} failed (${code ?? signal}${code === 2 ? ': PAYLOAD MISMATCH' : ''}): ${err.trim()}`));
    });
  });
}

/** CPU time (user + system) the process has used, in µs. */
function cpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK; // utime, stime
  } catch {
    return NaN;
  }
}

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    for (const c of live) { try { process.kill(c.pid!, 'SIGKILL'); } catch { /* gone */ } }
    process.exit(130);
  });
}

const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Rep { dps: number; lost: number; late: number; received: number; rss_kb: number; cpu_us_per_dgram: number }
const results: Record<string, Record<string, Rep[]>> = {};
const errors: string[] = [];
const started = Date.now();
const progress = (msg: string) => { if (!asJson) process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${msg}\n`); };

async function main(): Promise<void> {
  progress(`${ROUNDS} rounds × ${SECONDS} s after ${WARMUP} s warm-up; ${INFLIGHT} in flight on ${SOCKETS} sockets; pinning ${pin ? 'on' : 'off'}`);
  const running: Running[] = [];
  try {
    for (const def of servers) running.push(await startServer(def));
    for (const size of sizes) {
      const row: Record<string, Rep[]> = (results[size] = {});
      for (const r of running) row[r.def.id] = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which server goes first, so neither always follows the other.
        const order = round % 2 === 0 ? running : [...running].reverse();
        for (const r of order) {
          const argv = ['--port', String(r.port), '--size', String(size), '--inflight', String(INFLIGHT), '--sockets', String(SOCKETS), '--seconds', String(SECONDS), '--warmup', String(WARMUP)];
          try {
            const cpuBefore = cpuUs(r.pid);
            const out = await runLoadgen(argv);
            const cpu = (cpuUs(r.pid) - cpuBefore) / (out['received']! + out['late']!);
            row[r.def.id]!.push({ dps: out['dps']!, lost: out['lost']!, late: out['late']!, received: out['received']!, rss_kb: rssKb(r.pid), cpu_us_per_dgram: cpu });
          } catch (e) {
            errors.push(`${size} B / ${r.def.id}: ${(e as Error).message}`);
          }
        }
        progress(`${size} B round ${round + 1}/${ROUNDS} done`);
      }
    }
  } finally {
    await Promise.all(running.map((r) => stopServer(r.child)));
  }
}

function ratio(size: number, id: string, key: 'dps' | 'cpu_us_per_dgram' = 'dps'): number | null {
  const base = results[size]?.['dgram'];
  const v = results[size]?.[id];
  if (!base || !v || base.length !== v.length || base.length === 0) return null;
  return median(v.map((rep, i) => rep[key] / base[i]![key]));
}

const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');

function markdown(): string {
  const lines: string[] = [];
  lines.push(`# UDP echo benchmark (${new Date().toISOString()})`, '');
  lines.push(`node ${process.version}, ${availableParallelism()} cores, servers ${pin ? 'on core 0 and udp-loadgen on core 1 (taskset)' : 'unpinned'}; ` +
    `${INFLIGHT} datagrams in flight on ${SOCKETS} sockets; median of ${ROUNDS} rounds × ${SECONDS} s after ${WARMUP} s warm-up ` +
    `(a round runs both servers back to back; "× dgram" is the median of the per-round ratios); every payload verified. ` +
    `Server CPU per datagram is the server's user + system time (/proc/PID/stat) over the datagrams it echoed in the run: ` +
    `on a machine shared with other work, throughput is bounded by how often each process gets a core, while CPU per datagram is not.`, '');
  lines.push('| payload | server | datagrams/s | × dgram | server CPU µs per datagram | × dgram | lost (all rounds) | late | RSS KB |', '|--:|---|--:|--:|--:|--:|--:|--:|--:|');
  for (const size of sizes) {
    for (const s of servers) {
      const reps = results[size]?.[s.id] ?? [];
      if (reps.length === 0) { lines.push(`| ${size} B | ${s.name} | error | | | | | | |`); continue; }
      const r = ratio(size, s.id);
      const c = ratio(size, s.id, 'cpu_us_per_dgram');
      lines.push(`| ${size} B | ${s.name} | ${fmt(median(reps.map((x) => x.dps)))} | ${r === null ? '–' : `${r.toFixed(2)}×`} | ${fmt(median(reps.map((x) => x.cpu_us_per_dgram)), 2)} | ${c === null ? '–' : `${c.toFixed(2)}×`} | ${reps.reduce((a, x) => a + x.lost, 0)} of ${reps.reduce((a, x) => a + x.received + x.lost, 0)} | ${reps.reduce((a, x) => a + x.late, 0)} | ${fmt(median(reps.map((x) => x.rss_kb)))} |`);
    }
  }
  const t = ratio(64, 'selectloop');
  lines.push('', `Target (issue 11): selectloop ≥ 2× node:dgram datagrams/s at 64 B — measured ${t === null ? '–' : `${t.toFixed(2)}×`}: ${t === null ? '–' : t >= 2 ? 'met' : 'not met'}.`);
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
  console.log(JSON.stringify({ node: process.version, cores: availableParallelism(), pinned: pin, rounds: ROUNDS, seconds: SECONDS, warmup: WARMUP, inflight: INFLIGHT, sockets: SOCKETS, results, ratio64: ratio(64, 'selectloop'), ratio1k: ratio(1024, 'selectloop'), cpuRatio64: ratio(64, 'selectloop', 'cpu_us_per_dgram'), errors }, null, 2));
} else {
  console.log(markdown());
}
process.exitCode = errors.length ? 1 : 0;
