// The Reactor's batched stream I/O (issue 15): the wait reads ready transport sockets in the same
// native call (loop/pre-reads.ts) and writes issued during an iteration leave in one sendBatch at
// its end (transports/write-batch.ts). What a protocol sees must not change: order, pauses,
// half-closes, aborts, flow control, errors. Plus the native functions' argument checks.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { Reactor } from '../src/loop/index.js';
import { native } from '../src/select/native.js';
import { type Protocol, type Transport } from '../src/transports/index.js';
import '../src/transports/index.js'; // installs the Reactor's transport methods
import { runBounded } from './helpers/reactor.js';

const test = suite('batched-io');

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

class Recorder implements Protocol {
  transport!: Transport;
  chunks: Buffer[] = [];
  events: string[] = [];
  lostErr: Error | null | undefined;
  onMade?: (t: Transport) => void;
  onData?: (d: Buffer) => void;
  onLost?: () => void;
  connectionMade(t: Transport): void {
    this.transport = t;
    this.events.push('made');
    this.onMade?.(t);
  }
  dataReceived(d: Buffer): void {
    this.events.push(`data:${d.toString('latin1')}`);
    this.chunks.push(Buffer.from(d));
    this.onData?.(d);
  }
  keepOpen = false;
  eofReceived(): boolean {
    this.events.push('eof');
    return this.keepOpen;
  }
  connectionLost(err: Error | null): void {
    this.events.push('lost');
    this.lostErr = err;
    this.onLost?.();
  }
  pauseWriting(): void {
    this.events.push('pauseWriting');
  }
  resumeWriting(): void {
    this.events.push('resumeWriting');
  }
  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** A reactor with a server whose protocols are made by `make`; returns its port. */
function serve(reactor: Reactor, make: () => Recorder): number {
  const server = reactor.createServer(make, { host: '127.0.0.1', port: 0 });
  return (server.address() as [string, number])[1];
}

test('a transport paused after the wait read its bytes gets them on resume: nothing lost, in order', () => {
  const reactor = new Reactor();
  const servers: Recorder[] = [];
  let paused: Recorder | null = null;
  const port = serve(reactor, () => {
    const p = new Recorder();
    // The first of the two to get data pauses the other, whose bytes this same wait already read.
    p.onData = () => {
      const other = servers.find((s) => s !== p)!;
      if (paused === null && other.chunks.length === 0) {
        paused = other;
        other.transport.pauseReading();
        reactor.callLater(20, () => other.transport.resumeReading());
      }
    };
    p.onLost = () => {
      if (servers.every((s) => s.events.includes('lost'))) reactor.stop();
    };
    servers.push(p);
    return p;
  });
  const clients = [new Recorder(), new Recorder()];
  let made = 0;
  for (const [i, c] of clients.entries()) {
    c.onMade = () => {
      if (++made < 2) return;
      // Both in one callback: both server sockets are readable in the same wait.
      reactor.callLater(20, () => {
        for (const [j, d] of clients.entries()) {
          d.transport.write(`payload-${j}`);
          d.transport.close();
        }
      });
    };
    void i;
    reactor.createConnection(() => c, { host: '127.0.0.1', port });
  }
  try {
    assert.is(runBounded(reactor), false, 'timed out');
    assert.ok(paused !== null);
    const got = servers.map((s) => s.received.toString()).sort();
    assert.equal(got, ['payload-0', 'payload-1']);
    for (const s of servers) assert.equal(s.events.slice(-2), ['eof', 'lost']);
  } finally {
    reactor.close();
  }
});

test('writes in one callback keep their order across write/close, write/writeEof and write/abort', () => {
  const reactor = new Reactor();
  const servers: Recorder[] = [];
  const peerPorts = new Map<Recorder, number>();
  const port = serve(reactor, () => {
    const p = new Recorder();
    p.onMade = (t) => peerPorts.set(p, (t.getExtraInfo('peername') as [string, number])[1]);
    p.onLost = () => {
      if (servers.length === 3 && servers.every((s) => s.events.includes('lost'))) reactor.stop();
    };
    servers.push(p);
    return p;
  });
  const scripts: Array<(t: Transport) => void> = [
    (t) => {
      t.write('a');
      t.write('b');
      assert.is(t.getWriteBufferSize(), 0);
      t.close();
    },
    (t) => {
      t.write('x');
      t.writeEof();
      assert.throws(() => t.write('y'), /writeEof/);
    },
    (t) => {
      t.write('sent-before-abort');
      t.abort();
    },
  ];
  const expected = new Map<number, string>();
  for (const [i, script] of scripts.entries()) {
    const c = new Recorder();
    c.onMade = (t) => {
      expected.set((t.getExtraInfo('sockname') as [string, number])[1], ['ab', 'x', 'sent-before-abort'][i]!);
      script(t);
    };
    reactor.createConnection(() => c, { host: '127.0.0.1', port });
  }
  try {
    assert.is(runBounded(reactor), false, 'timed out');
    for (const s of servers) {
      assert.is(s.received.toString(), expected.get(peerPorts.get(s)!));
      assert.equal(s.events.slice(-2), ['eof', 'lost']);
    }
  } finally {
    reactor.close();
  }
});

test('one write per iteration to a peer that does not read: the rest queues, pauseWriting/resumeWriting once each, every byte arrives', () => {
  const reactor = new Reactor();
  const chunk = Buffer.alloc(60 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7 + 3) & 0xff;
  const sent: Buffer[] = [];
  let server!: Recorder;
  const port = serve(reactor, () => {
    server = new Recorder();
    server.onMade = (t) => t.pauseReading();
    server.onLost = () => reactor.stop();
    return server;
  });
  const client = new Recorder();
  const tick = (): void => {
    const t = client.transport;
    if (client.events.includes('pauseWriting')) {
      // The buffer is above the high-water mark: let the peer read, close once all is out.
      server.transport.resumeReading();
      t.close();
      return;
    }
    const piece = Buffer.from(chunk);
    piece[0] = sent.length & 0xff;
    sent.push(piece);
    t.write(piece);
    reactor.callSoon(tick);
  };
  client.onMade = () => reactor.callSoon(tick);
  reactor.createConnection(() => client, { host: '127.0.0.1', port });
  try {
    assert.is(runBounded(reactor), false, 'timed out');
    assert.equal(client.events.filter((e) => e.endsWith('Writing')), ['pauseWriting', 'resumeWriting']);
    assert.is(server.received.length, sent.length * chunk.length);
    assert.is(sha(server.received), sha(Buffer.concat(sent)));
  } finally {
    reactor.close();
  }
});

test('a transport that receives large reads reads for itself, and goes back to reads by the wait when they are small again; every byte in order', () => {
  const reactor = new Reactor();
  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 13 + 5) & 0xff;
  let server!: Recorder;
  const seen: boolean[] = [];
  const port = serve(reactor, () => {
    server = new Recorder();
    server.onData = () => seen.push((server.transport as unknown as { readsItself(): boolean }).readsItself());
    return server;
  });
  const client = new Recorder();
  let phase = 0;
  const expected = Buffer.concat([big, Buffer.from('small-1'), Buffer.from('small-2')]);
  const step = (): void => {
    const got = server?.received.length ?? 0;
    if (phase === 0) {
      client.transport.write(big);
      phase = 1;
    } else if (phase === 1 && got === big.length) {
      client.transport.write('small-1');
      phase = 2;
    } else if (phase === 2 && got === big.length + 7) {
      client.transport.write('small-2');
      phase = 3;
    } else if (phase === 3 && got === expected.length) {
      client.transport.close();
      return reactor.stop();
    }
    reactor.callLater(0.001, step);
  };
  client.onMade = () => reactor.callSoon(step);
  reactor.createConnection(() => client, { host: '127.0.0.1', port });
  try {
    assert.is(runBounded(reactor), false, 'timed out');
    assert.is(sha(server.received), sha(expected));
    assert.ok(seen.slice(0, -2).includes(true), 'large reads: the transport read for itself');
    // 'small-1' came by its own read (which turned the wait's reads back on), 'small-2' by the wait.
    assert.equal(seen.slice(-2), [false, false]);
    assert.equal(server.events.slice(-2), ['data:small-1', 'data:small-2']);
  } finally {
    reactor.close();
  }
});

