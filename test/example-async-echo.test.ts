// examples/async-echo end to end, as its own process: line echo byte for byte, many clients at
// once, a large transfer, and a clean Ctrl-C with a client still connected.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { startExample, type RunningServer } from './helpers/server.js';
import { withTimeout } from './helpers/index.js';

const test = suite<{ server?: RunningServer }>('example async-echo');
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test.before(async (ctx) => {
  ctx.server = await startExample('examples/async-echo.js', ['0', '--quiet']);
});
test.after(async (ctx) => {
  await ctx.server?.stop();
});

/** Sends payload, half-closes, and resolves with everything echoed until the server closes. */
function exchange(port: number, payload: Buffer | string, chunked = false): Promise<Buffer> {
  return withTimeout(
    new Promise<Buffer>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      const got: Buffer[] = [];
      sock.on('data', (d) => got.push(d));
      sock.on('error', reject);
      sock.on('close', () => resolve(Buffer.concat(got)));
      sock.on('connect', () => {
        const bytes = Buffer.from(payload);
        if (!chunked) return sock.end(bytes);
        // One byte per write: framing must not depend on how data arrives.
        let i = 0;
        const next = (): void => {
          if (i === bytes.length) return void sock.end();
          sock.write(bytes.subarray(i, ++i), next);
        };
        next();
      });
    }),
    20_000,
    'echo exchange',
  );
}

test('echoes lines, and the last line without a newline', async ({ server }) => {
  const text = 'hello\nsecond line\r\n\nno newline at the end';
  assert.is((await exchange(server!.port, text)).toString(), text);
  assert.is((await exchange(server!.port, 'split\nacross\nbytes', true)).toString(), 'split\nacross\nbytes');
});

test('20 clients at once, each gets its own lines back', async ({ server }) => {
  const payloads = Array.from({ length: 20 }, (_, i) => `client ${i}\n`.repeat(50));
  const got = await Promise.all(payloads.map((p) => exchange(server!.port, p)));
  got.forEach((g, i) => assert.is(g.toString(), payloads[i]));
});

test('1 MiB of lines comes back byte-exact', async ({ server }) => {
  const lines: string[] = [];
  let size = 0;
  while (size < 1 << 20) {
    const line = randomBytes(100).toString('base64') + '\n';
    lines.push(line);
    size += line.length;
  }
  const payload = Buffer.from(lines.join(''));
  const echoed = await exchange(server!.port, payload);
  assert.is(echoed.length, payload.length);
  assert.is(sha(echoed), sha(payload));
});

test('SIGINT shuts it down cleanly (exit code 0), closing a connected client', async ({ server }) => {
  const sock = connect(server!.port, '127.0.0.1');
  await new Promise((resolve) => sock.once('connect', resolve));
  sock.write('still here\n');
  await new Promise((resolve) => sock.once('data', resolve));
  const clientClosed = new Promise((resolve) => sock.once('close', resolve));
  sock.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => server!.child.once('exit', (code) => resolve(code)));
  server!.child.kill('SIGINT');
  assert.is(await withTimeout(exited, 10_000, 'exit after SIGINT'), 0);
  await withTimeout(clientClosed, 5000, 'client closed');
  assert.match(server!.output(), /SIGINT: shutting down/);
});

test.run();
