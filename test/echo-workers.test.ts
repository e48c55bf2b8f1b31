// examples/echo-workers: one Reactor per worker_thread on one SO_REUSEPORT port. The kernel picks
// the worker by a hash of each connection's 4-tuple, so with 64 connections (64 different client
// ports) the chance that all land on one of two workers is 2^-63: the spread is checked by the ids
// the workers announce, not by any timing. Every byte is checked, and SIGINT must stop everything.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type Socket as NetSocket } from 'node:net';
import { startExample, type RunningServer } from './helpers/server.js';
import { withTimeout } from './helpers/index.js';

const test = suite('echo-workers');
const CONNECTIONS = 64;
const WORKERS = 2;

/** Connects, sends `payload`, and resolves with everything received until `expect` bytes came. */
function exchange(port: number, payload: Buffer, expect: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const sock: NetSocket = connect(port, '127.0.0.1', () => sock.write(payload));
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= expect) {
        sock.end();
        resolve(Buffer.concat(chunks));
      }
    });
    sock.on('error', reject);
    sock.on('close', () => {
      if (got < expect) reject(new Error(`closed after ${got} of ${expect} bytes`));
    });
  });
}

test(`${CONNECTIONS} connections spread over ${WORKERS} workers, every byte echoed; SIGINT stops them all`, async () => {
  let server: RunningServer | null = null;
  try {
    server = await startExample('examples/echo-workers.js', ['0', '--workers', String(WORKERS), '--announce']);
    const port = server.port;
    const perWorker = new Map<string, number>();
    const runs = Array.from({ length: CONNECTIONS }, async (_, i) => {
      // A distinct payload per connection, so a reply from the wrong connection would not match.
      const payload = Buffer.alloc(1000 + i, 0);
      for (let j = 0; j < payload.length; j++) payload[j] = (i * 31 + j * 7) & 0xff;
      // The greeting is "worker <digit>\n": 9 bytes for fewer than 10 workers.
      const reply = await exchange(port, payload, 9 + payload.length);
      const greeting = reply.subarray(0, 9).toString('latin1');
      assert.match(greeting, /^worker \d\n$/, `connection ${i} greeting`);
      assert.is(reply.length, 9 + payload.length, `connection ${i}: no extra bytes`);
      assert.ok(reply.subarray(9).equals(payload), `connection ${i}: echo differs`);
      const id = greeting.slice(7, 8);
      perWorker.set(id, (perWorker.get(id) ?? 0) + 1);
    });
    await withTimeout(Promise.all(runs), 20_000, 'echoes');
    assert.ok([...perWorker.keys()].every((id) => Number(id) < WORKERS), `ids ${[...perWorker.keys()]}`);
    assert.is(perWorker.size, WORKERS, `connections per worker: ${JSON.stringify(Object.fromEntries(perWorker))}`);
    assert.is([...perWorker.values()].reduce((a, b) => a + b, 0), CONNECTIONS);

    const child = server.child;
    const exited = new Promise<[number | null, string | null]>((res) => child.once('exit', (code, signal) => res([code, signal])));
    child.kill('SIGINT');
    const [code, signal] = await withTimeout(exited, 10_000, 'exit after SIGINT');
    assert.equal([code, signal], [0, null], server.output());
    assert.match(server.output(), /all workers stopped/);
  } finally {
    await server?.stop();
  }
});

test.run();