test('the unsent rest of a staged write survives the staging area being reused by other writes', () => {
  const reactor = new Reactor();
  const chunkOf = (tag: number, n: number) => {
    const b = Buffer.alloc(60 * 1024);
    for (let i = 0; i < b.length; i++) b[i] = (i * 13 + tag * 101 + n * 7) & 0xff;
    return b;
  };
  const servers = new Map<number, Recorder>();
  const port = serve(reactor, () => {
    const p = new Recorder();
    p.onMade = (t) => {
      const peer = (t.getExtraInfo('peername') as [string, number])[1];
      servers.set(peer, p);
    };
    p.onLost = () => {
      if ([...servers.values()].filter((s) => s.events.includes('lost')).length === 2) reactor.stop();
    };
    return p;
  });
  let slowPort = -1;
  const slow = new Recorder();
  const fast = new Recorder();
  const sent = new Map<Recorder, Buffer[]>([[slow, []], [fast, []]]);
  let ticks = 0;
  let pausedAt = 0;
  let made = 0;
  const tick = (): void => {
    if (ticks === 0) servers.get(slowPort)!.transport.pauseReading(); // the slow peer: its client's writes back up
    // Every iteration the slow side writes first (its rest lies at the start of the staging
    // area), then the fast side, whose next write reuses that start.
    for (const c of [slow, fast]) {
      if (c === slow && slow.events.includes('pauseWriting')) continue;
      const piece = chunkOf(c === slow ? 1 : 2, ticks);
      sent.get(c)!.push(piece);
      c.transport.write(piece);
    }
    // Until the slow side's buffer passed the high-water mark (and a few more rounds), at most 2000.
    if (!slow.events.includes('pauseWriting')) pausedAt = ++ticks;
    else ticks++;
    if (ticks < pausedAt + 5 && ticks < 2000) return void reactor.callSoon(tick);
    for (const s of servers.values()) s.transport.resumeReading();
    slow.transport.close();
    fast.transport.close();
  };
  for (const c of [slow, fast]) {
    c.onMade = (t) => {
      if (c === slow) slowPort = (t.getExtraInfo('sockname') as [string, number])[1];
      if (++made === 2) reactor.callLater(20, tick);
    };
  }
  reactor.createConnection(() => slow, { host: '127.0.0.1', port });
  reactor.createConnection(() => fast, { host: '127.0.0.1', port });
  try {
    assert.is(runBounded(reactor), false, 'timed out');
    assert.ok(slow.events.includes('pauseWriting'));
    const slowServer = servers.get(slowPort)!;
    const fastServer = [...servers.values()].find((s) => s !== slowServer)!;
    assert.is(sha(slowServer.received), sha(Buffer.concat(sent.get(slow)!)));
    assert.is(sha(fastServer.received), sha(Buffer.concat(sent.get(fast)!)));
  } finally {
    reactor.close();
  }
});

