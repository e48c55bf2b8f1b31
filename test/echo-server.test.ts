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
