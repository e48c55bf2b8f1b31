// examples/echo-server.ts end to end, with real clients: Node's net and Python's socket module.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type Socket as NetSocket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { startExample, type RunningServer } from './helpers/server.js';
import { withTimeout } from './helpers/index.js';

const echo = suite<{ server?: RunningServer }>('echo-server');

echo.before(async (ctx) => {
  ctx.server = await startExample('examples/echo-server.js', ['0']);
});

echo.after(async (ctx) => {
  await ctx.server?.stop();
});

/** Sends payload (in one write) and resolves with exactly payload.length echoed bytes. */
function roundTrip(port: number, payload: Buffer, opts: { end?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const sock: NetSocket = connect(port, '127.0.0.1', () => {
      sock.write(payload);
    });
    sock.on('data', (d) => {
      chunks.push(d);
      got += d.length;
      if (got >= payload.length) {
        sock.end();
        resolve(Buffer.concat(chunks));
      }
    });
    sock.on('error', reject);
  });
}

echo('echoes small messages byte for byte over Node net', async ({ server }) => {
  for (const msg of ['hello\n', 'x', 'a longer line with spaces and ünïcödé\n']) {
    const back = await withTimeout(roundTrip(server!.port, Buffer.from(msg)), 5000, 'round trip');
    assert.is(back.toString(), msg);
  }
});

echo('prints accepted / echoing / closing like the Python docs', async ({ server }) => {
  await withTimeout(roundTrip(server!.port, Buffer.from('ping\n')), 5000);
  await new Promise((r) => setTimeout(r, 100));
  const out = server!.output();
  assert.match(out, /accepted <Socket fd=\d+ family=AF_INET type=SOCK_STREAM laddr=\['127\.0\.0\.1', \d+\] raddr=\['127\.0\.0\.1', \d+\]> from \[ '127\.0\.0\.1', \d+ \]/);
  assert.match(out, /echoing "ping\\n" to <Socket fd=\d+/);
  assert.match(out, /closing <Socket fd=\d+/);
});

echo('50 concurrent clients each get exactly their own bytes back', async ({ server }) => {
  const payloads = Array.from({ length: 50 }, (_, i) => Buffer.from(`client ${i}: ${'x'.repeat(i * 37)}\n`));
  const backs = await withTimeout(Promise.all(payloads.map((p) => roundTrip(server!.port, p))), 15000, '50 clients');
  backs.forEach((b, i) => assert.ok(b.equals(payloads[i]!), `client ${i} got different bytes`));
});

echo('one 1 MiB message comes back byte-exact (partial sends are buffered, not lost)', async ({ server }) => {
  const payload = randomBytes(1 << 20);
  const back = await withTimeout(roundTrip(server!.port, payload), 20000, '1 MiB echo');
  assert.is(back.length, payload.length);
  assert.is(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(payload).digest('hex'));
});

echo('a client that resets does not take the server down', async ({ server }) => {
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      const sock = connect(server!.port, '127.0.0.1', () => {
        sock.write(randomBytes(200_000));
        setTimeout(() => {
          sock.resetAndDestroy();
          resolve();
        }, 20);
      });
      sock.on('error', reject);
    }),
    5000,
  );
  await new Promise((r) => setTimeout(r, 100));
  const back = await withTimeout(roundTrip(server!.port, Buffer.from('still alive\n')), 5000);
  assert.is(back.toString(), 'still alive\n');
  assert.is(server!.child.exitCode, null);
});

echo('Python stdlib socket clients are echoed exactly', async ({ server }) => {
  const probe = spawnSync('python3', ['-c', 'import socket'], { timeout: 5000 });
  if (probe.status !== 0) {
    console.log('  (python3 not present: skipped)');
    return;
  }
  const script = `
import socket, sys, hashlib, os
port = int(sys.argv[1])
conns = [socket.create_connection(('127.0.0.1', port), timeout=10) for _ in range(5)]
for i, s in enumerate(conns):
    msg = ('python %d\\n' % i).encode() * (i + 1)
    s.sendall(msg)
    got = b''
    while len(got) < len(msg):
        chunk = s.recv(65536)
        if not chunk: break
        got += chunk
    assert got == msg, (got, msg)
big = os.urandom(300000)
s = conns[0]
s.sendall(big)
got = b''
while len(got) < len(big):
    got += s.recv(65536)
assert got == big
for s in conns: s.close()
print('ok')
`;
  const r = spawnSync('python3', ['-c', script, String(server!.port)], { timeout: 20000, encoding: 'utf8' });
  assert.is(r.stderr, '');
  assert.is(r.stdout.trim(), 'ok');
});

echo.run();

// ---- shutdown on SIGINT / SIGTERM ---------------------------------------------------------------

