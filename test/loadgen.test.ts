// bench/loadgen.c's verifier, proven able to fail: build/loadgen runs against small in-process
// Node net servers, one correct and several that corrupt, duplicate, drop or cut the echo.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server, type Socket } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { timeScale, withTimeout } from './helpers/index.js';

const test = suite('loadgen');

// This file compiles to dist/test/loadgen.test.js; the binary is <repo>/build/loadgen.
const loadgenPath = fileURLToPath(new URL('../../build/loadgen', import.meta.url));

/** Short runs, few connections: the whole file takes seconds and little CPU. */
// Longer under `npm run test:sanitize` (timeScale): the bit-flip tests must reach the 1000th byte.
// A stall limit well above the run: on a loaded machine a test server may pause for over 1 s.
const SHORT = ['--seconds', String(0.3 * timeScale), '--warmup', '0.1', '--stall', '5'];

interface TestServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Starts a net server on 127.0.0.1:0 whose connections are handed to onConnection. Every socket
 * is tracked so close() can destroy them all; socket errors (ECONNRESET when loadgen exits,
 * EPIPE after a deliberate close) are expected and ignored.
 */
async function startServer(onConnection: (sock: Socket) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    onConnection(sock);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('server has no TCP address');
  return {
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        sockets.clear();
        server.close(() => resolve());
      }),
  };
}

/** Echoes every chunk unchanged. */
const correctEcho = (sock: Socket) => sock.on('data', (d: Buffer) => sock.write(d));

interface LoadgenResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

interface LoadgenRun {
  done: Promise<LoadgenResult>;
  /** Kills the child if it is still running (for finally blocks). */
  kill(): void;
}

