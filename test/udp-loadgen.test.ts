// bench/udp-loadgen.c's verifier, proven able to fail: build/udp-loadgen runs against small
// in-process node:dgram echo servers, one correct and others that alter, cut, drop or duplicate.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket, type Socket as DgramSocket, type RemoteInfo } from 'node:dgram';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const test = suite('udp-loadgen');

// This file compiles to dist/test/udp-loadgen.test.js; the binary is <repo>/build/udp-loadgen.
const loadgenPath = fileURLToPath(new URL('../../build/udp-loadgen', import.meta.url));
const have = existsSync(loadgenPath);

async function echoServer(reply: (sock: DgramSocket, msg: Buffer, r: RemoteInfo, n: number) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const sock = createSocket('udp4');
  let n = 0;
  sock.on('message', (msg, r) => reply(sock, msg, r, n++));
  sock.on('error', () => {});
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  return { port: sock.address().port, close: () => new Promise<void>((res) => sock.close(() => res())) };
}

function run(port: number, extra: string[] = []): Promise<{ code: number | null; out: Record<string, number> | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(loadgenPath, ['--port', String(port), '--size', '64', '--inflight', '16', '--sockets', '2', '--seconds', '0.3', '--warmup', '0.1', '--loss-ms', '100', ...extra]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      let out: Record<string, number> | null = null;
      try {
        out = JSON.parse(stdout);
      } catch {
        /* no JSON: a failure */
      }
      resolve({ code, out, stderr });
    });
  });
}

const echo = (sock: DgramSocket, msg: Buffer, r: RemoteInfo) => sock.send(msg, r.port, r.address);

test('a correct echo: exit 0, nothing lost or late, every byte verified', async () => {
  if (!have) return console.log('  (skipped: build/udp-loadgen not built)');
  const s = await echoServer(echo);
  try {
    const r = await run(s.port);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.out!['lost'], 0);
    assert.is(r.out!['late'], 0);
    assert.ok(r.out!['received']! > 0);
    assert.is(r.out!['bytes_verified'], r.out!['received']! * 64);
  } finally {
    await s.close();
  }
});

test('one flipped byte: exit 2', async () => {
  if (!have) return;
  const s = await echoServer((sock, msg, r, n) => {
    if (n === 50) msg[30]! ^= 1;
    echo(sock, msg, r);
  });
  try {
    assert.is((await run(s.port)).code, 2);
  } finally {
    await s.close();
  }
});

test('a cut datagram: exit 2', async () => {
  if (!have) return;
  const s = await echoServer((sock, msg, r, n) => echo(sock, n === 20 ? msg.subarray(0, 63) : msg, r));
  try {
    assert.is((await run(s.port)).code, 2);
  } finally {
    await s.close();
  }
});

test('dropped datagrams are counted lost, duplicates late; the run still finishes', async () => {
  if (!have) return;
  const s = await echoServer((sock, msg, r, n) => {
    if (n % 10 === 3) return; // dropped
    echo(sock, msg, r);
    if (n % 10 === 5) echo(sock, msg, r); // duplicated
  });
  try {
    const r = await run(s.port);
    assert.is(r.code, 0, r.stderr);
    assert.ok(r.out!['lost']! > 0, 'losses reported');
    assert.ok(r.out!['late']! > 0, 'duplicates reported');
    assert.is(r.out!['sent'], r.out!['received']! + r.out!['lost']!, 'every datagram sent is either received or lost');
  } finally {
    await s.close();
  }
});

test('nothing listening: every datagram lost, exit 0', async () => {
  if (!have) return;
  const s = await echoServer(() => {});
  const port = s.port;
  await s.close();
  const r = await run(port);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.out!['received'], 0);
  assert.ok(r.out!['lost']! >= 16);
});

test.run();