const shutdown = suite('echo-server shutdown');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client that records every byte and whether the server ended the stream (EOF) or errored. */
class Client {
  readonly sock: NetSocket;
  data = Buffer.alloc(0);
  ended = false;
  error: Error | null = null;
  private readonly closed: Promise<void>;
  constructor(port: number) {
    this.sock = connect(port, '127.0.0.1');
    this.sock.on('data', (d) => (this.data = Buffer.concat([this.data, d])));
    this.sock.on('end', () => (this.ended = true));
    this.sock.on('error', (err) => (this.error = err));
    this.closed = new Promise((r) => this.sock.once('close', () => r()));
  }
  connected(): Promise<void> {
    return withTimeout(new Promise((r, j) => (this.sock.connecting ? this.sock.once('connect', () => r()).once('error', j) : r())), 5000, 'connect');
  }
  /** Waits until exactly `expected` has arrived (more, or a close first, fails the test). */
  async received(expected: string): Promise<void> {
    await withTimeout(
      (async () => {
        while (this.data.length < expected.length && !this.sock.destroyed) await sleep(5);
      })(),
      5000,
      `echo of ${JSON.stringify(expected)}`,
    );
    assert.is(this.data.toString(), expected);
  }
  waitClosed(): Promise<void> {
    return withTimeout(this.closed, 5000, 'client close');
  }
  destroy(): void {
    this.sock.destroy();
  }
}

function exitCode(server: RunningServer): Promise<number | null> {
  return withTimeout(
    new Promise<number | null>((resolve) => {
      if (server.child.exitCode !== null || server.child.signalCode !== null) resolve(server.child.exitCode);
      else server.child.once('exit', (code) => resolve(code));
    }),
    5000,
    'server exit',
  );
}

/** Resolves with the error code of a connection attempt ('connected' if it succeeds). */
function tryConnect(port: number): Promise<string> {
  return withTimeout(
    new Promise((resolve) => {
      const sock = connect(port, '127.0.0.1', () => {
        sock.destroy();
        resolve('connected');
      });
      sock.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? String(err)));
    }),
    5000,
    'connect attempt',
  );
}

/** Two connected clients, each with its bytes echoed, then `signal`: both get a clean EOF. */
async function stopsCleanly(signal: 'SIGINT' | 'SIGTERM', args: string[]): Promise<RunningServer> {
  const server = await startExample('examples/echo-server.js', args);
  const a = new Client(server.port);
  const b = new Client(server.port);
  try {
    await Promise.all([a.connected(), b.connected()]);
    a.sock.write('mid-conversation\n');
    await a.received('mid-conversation\n');
    // b must be accepted, not still in the backlog (closing the listener would reset it).
    b.sock.write('x');
    await b.received('x');
    const exited = exitCode(server);
    server.child.kill(signal);
    assert.is(await exited, 0, `exit code after ${signal}`);
    await Promise.all([a.waitClosed(), b.waitClosed()]);
    for (const [name, c, bytes] of [['a', a, 'mid-conversation\n'], ['b', b, 'x']] as const) {
      assert.is(c.error, null, `client ${name}: ${String(c.error)}`);
      assert.ok(c.ended, `client ${name} saw EOF`);
      assert.is(c.data.toString(), bytes, `client ${name} got no extra bytes`);
    }
    assert.is(server.child.signalCode, null);
    assert.is(server.output().split('\n').filter((l) => l.startsWith('shutting down')).join('\n'), `shutting down (${signal})`);
    return server;
  } finally {
    a.destroy();
    b.destroy();
    await server.stop();
  }
}

shutdown('SIGINT: exit code 0, both clients see EOF with exact bytes, the shutdown line is printed', async () => {
  const server = await stopsCleanly('SIGINT', ['0']);
  // The clients were closed by the server (after the shutdown line), not by the kernel at exit.
  const out = server.output();
  const after = out.slice(out.indexOf('shutting down (SIGINT)'));
  assert.is((after.match(/^closing <Socket fd=\d+/gm) ?? []).length, 2, out);
});

shutdown('SIGTERM: the same, exit code 0; with --quiet the shutdown line is all it prints', async () => {
  const server = await stopsCleanly('SIGTERM', ['0', '--quiet']);
  assert.is(server.output(), `listening on 127.0.0.1:${server.port}\nshutting down (SIGTERM)\n`);
});

shutdown('after SIGINT the listening port is closed: a new connection is refused', async () => {
  const server = await startExample('examples/echo-server.js', ['0', '--quiet']);
  try {
    assert.is(await tryConnect(server.port), 'connected');
    const exited = exitCode(server);
    server.child.kill('SIGINT');
    assert.is(await exited, 0);
    assert.is(await tryConnect(server.port), 'ECONNREFUSED');
  } finally {
    await server.stop();
  }
});

shutdown.run();