test('a write the peer resets reaches connectionLost with the error, once', () => {
  const reactor = new Reactor();
  const port = serve(reactor, () => {
    const p = new Recorder();
    p.onMade = (t) => t.abort();
    return p;
  });
  const client = new Recorder();
  client.keepOpen = true; // the half-closed side goes on writing into the reset
  let writes = 0;
  const tick = (): void => {
    if (client.events.includes('lost')) return;
    try {
      client.transport.write('ping');
      writes++;
    } catch {
      return; // closing: connectionLost is on its way
    }
    reactor.callLater(1, tick);
  };
  client.onMade = () => reactor.callLater(20, tick);
  client.onLost = () => reactor.stop();
  reactor.createConnection(() => client, { host: '127.0.0.1', port });
  try {
    assert.is(runBounded(reactor), false, 'timed out');
    assert.ok(writes >= 1);
    assert.equal(client.events.filter((e) => e === 'lost'), ['lost']);
    const err = client.lostErr as { code?: string; errno?: number } | null;
    assert.ok(err?.code === 'ECONNRESET' || err?.code === 'EPIPE', `got ${String(err)} code ${String(err?.code)} errno ${String(err?.errno)}`);
  } finally {
    reactor.close();
  }
});

test('bytes read for a connection aborted in the same iteration never reach the connection that reuses its fd', () => {
  const reactor = new Reactor();
  const servers: Recorder[] = [];
  let aborted: Recorder | null = null;
  let late: Recorder | null = null;
  const port = serve(reactor, () => {
    const p = new Recorder();
    p.onData = () => {
      const other = servers.find((s) => s !== p && s !== late);
      if (aborted === null && other !== undefined && other.chunks.length === 0) {
        aborted = other;
        other.transport.abort();
        // A new connection, likely on the aborted one's fd once it is released.
        reactor.callLater(20, () => {
          const c = new Recorder();
          c.onMade = (t) => {
            t.write('fresh');
            t.close();
          };
          reactor.createConnection(() => c, { host: '127.0.0.1', port });
        });
      }
    };
    p.onLost = () => {
      if (p === late) reactor.stop();
    };
    if (servers.length === 2) late = p;
    servers.push(p);
    return p;
  });
  const clients = [new Recorder(), new Recorder()];
  let made = 0;
  for (const c of clients) {
    c.onMade = () => {
      if (++made < 2) return;
      reactor.callLater(20, () => {
        for (const d of clients) d.transport.write('stale-bytes');
      });
    };
    reactor.createConnection(() => c, { host: '127.0.0.1', port });
  }
  try {
    assert.is(runBounded(reactor), false, 'timed out');
    const [gone, fresh] = [aborted as Recorder | null, late as Recorder | null];
    assert.ok(gone !== null && fresh !== null);
    assert.equal(gone.chunks, []);
    assert.is(fresh.received.toString(), 'fresh');
  } finally {
    reactor.close();
  }
});

