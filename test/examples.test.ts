// The examples end to end: echo-client, line-protocol, embed-in-node and pipe-child, each run as
// its own process (compiled, from dist/examples) and checked byte for byte.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect, type Socket as NetSocket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startExample, type RunningServer } from './helpers/server.js';
import { timeScale, withTimeout } from './helpers/index.js';

const distRoot = fileURLToPath(new URL('..', import.meta.url)); // dist/
const children = new Set<ChildProcess>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs an example to completion (killed after timeoutMs); resolves with its exit status and output. */
function runExample(rel: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const timeoutMs = (opts.timeoutMs ?? 10_000) * timeScale;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [distRoot + rel, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${rel} ${args.join(' ')} did not exit within ${timeoutMs} ms; stdout=${JSON.stringify(stdout)} stderr=${JSON.stringify(stderr)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** A raw TCP client that collects everything it receives. */
class RawClient {
  readonly sock: NetSocket;
  data = '';
  closed = false;
  private waiters: Array<() => void> = [];
  constructor(port: number) {
    this.sock = connect(port, '127.0.0.1');
    this.sock.on('data', (d) => {
      this.data += d.toString('utf8');
      this.wake();
    });
    this.sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.sock.on('error', () => {});
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  ready(): Promise<void> {
    return withTimeout(new Promise((r) => (this.sock.connecting ? this.sock.once('connect', () => r()) : r())), 5000, 'connect');
  }
  write(s: string | Buffer): void {
    this.sock.write(s);
  }
  /** Waits until `n` reply lines have arrived; returns them (exactly) as one string. */
  async lines(n: number, ms = 5000): Promise<string> {
    await withTimeout(
      (async () => {
        while (this.data.split('\n').length - 1 < n && !this.closed) await new Promise<void>((r) => this.waiters.push(r));
      })(),
      ms,
      `waiting for ${n} lines (have ${JSON.stringify(this.data)})`,
    );
    return this.data;
  }
  async waitClosed(ms = 5000): Promise<void> {
    await withTimeout(
      (async () => {
        while (!this.closed) await new Promise<void>((r) => this.waiters.push(r));
      })(),
      ms,
      'waiting for the server to close',
    );
  }
  end(): void {
    this.sock.destroy();
  }
}

// ---- echo-client -------------------------------------------------------------------------------

const client = suite<{ server?: RunningServer }>('echo-client');
client.before(async (ctx) => {
  ctx.server = await startExample('examples/echo-protocol.js', ['0', '--quiet']);
});
client.after(async (ctx) => {
  await ctx.server?.stop();
});

client('sends argv lines and prints each echo, then exits 0', async ({ server }) => {
  const r = await runExample('examples/echo-client.js', ['--port', String(server!.port), 'hello', 'second line', 'ünïcödé']);
  assert.is(r.stderr, '');
  assert.is(r.stdout, 'hello\nsecond line\nünïcödé\n');
  assert.is(r.code, 0);
});

client('sends stdin lines (final line without newline too) and exits when all are echoed', async ({ server }) => {
  const input = Array.from({ length: 500 }, (_, i) => `line ${i} ${'y'.repeat(i % 97)}`).join('\n');
  const r = await runExample('examples/echo-client.js', ['--port', String(server!.port)], { input });
  assert.is(r.stderr, '');
  assert.is(r.stdout, input + '\n');
  assert.is(r.code, 0);
});

client('reports a refused connection and exits 1', async () => {
  // A port we just bound and released: almost certainly closed now.
  const probe = await startExample('examples/echo-protocol.js', ['0', '--quiet']);
  const port = probe.port;
  await probe.stop();
  const r = await runExample('examples/echo-client.js', ['--port', String(port), 'x']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /ECONNREFUSED/);
  assert.is(r.stdout, '');
});

// ---- line-protocol -----------------------------------------------------------------------------

const lp = suite<{ server?: RunningServer }>('line-protocol');
lp.before(async (ctx) => {
  ctx.server = await startExample('examples/line-protocol.js', ['0', '--quiet', '--max-line', '64']);
});
lp.after(async (ctx) => {
  await ctx.server?.stop();
});

lp('SET / GET / DEL / QUIT, one per write', async ({ server }) => {
  const c = new RawClient(server!.port);
  await c.ready();
  const steps: Array<[string, string]> = [
    ['SET k1 hello world\n', 'OK\n'],
    ['GET k1\n', 'VALUE hello world\n'],
    ['get k1\r\n', 'VALUE hello world\n'],
    ['DEL k1\n', 'DELETED\n'],
    ['DEL k1\n', 'NIL\n'],
    ['GET k1\n', 'NIL\n'],
  ];
  let expected = '';
  for (const [cmd, reply] of steps) {
    c.write(cmd);
    expected += reply;
    assert.is(await c.lines(expected.split('\n').length - 1), expected);
  }
  c.write('QUIT\n');
  await c.waitClosed();
  assert.is(c.data, expected + 'BYE\n');
});

lp('pipelined commands in one write are answered in order; nothing after QUIT runs', async ({ server }) => {
  const c = new RawClient(server!.port);
  await c.ready();
  c.write('SET a 1\nSET b 2\nGET a\nGET b\nDEL a\nGET a\nBOGUS\nGET b\nQUIT\nSET c 3\n');
  await c.waitClosed();
  assert.is(c.data, 'OK\nOK\nVALUE 1\nVALUE 2\nDELETED\nNIL\nERR unknown command "BOGUS"\nVALUE 2\nBYE\n');
  // SET c 3 came after QUIT: it must not have run.
  const d = new RawClient(server!.port);
  await d.ready();
  d.write('GET c\nGET b\n');
  assert.is(await d.lines(2), 'NIL\nVALUE 2\n');
  d.end();
});

lp('a command split over two writes 50 ms apart is framed correctly', async ({ server }) => {
  const c = new RawClient(server!.port);
  await c.ready();
  c.write('SET split va');
  await sleep(50);
  assert.is(c.data, '', 'no reply for a partial line');
  c.write('lue\nGET spl');
  await sleep(50);
  c.write('it\n');
  assert.is(await c.lines(2), 'OK\nVALUE value\n');
  c.end();
});

lp('a pipelined burst split at every byte boundary still answers exactly', async ({ server }) => {
  const c = new RawClient(server!.port);
  await c.ready();
  c.sock.setNoDelay(true);
  const burst = 'SET x 42\nGET x\nDEL x\nGET x\n';
  for (const ch of burst) c.write(ch);
  assert.is(await c.lines(4), 'OK\nVALUE 42\nDELETED\nNIL\n');
  c.end();
});

lp('bad input gets ERR <reason> and the connection stays usable', async ({ server }) => {
  const c = new RawClient(server!.port);
  await c.ready();
  c.write('\n');
  c.write('   \n');
  c.write('FOO bar\n');
  c.write('GET\n');
  c.write('GET a b\n');
  c.write('SET onlykey\n');
  c.write('DEL\n');
  c.write('QUIT now\n');
  c.write(Buffer.from('GET \x00x\n', 'latin1'));
  c.write(Buffer.from([0x47, 0x45, 0x54, 0x20, 0xff, 0xfe, 0x0a]));
  c.write('SET ok yes\nGET ok\n');
  const expected = [
    'ERR empty command',
    'ERR empty command',
    'ERR unknown command "FOO"',
    'ERR wrong number of arguments for GET',
    'ERR wrong number of arguments for GET',
    'ERR wrong number of arguments for SET',
    'ERR wrong number of arguments for DEL',
    'ERR wrong number of arguments for QUIT',
    'ERR control character in command',
    'ERR invalid UTF-8',
    'OK',
    'VALUE yes',
  ].join('\n') + '\n';
  assert.is(await c.lines(12), expected);
  c.end();
});

lp('a line over the maximum is refused at once, discarded to its newline, and the next line works', async ({ server }) => {
  const c = new RawClient(server!.port);
  await c.ready();
  // 64 bytes is the limit here: exactly 64 is fine.
  const v64 = 'v'.repeat(64 - 'SET k '.length);
  c.write(`SET k ${v64}\nGET k\n`);
  assert.is(await c.lines(2), `OK\nVALUE ${v64}\n`);
  // An over-long line, with no newline yet: the error comes before the line ends.
  c.write('SET big ' + 'z'.repeat(100));
  assert.is(await c.lines(3), `OK\nVALUE ${v64}\nERR line too long (max 64 bytes)\n`);
  c.write('z'.repeat(5000)); // still the same line: no further reply, nothing buffered
  await sleep(50);
  c.write('zz\nGET k\n');
  assert.is(await c.lines(4), `OK\nVALUE ${v64}\nERR line too long (max 64 bytes)\nVALUE ${v64}\n`);
  // Over-long within a single write, among pipelined commands.
  c.write(`GET ${'q'.repeat(70)}\nGET big\n`);
  assert.is(await c.lines(6), `OK\nVALUE ${v64}\nERR line too long (max 64 bytes)\nVALUE ${v64}\nERR line too long (max 64 bytes)\nNIL\n`);
  c.end();
});

lp('the server survives clients that vanish mid-line', async ({ server }) => {
  for (let i = 0; i < 5; i++) {
    const c = new RawClient(server!.port);
    await c.ready();
    c.write('SET half');
    c.sock.resetAndDestroy();
  }
  const c = new RawClient(server!.port);
  await c.ready();
  c.write('GET half\n');
  assert.is(await c.lines(1), 'NIL\n');
  c.end();
  assert.is(server!.child.exitCode, null);
});

// ---- embed-in-node -----------------------------------------------------------------------------

const embed = suite<{ server?: RunningServer; http?: number }>('embed-in-node');
embed.before(async (ctx) => {
  ctx.server = await startExample('examples/embed-in-node.js', ['0', '0', '--quiet']);
  const m = /http on 127\.0\.0\.1:(\d+)/.exec(ctx.server.output());
  assert.ok(m, `no "http on" line: ${ctx.server.output()}`);
  ctx.http = Number(m![1]);
});
embed.after(async (ctx) => {
  await ctx.server?.stop();
});

async function status(port: number): Promise<{ connections: number; totalConnections: number; keys: number; uptime: number }> {
  const res = await withTimeout(fetch(`http://127.0.0.1:${port}/status`), 5000, 'GET /status');
  assert.is(res.status, 200);
  assert.is(res.headers.get('content-type'), 'application/json');
  return (await res.json()) as never;
}

embed('GET /status reports zero connections and an uptime', async ({ http }) => {
  const s = await status(http!);
  assert.equal(Object.keys(s).sort(), ['connections', 'keys', 'totalConnections', 'uptime']);
  assert.is(s.connections, 0);
  assert.is(s.keys, 0);
  assert.type(s.uptime, 'number');
  assert.ok(s.uptime >= 0 && s.uptime < 60);
  const notFound = await withTimeout(fetch(`http://127.0.0.1:${http}/nope`), 5000);
  assert.is(notFound.status, 404);
  await notFound.text();
});

embed('the protocol and the status page serve side by side', async ({ server, http }) => {
  const a = new RawClient(server!.port);
  const b = new RawClient(server!.port);
  await a.ready();
  await b.ready();
  a.write('SET greeting hi there\nGET greeting\n');
  assert.is(await a.lines(2), 'OK\nVALUE hi there\n');
  b.write('GET greeting\n');
  assert.is(await b.lines(1), 'VALUE hi there\n');
  let s = await status(http!);
  assert.is(s.connections, 2);
  assert.is(s.totalConnections, 2);
  assert.is(s.keys, 1);
  // Split command while the HTTP side is busy too.
  a.write('GET gre');
  const [s2] = await Promise.all([status(http!), sleep(50)]);
  assert.is(s2.connections, 2);
  a.write('eting\nQUIT\n');
  await a.waitClosed();
  assert.is(a.data, 'OK\nVALUE hi there\nVALUE hi there\nBYE\n');
  b.end();
  // The reactor notices both closes; poll the status page until it agrees.
  await withTimeout(
    (async () => {
      while ((s = await status(http!)).connections !== 0) await sleep(20);
    })(),
    5000,
    'connections back to 0',
  );
  assert.is(s.totalConnections, 2);
});

embed('SIGTERM shuts it down cleanly (exit code 0)', async ({ server }) => {
  const exited = new Promise<number | null>((r) => server!.child.once('exit', (code) => r(code)));
  server!.child.kill('SIGTERM');
  assert.is(await withTimeout(exited, 5000, 'exit after SIGTERM'), 0);
});

// ---- pipe-child --------------------------------------------------------------------------------

const pc = suite('pipe-child');
const haveSort = spawnSync('sort', ['--version'], { timeout: 5000 }).error === undefined;

pc('sorts the default lines through sort(1)', async () => {
  if (!haveSort) return console.log('  (sort not present: skipped)');
  const r = await runExample('examples/pipe-child.js', []);
  assert.is(r.stderr, '');
  assert.is(r.stdout, 'apple\nbanana\ncherry\nfig\npear\n');
  assert.is(r.code, 0);
});

pc('sorts argv lines byte-wise (LC_ALL=C)', async () => {
  if (!haveSort) return console.log('  (sort not present: skipped)');
  const r = await runExample('examples/pipe-child.js', ['zeta', 'Alpha', 'beta', 'alpha', '10', '9']);
  assert.is(r.stderr, '');
  assert.is(r.stdout, '10\n9\nAlpha\nalpha\nbeta\nzeta\n');
  assert.is(r.code, 0);
});

pc('100 000 lines (far more than a pipe holds) come back complete and sorted', async () => {
  if (!haveSort) return console.log('  (sort not present: skipped)');
  const n = 100_000;
  const expected = Array.from({ length: n }, (_, i) => `line ${String((i * 7919) % n).padStart(8, '0')}`).sort();
  const r = await runExample('examples/pipe-child.js', ['--generate', String(n)], { timeoutMs: 30_000 });
  assert.is(r.stderr, '');
  assert.is(r.code, 0);
  assert.ok(r.stdout === expected.join('\n') + '\n', `sorted output differs (${r.stdout.length} bytes)`);
});

// Every child is gone at the end, whatever happened.
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

client.run();
lp.run();
embed.run();
pc.run();
