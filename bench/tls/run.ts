// TLS echo benchmark: selectloop's TLS server (createServer with `tls`, attached to Node's loop)
// side by side with a node:tls echo server, driven by one Node tls load generator.
//
//   npm run bench:tls                 (= node dist/bench/tls/run.js)
//   npm run bench:tls -- --quick      1 round, short scenarios
//
// Each server runs in its own process pinned to core 0, the load generator (this file with
// `client`, the same for both servers) in another pinned to core 1 (taskset, when there are two
// or more cores). Scenarios: ping-pong (10 connections, each with one 1 KiB message in flight),
// bulk (one connection streaming 1 MiB writes, echoed back), and RSS per idle TLS connection
// (server VmRSS before and after 500 handshaken idle connections). Each server is warmed up on
// both paths (ping-pong, then 3 × 32 MiB bulk) before it is measured. Rounds alternate the
// servers; each ratio is the median of the per-round ratios. The certificate is made with the openssl CLI.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tls from 'node:tls';

const self = fileURLToPath(import.meta.url);
const [mode, ...rest] = process.argv.slice(2);

// ---- servers ---------------------------------------------------------------------------------

async function serve(kind: string, certDir: string): Promise<void> {
  const key = readFileSync(join(certDir, 'key.pem'));
  const cert = readFileSync(join(certDir, 'cert.pem'));
  if (kind === 'node') {
    const server = tls.createServer({ key, cert }, (s) => {
      s.on('data', (d: Buffer) => {
        if (!s.write(d)) s.pause();
      });
      s.on('drain', () => s.resume());
      s.on('error', () => {});
    });
    server.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${(server.address() as { port: number }).port}`));
    return;
  }
  const { Reactor } = await import('../../src/loop/index.js');
  await import('../../src/transports/index.js');
  const reactor = new Reactor();
  reactor.attach();
  const server = reactor.createServer(
    () => {
      let t: import('../../src/transports/index.js').Transport;
      return {
        connectionMade: (x: typeof t) => void (t = x),
        dataReceived: (d: Buffer) => t.write(d),
        pauseWriting: () => t.pauseReading(),
        resumeWriting: () => t.resumeReading(),
      };
    },
    { tls: { key, cert } },
  );
  console.log(`listening on 127.0.0.1:${(server.address() as [string, number])[1]}`);
}

// ---- load generator --------------------------------------------------------------------------

function connect(port: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(s));
    s.setNoDelay(true);
    s.once('error', reject);
  });
}

async function pingPong(port: number, conns: number, ms: number): Promise<number> {
  const msg = Buffer.alloc(1024, 0x61);
  const sockets = await Promise.all(Array.from({ length: conns }, () => connect(port)));
  let trips = 0;
  let measuring = false;
  let stop = false;
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve) => {
          let got = 0;
          s.on('data', (d: Buffer) => {
            got += d.length;
            if (got < msg.length) return;
            got -= msg.length;
            if (measuring) trips++;
            if (stop) return resolve();
            s.write(msg);
          });
          s.write(msg);
        }),
    ).concat([
      new Promise<void>((r) => setTimeout(() => ((measuring = true), setTimeout(() => ((stop = true), r()), ms)), 200)),
    ]),
  );
  for (const s of sockets) s.destroy();
  return trips / (ms / 1000);
}

async function bulk(port: number, totalBytes: number): Promise<number> {
  const s = await connect(port);
  const chunk = Buffer.alloc(1024 * 1024, 0x62);
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    let got = 0;
    let sent = 0;
    const pump = (): void => {
      while (sent < totalBytes) {
        sent += chunk.length;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
    };
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= totalBytes) resolve();
    });
    pump();
  });
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  s.destroy();
  return totalBytes / secs / (1024 * 1024);
}

async function idle(port: number, n: number): Promise<tls.TLSSocket[]> {
  const out: tls.TLSSocket[] = [];
  for (let i = 0; i < n; i += 50) out.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => connect(port)))));
  return out;
}

async function client(): Promise<void> {
  const [port, what, arg] = rest;
  let result: number;
  if (what === 'pingpong') result = await pingPong(Number(port), 10, Number(arg));
  else if (what === 'bulk') result = await bulk(Number(port), Number(arg));
  else {
    const socks = await idle(Number(port), Number(arg));
    console.log('ready');
    await new Promise<void>((r) => process.stdin.once('data', () => r()));
    for (const s of socks) s.destroy();
    result = socks.length;
  }
  console.log(JSON.stringify(result));
  process.exit(0);
}

// ---- driver ----------------------------------------------------------------------------------

const pin = availableParallelism() >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const pinned = (core: number, args: string[]): [string, string[]] => (pin ? ['taskset', ['-c', String(core), process.execPath, ...args]] : [process.execPath, args]);

function startServer(kind: string, certDir: string): Promise<{ child: ChildProcess; port: number }> {
  const [cmd, args] = pinned(0, [self, 'server', kind, certDir]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on .*:(\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
  });
}

function runClient(args: string[], onReady?: (child: ChildProcess) => void): Promise<number> {
  const [cmd, a] = pinned(1, [self, 'client', ...args]);
  const child = spawn(cmd, a, { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (onReady && out.includes('ready\n')) {
        out = out.replace('ready\n', '');
        onReady(child);
        onReady = undefined;
      }
    });
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim()) as number) : reject(new Error(`client exited ${code}`))));
  });
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

async function idleRss(kind: string, certDir: string, n: number): Promise<number> {
  const server = await startServer(kind, certDir);
  try {
    await runClient([String(server.port), 'pingpong', '300']); // warm up
    await new Promise((r) => setTimeout(r, 300));
    const before = rssKiB(server.child.pid!);
    let after = 0;
    await runClient([String(server.port), 'idle', String(n)], (c) => {
      setTimeout(() => {
        after = rssKiB(server.child.pid!);
        c.stdin!.write('x');
      }, 500);
    });
    return ((after - before) * 1024) / n;
  } finally {
    server.child.kill('SIGKILL');
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const rounds = quick ? 1 : 5;
  const pingMs = quick ? 1000 : 3000;
  const bulkBytes = (quick ? 32 : 256) * 1024 * 1024;
  const certDir = mkdtempSync(join(tmpdir(), 'bench-tls-'));
  try {
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'), '-days', '2', '-subj', '/CN=localhost'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench:tls needs the openssl CLI: ${r.stderr ?? r.error}`);
    const results: Record<string, { ping: number[]; bulk: number[] }> = { selectloop: { ping: [], bulk: [] }, node: { ping: [], bulk: [] } };
    for (let round = 0; round < rounds; round++) {
      for (const kind of round % 2 === 0 ? ['selectloop', 'node'] : ['node', 'selectloop']) {
        const server = await startServer(kind, certDir);
        try {
          // Warm-up of both paths: V8 compiles (and for a while recompiles) the bulk path's
          // functions on a thread that shares the server's core, which would otherwise be timed.
          await runClient([String(server.port), 'pingpong', '500']);
          for (let i = 0; i < (quick ? 1 : 3); i++) await runClient([String(server.port), 'bulk', String(32 * 1024 * 1024)]);
          results[kind]!.ping.push(await runClient([String(server.port), 'pingpong', String(pingMs)]));
          results[kind]!.bulk.push(await runClient([String(server.port), 'bulk', String(bulkBytes)]));
        } finally {
          server.child.kill('SIGKILL');
        }
      }
    }
    const ratio = (k: 'ping' | 'bulk') => median(results.selectloop![k].map((v, i) => v / results.node![k][i]!));
    const idleN = quick ? 200 : 500;
    const rssSelectloop = await idleRss('selectloop', certDir, idleN);
    const rssNode = await idleRss('node', certDir, idleN);
    const f = (x: number) => x.toFixed(0);
    console.log(`node ${process.version}, ${availableParallelism()} cores, servers ${pin ? 'on core 0, load generator on core 1 (taskset)' : 'unpinned'}; ${rounds} round(s)`);
    console.log('| scenario | selectloop | node:tls | ratio (median of rounds) |');
    console.log('| --- | --- | --- | --- |');
    console.log(`| ping-pong 10 × 1 KiB (round trips/s) | ${f(median(results.selectloop!.ping))} | ${f(median(results.node!.ping))} | ${ratio('ping').toFixed(2)}× |`);
    console.log(`| bulk echo, 1 conn (MiB/s each way) | ${f(median(results.selectloop!.bulk))} | ${f(median(results.node!.bulk))} | ${ratio('bulk').toFixed(2)}× |`);
    console.log(`| RSS per idle TLS connection (bytes, ${idleN} conns) | ${f(rssSelectloop)} | ${f(rssNode)} | ${(rssSelectloop / rssNode).toFixed(2)}× |`);
  } finally {
    rmSync(certDir, { recursive: true, force: true });
  }
}

if (mode === 'server') void serve(rest[0]!, rest[1]!);
else if (mode === 'client') void client();
else void main();