test('native epollWaitRead and sendBatch refuse bad arguments with TypeError/RangeError', () => {
  if (native.epollWaitRead === undefined) return;
  const epfd = native.epollCreate!();
  try {
    const out = new Int32Array(16);
    const marks = new Uint8Array(8);
    const offsets = new Int32Array(8);
    const results = new Int32Array(8).fill(native.NOT_READ);
    const slab = Buffer.alloc(1024);
    const cursor = Int32Array.of(0, 0, 65536);
    const ok = [epfd, out, 4, 0, marks, offsets, results, slab, cursor, 64] as const;
    assert.is(native.epollWaitRead(...ok), 0);
    const bad = (i: number, v: unknown, kind: ErrorConstructor) => {
      const args: unknown[] = [...ok];
      args[i] = v;
      assert.throws(() => (native.epollWaitRead as (...a: unknown[]) => number)(...args), (e: unknown) => e instanceof kind, `arg ${i} = ${String(v)}`);
    };
    bad(4, new Int8Array(8), TypeError);
    bad(5, new Int32Array(4), RangeError); // shorter than marks
    bad(6, new Float64Array(8), TypeError);
    bad(7, 'slab', TypeError);
    bad(8, new Int32Array(2), RangeError);
    bad(8, Int32Array.of(0, 0, 0), RangeError); // no large-read size
    bad(8, Int32Array.of(2048, 0, 0), RangeError); // cursor past the slab
    bad(9, 0, RangeError);
    bad(7, new Uint8Array(out.buffer), RangeError); // the slab over the event array
    bad(6, offsets, RangeError); // results over offsets
  } finally {
    native.close(epfd);
  }
  const entries = new Int32Array(10);
  const staging = Buffer.alloc(16);
  const slab = Buffer.alloc(32);
  entries.set([-1, 0, 0, 16, 0, -1, 1, 8, 24, 0]);
  assert.is(native.sendBatch(entries, 2, staging, slab), 2);
  assert.throws(() => native.sendBatch(entries, 3, staging, slab), RangeError);
  assert.throws(() => native.sendBatch(new Uint32Array(10) as unknown as Int32Array, 1, staging, slab), TypeError);
  assert.throws(() => (native.sendBatch as (...a: unknown[]) => number)(entries, 1, staging), TypeError);
  entries.set([-2, 0, 0, 1, 0], 0);
  assert.throws(() => native.sendBatch(entries, 1, staging, slab), RangeError);
  entries.set([-1, 2, 0, 1, 0], 0);
  assert.throws(() => native.sendBatch(entries, 1, staging, slab), RangeError);
  entries.set([-1, 0, 10, 7, 0], 0);
  assert.throws(() => native.sendBatch(entries, 1, staging, slab), RangeError);
  entries.set([-1, 1, 10, 23, 0], 0);
  assert.throws(() => native.sendBatch(entries, 1, staging, slab), RangeError);
});

test.run();
