// The UDP examples end to end: udp-echo served to udp-client and to node:dgram, each example its
// own process (compiled, from dist/examples), checked byte for byte; Ctrl-C and timeouts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { startExample, type RunningServer } from './helpers/server.js';
import { withTimeout } from './helpers/index.js';

const distRoot = fileURLToPath(new URL('..', import.meta.url)); // dist/

function runExample(rel: string, args: string[], input?: string, timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [distRoot + rel, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${rel} did not exit within ${timeoutMs} ms: ${stdout} ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(input ?? '');
  });
}

const test = suite<{ server?: RunningServer }>('udp-examples');
test.before(async (ctx) => {
  ctx.server = await startExample('examples/udp-echo.js', ['0', '--quiet']);
});
test.after(async ({ server }) => {
  await server?.stop();
});

test('udp-client gets every line back from udp-echo, exactly', async ({ server }) => {
  const r = await runExample('examples/udp-client.js', ['--port', String(server!.port), 'hello', 'second line', 'ünïcödé']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n').filter(Boolean).sort(), ['hello', 'second line', 'ünïcödé'].sort());
  assert.is(r.stderr, '');
});

test('udp-client sends standard input, one datagram per line', async ({ server }) => {
  const lines = Array.from({ length: 20 }, (_, i) => `line ${i} ${'x'.repeat(i * 10)}`);
  const r = await runExample('examples/udp-client.js', ['--port', String(server!.port)], lines.join('\n') + '\n');
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n').filter(Boolean).sort(), [...lines].sort());
});

test('udp-echo answers node:dgram with exactly the bytes sent, empty and 60 000-byte datagrams included', async ({ server }) => {
  const sock = createSocket('udp4');
  try {
    const sizes = [0, 1, 100, 1472, 60_000, 0, 5];
    for (const [i, size] of sizes.entries()) {
      const payload = Buffer.alloc(size, i + 1);
      const reply = withTimeout(new Promise<Buffer>((res) => sock.once('message', (m) => res(m))), 5000, `reply ${i}`);
      sock.send(payload, server!.port, '127.0.0.1');
      assert.ok((await reply).equals(payload), `datagram ${i} (${size} B)`);
    }
  } finally {
    sock.close();
  }
});

test('udp-client reports a timeout (and the ICMP refusal) when nothing listens, exit 1', async () => {
  const probe = await startExample('examples/udp-echo.js', ['0', '--quiet']);
  const port = probe.port;
  await probe.stop(); // now nothing listens on that port
  const r = await runExample('examples/udp-client.js', ['--port', String(port), '--timeout', '300', 'lost']);
  assert.is(r.code, 1);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /timeout: no reply to "lost" within 300 ms/);
  assert.match(r.stderr, /ECONNREFUSED/);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`udp-echo stops cleanly on ${signal}`, async () => {
    const s = await startExample('examples/udp-echo.js', ['0']);
    const exited = new Promise<number | null>((res) => s.child.once('exit', (code) => res(code)));
    s.child.kill(signal);
    const code = await withTimeout(exited, 5000, `exit after ${signal}`);
    assert.is(code, 0);
    assert.match(s.output(), new RegExp(`${signal}: shutting down`));
    assert.match(s.output(), /closed/);
  });
}

test.run();