/** Spawns build/loadgen asynchronously (the servers live in this process's event loop). */
function startLoadgen(port: number, args: string[]): LoadgenRun {
  if (!existsSync(loadgenPath)) {
    throw new Error(`${loadgenPath} is missing: build it with \`npx cmake-js compile --log-level warn\``);
  }
  const t0 = performance.now();
  const child: ChildProcess = spawn(loadgenPath, ['--port', String(port), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<LoadgenResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 }));
  });
  return {
    done,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Runs loadgen against a server made from onConnection; always closes both. */
async function runAgainst(
  onConnection: (sock: Socket) => void,
  args: string[],
  ms = 10_000,
): Promise<LoadgenResult> {
  const server = await startServer(onConnection);
  let run: LoadgenRun | undefined;
  try {
    run = startLoadgen(server.port, args);
    return await withTimeout(run.done, ms, `loadgen ${args.join(' ')}`);
  } finally {
    run?.kill();
    await server.close();
  }
}

function describe(r: LoadgenResult): string {
  return `exit ${r.code} signal ${r.signal} after ${r.ms.toFixed(0)} ms\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

function parseJson(r: LoadgenResult): Record<string, unknown> {
  const lines = r.stdout.trim().split('\n');
  assert.is(lines.length, 1, `expected one JSON line\n${describe(r)}`);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

function num(json: Record<string, unknown>, key: string): number {
  const v = json[key];
  assert.type(v, 'number', `${key} should be a number in ${JSON.stringify(json)}`);
  return v as number;
}

// --- Servers that break the echo -------------------------------------------------------------

/** Flips one bit of the nth byte (1-based) it echoes on each connection. */
function flipNthByte(n: number) {
  return (sock: Socket) => {
    let echoed = 0;
    sock.on('data', (d: Buffer) => {
      const at = n - 1 - echoed;
      echoed += d.length;
      if (at >= 0 && at < d.length) {
        d = Buffer.from(d);
        d[at] = d[at]! ^ 0x10;
      }
      sock.write(d);
    });
  };
}

/** Echoes every chunk twice. */
const echoTwice = (sock: Socket) =>
  sock.on('data', (d: Buffer) => {
    sock.write(d);
    sock.write(d);
  });

/** Echoes all but the last byte of the nth chunk (1-based) on each connection. */
function dropLastByteOfChunk(n: number) {
  return (sock: Socket) => {
    let chunks = 0;
    sock.on('data', (d: Buffer) => {
      chunks++;
      sock.write(chunks === n ? d.subarray(0, d.length - 1) : d);
    });
  };
}

/** Echoes the first chunk, then ends the connection and ignores anything more. */
const closeAfterFirstEcho = (sock: Socket) => {
  let closed = false;
  sock.on('data', (d: Buffer) => {
    if (closed) return;
    closed = true;
    sock.end(d);
  });
};

/** Echoes every chunk followed by one byte that was never sent. */
const appendOneByte = (sock: Socket) => sock.on('data', (d: Buffer) => sock.write(Buffer.concat([d, Buffer.of(0x55)])));

// --- Tests ------------------------------------------------------------------------------------

test('correct echo server: pingpong 4 x 64 B exits 0 with every round trip verified', async () => {
  const r = await runAgainst(correctEcho, ['--mode', 'pingpong', '--conns', '4', '--size', '64', ...SHORT]);
  assert.is(r.code, 0, describe(r));
  assert.is(r.stderr, '', describe(r));
  const json = parseJson(r);
  assert.is(json.mode, 'pingpong');
  assert.is(json.conns, 4);
  assert.is(json.size, 64);
  const trips = num(json, 'round_trips');
  assert.ok(trips > 0, describe(r));
  assert.ok(num(json, 'rps') > 0, describe(r));
  assert.ok(num(json, 'p50_us') > 0, describe(r));
  assert.ok(num(json, 'p99_us') >= num(json, 'p50_us'), describe(r));
  // Round trips count only the measured window; bytes_verified also covers the warm-up.
  const verified = num(json, 'bytes_verified');
  assert.ok(verified >= trips * 64, `bytes_verified ${verified} < round_trips*64 ${trips * 64}`);
  assert.is(verified % 64, 0, 'every connection ends on a message boundary');
});

test('--stall outside 1 ms .. 1 h is a usage error (exit 1), before any connection', async () => {
  for (const bad of ['0', '-1', 'x', '4000']) {
    const r = await runAgainst(correctEcho, ['--mode', 'pingpong', '--conns', '1', '--stall', bad]);
    assert.is(r.code, 1, describe(r));
    assert.match(r.stderr, /usage: loadgen/, describe(r));
    assert.is(r.stdout, '');
  }
});

test('correct echo server: bulk with 4 connections exits 0 with mb_per_s > 0', async () => {
  const r = await runAgainst(correctEcho, ['--mode', 'bulk', '--conns', '4', ...SHORT]);
  assert.is(r.code, 0, describe(r));
  assert.is(r.stderr, '', describe(r));
  const json = parseJson(r);
  assert.is(json.mode, 'bulk');
  assert.is(json.conns, 4);
  assert.ok(num(json, 'mb_per_s') > 0, describe(r));
  assert.ok(num(json, 'bytes_verified') > 0, describe(r));
});

test('one flipped bit in the 1000th echoed byte: pingpong exits 2 with a byte mismatch', async () => {
  const r = await runAgainst(flipNthByte(1000), ['--mode', 'pingpong', '--conns', '4', '--size', '64', ...SHORT]);
  assert.is(r.code, 2, describe(r));
  assert.match(r.stderr, /mismatch/, describe(r));
  assert.match(r.stderr, /stream offset 999\b/, describe(r));
  assert.is(r.stdout, '', 'no result JSON after a failure');
});

test('one flipped bit in the 1000th echoed byte: bulk exits 2 with a byte mismatch', async () => {
  const r = await runAgainst(flipNthByte(1000), ['--mode', 'bulk', '--conns', '4', ...SHORT]);
  assert.is(r.code, 2, describe(r));
  assert.match(r.stderr, /mismatch/, describe(r));
  assert.match(r.stderr, /stream offset 999\b/, describe(r));
});

test('every chunk echoed twice: pingpong exits 2', async () => {
  const r = await runAgainst(echoTwice, ['--mode', 'pingpong', '--conns', '4', '--size', '64', ...SHORT]);
  assert.is(r.code, 2, describe(r));
  assert.match(r.stderr, /mismatch|more than sent|beyond what it sent/, describe(r));
  assert.is(r.stdout, '');
});

test('last byte of the 5th chunk never echoed: pingpong does not report success', async () => {
  // The stall starts within milliseconds; loadgen's 1 s epoll_wait then returns after the 0.4 s
  // run has ended, so it leaves the loop and fails in its fixed 2 s wait for the last echoes
  // ("waiting for the last echoes", exit 1, about 3 s): the slowest test in this file.
  const r = await runAgainst(dropLastByteOfChunk(5), ['--mode', 'pingpong', '--conns', '4', '--size', '64', ...SHORT, '--stall', '1']);
  assert.is.not(r.code, 0, describe(r));
  assert.is(r.code, 1, describe(r));
  assert.match(r.stderr, /no progress|waiting for the last echoes/, describe(r));
  assert.is(r.stdout, '', 'no result JSON after a failure');
});

test('last byte of the 5th chunk never echoed, mid-run: pingpong exits 1 with "no progress"', async () => {
  // With a run longer than the 1 s stall limit the stall is caught inside the run loop (after
  // about 1 s, idle meanwhile) instead of by the 2 s wait for the last echoes.
  const r = await runAgainst(dropLastByteOfChunk(5), [
    '--mode', 'pingpong', '--conns', '4', '--size', '64', '--seconds', '5', '--warmup', '0.1',
  ]);
  assert.is(r.code, 1, describe(r));
  assert.match(r.stderr, /no progress for 1 s/, describe(r));
  assert.is(r.stdout, '');
});

test('server closes each connection after the first echo: exits 1 with "closed"', async () => {
  const r = await runAgainst(closeAfterFirstEcho, ['--mode', 'pingpong', '--conns', '4', '--size', '64', ...SHORT]);
  assert.is(r.code, 1, describe(r));
  assert.match(r.stderr, /closed/, describe(r));
  assert.is(r.stdout, '');
});

test('one extra byte after the echo: idle mode exits 2', async () => {
  const r = await runAgainst(appendOneByte, [
    '--mode', 'idle', '--conns', '4', '--size', '64', '--pid', String(process.pid),
  ]);
  assert.is(r.code, 2, describe(r));
  assert.match(r.stderr, /more than sent|beyond what it sent/, describe(r));
  assert.is(r.stdout, '');
});

test('idle mode against the correct server measures this process', async () => {
  const r = await runAgainst(correctEcho, [
    '--mode', 'idle', '--conns', '20', '--size', '64', '--pid', String(process.pid), '--warmup-conns', '5',
  ]);
  assert.is(r.code, 0, describe(r));
  assert.is(r.stderr, '', describe(r));
  const json = parseJson(r);
  assert.is(json.mode, 'idle');
  assert.is(json.conns, 20);
  assert.is(json.size, 64);
  assert.is(json.warmup_conns, 5);
  num(json, 'kb_per_conn');
  assert.ok(num(json, 'rss_before_kb') > 0, describe(r));
  assert.ok(num(json, 'rss_after_kb') > 0, describe(r));
  assert.ok(num(json, 'setup_seconds') >= 0, describe(r));
});

test.run();
