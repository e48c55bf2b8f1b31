// selectloop/transports: stream transports, servers, clients and pipes, driven by one Reactor.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reactor } from '../src/loop/index.js';
import {
  Socket, AF_UNIX, SOCK_STREAM, OSError, pipe, closeFd,
  type Protocol, type BufferedProtocol, type Transport, type Server,
} from '../src/transports/index.js';
import { openFdCount } from './helpers/index.js';
import { runBounded, settle } from './helpers/reactor.js';

const test = suite('transports');



const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A protocol that records its calls. */
class Recorder implements Protocol {
  events: string[] = [];
  chunks: Buffer[] = [];
  transport!: Transport;
  lostErr: Error | null | undefined = undefined;
  lostCount = 0;
  keepOpen = false;
  onMade?: (t: Transport) => void;
  onData?: (d: Buffer) => void;
  onEof?: () => void;
  onLost?: (e: Error | null) => void;
  connectionMade(t: Transport): void {
    this.transport = t;
    this.events.push('made');
    this.onMade?.(t);
  }
  dataReceived(d: Buffer): void {
    if (this.events[this.events.length - 1] !== 'data') this.events.push('data');
    this.chunks.push(d);
    this.onData?.(d);
  }
  eofReceived(): boolean {
    this.events.push('eof');
    this.onEof?.();
    return this.keepOpen;
  }
  connectionLost(err: Error | null): void {
    this.events.push('lost');
    this.lostCount++;
    this.lostErr = err;
    this.onLost?.(err);
  }
  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

test('call order: connectionMade -> dataReceived* -> eofReceived -> connectionLost(null), once each side', () => {
  const reactor = new Reactor();
  const serverSide: Recorder[] = [];
  const server = reactor.createServer(() => {
    const p = new Recorder();
    p.onData = (d) => p.transport.write(d);
    serverSide.push(p);
    return p;
  });
  const [, port] = server.address() as [string, number];
  const client = new Recorder();
  client.onMade = (t) => {
    t.write('hello ');
    t.write('world');
  };
  client.onData = () => {
    if (client.received.length === 11) client.transport.writeEof();
  };
  client.onLost = () => reactor.stop();
  reactor.createConnection(() => client, { host: '127.0.0.1', port });
  assert.not.ok(runBounded(reactor), 'time limit hit');
  settle(reactor);
  assert.is(client.received.toString(), 'hello world');
  assert.equal(client.events, ['made', 'data', 'eof', 'lost']);
  assert.is(client.lostErr, null);
  assert.is(serverSide.length, 1);
  assert.equal(serverSide[0]!.events, ['made', 'data', 'eof', 'lost']);
  assert.is(serverSide[0]!.lostCount, 1);
  assert.is(serverSide[0]!.lostErr, null);
  assert.is(server.connections, 0);
  server.close();
  assert.ok(server.closed);
  reactor.close();
});

test('eofReceived returning true keeps the write side open: reply after the half-close', () => {
  const reactor = new Reactor();
  const server = reactor.createServer(() => {
    const p = new Recorder();
    p.keepOpen = true;
    p.onEof = () => {
      assert.not.ok(p.transport.isClosing());
      p.transport.write(Buffer.concat([Buffer.from('got '), p.received]));
      p.transport.close();
    };
    return p;
  });
  const client = new Recorder();
  client.onMade = (t) => {
    t.write('request');
    t.writeEof();
    assert.ok(t.canWriteEof());
  };
  client.onLost = () => reactor.stop();
  reactor.createConnection(() => client, { host: '127.0.0.1', port: (server.address() as [string, number])[1] });
  assert.not.ok(runBounded(reactor));
  assert.is(client.received.toString(), 'got request');
  assert.equal(client.events, ['made', 'data', 'eof', 'lost']);
  server.close();
  settle(reactor);
  reactor.close();
});

test('writeEof after a large buffered write: everything drains before the FIN', () => {
  const reactor = new Reactor();
  const payload = randomBytes(4 << 20);
  let serverGot: Recorder | undefined;
  const server = reactor.createServer(() => {
    const p = new Recorder();
    p.onEof = () => {
      serverGot = p;
      reactor.stop();
    };
    return p;
  });
  let bufferedAtEof = 0;
  const client = new Recorder();
  client.onMade = (t) => {
    t.setWriteBufferLimits({ high: 64 << 20 });
    t.write(payload);
    bufferedAtEof = t.getWriteBufferSize();
    t.writeEof();
    assert.throws(() => t.write('x'), (e: any) => e.code === 'ERR_TRANSPORT_CLOSED');
  };
  const ct = reactor.createConnection(() => client, { host: '127.0.0.1', port: (server.address() as [string, number])[1] });
  assert.not.ok(runBounded(reactor, 20_000));
  assert.ok(bufferedAtEof > 0, 'the write was expected to be partly buffered');
  assert.ok(serverGot);
  assert.is(serverGot!.received.length, payload.length);
  assert.is(sha(serverGot!.received), sha(payload));
  ct.close();
  server.close();
  settle(reactor);
  reactor.close();
});

test('close() flushes a large buffered write, then connectionLost(null); write after close throws', () => {
  const reactor = new Reactor();
  const payload = randomBytes(8 << 20);
  const serverP = new Recorder();
  let thrown: any;
  serverP.onMade = (t) => {
    t.setWriteBufferLimits({ high: 64 << 20 });
    t.write(payload);
    assert.ok(t.getWriteBufferSize() > 0);
    t.close();
    assert.ok(t.isClosing());
    try {
      t.write('late');
    } catch (e) {
      thrown = e;
    }
  };
  const server = reactor.createServer(() => serverP);
  const client = new Recorder();
  client.onLost = () => reactor.stop();
  reactor.createConnection(() => client, { host: '127.0.0.1', port: (server.address() as [string, number])[1] });
  assert.not.ok(runBounded(reactor, 20_000));
  settle(reactor);
  assert.is(thrown?.code, 'ERR_TRANSPORT_CLOSED');
  assert.is(client.received.length, payload.length);
  assert.is(sha(client.received), sha(payload));
  assert.equal(serverP.events, ['made', 'lost']);
  assert.is(serverP.lostErr, null);
  assert.is(serverP.lostCount, 1);
  server.close();
  reactor.close();
});

test('abort() drops the buffer, connectionLost once; further close/abort are no-ops', () => {
  const reactor = new Reactor();
  const serverP = new Recorder();
  serverP.onMade = (t) => {
    t.setWriteBufferLimits({ high: 64 << 20 });
    t.write(Buffer.alloc(16 << 20, 7));
    assert.ok(t.getWriteBufferSize() > 0);
    t.abort();
    t.abort();
    t.close();
    assert.ok(t.isClosing());
    assert.throws(() => t.write('x'), (e: any) => e.code === 'ERR_TRANSPORT_CLOSED');
  };
  const server = reactor.createServer(() => serverP);
  const client = new Recorder();
  client.onLost = () => reactor.stop();
  reactor.createConnection(() => client, { host: '127.0.0.1', port: (server.address() as [string, number])[1] });
  assert.not.ok(runBounded(reactor, 10_000));
  settle(reactor, 50);
  assert.equal(serverP.events, ['made', 'lost']);
  assert.is(serverP.lostCount, 1);
  assert.ok(client.received.length < 16 << 20, 'aborted data must not all arrive');
  assert.is(client.lostCount, 1);
  server.close();
  reactor.close();
});

test('pauseReading / resumeReading / isReading', () => {
  const reactor = new Reactor();
  let serverT: Transport | undefined;
  const server = reactor.createServer(() => {
    const p = new Recorder();
    p.onMade = (t) => (serverT = t);
    return p;
  });
  const client = new Recorder();
  const log: string[] = [];
  client.onMade = (t) => {
    assert.ok(t.isReading());
    t.pauseReading();
    assert.not.ok(t.isReading());
    t.pauseReading(); // idempotent
    reactor.callLater(30, () => {
      serverT!.write('while paused');
      reactor.callLater(100, () => {
        log.push(`before resume: ${client.received.length}`);
        t.resumeReading();
        assert.ok(t.isReading());
        t.resumeReading();
      });
    });
  };
  client.onData = () => {
    if (client.received.length === 12) reactor.stop();
  };
  const ct = reactor.createConnection(() => client, { host: '127.0.0.1', port: (server.address() as [string, number])[1] });
  assert.not.ok(runBounded(reactor, 5000));
  assert.equal(log, ['before resume: 0']);
  assert.is(client.received.toString(), 'while paused');
  ct.close();
  assert.not.ok(ct.isReading());
  server.close();
  settle(reactor);
  reactor.close();
});

test('BufferedProtocol echo is byte-exact (getBuffer / bufferUpdated)', () => {
  const reactor = new Reactor();
  class BufEcho implements BufferedProtocol {
    buf = Buffer.alloc(1000); // small on purpose: many reads
    t!: Transport;
    hints: number[] = [];
    connectionMade(t: Transport) {
      this.t = t;
    }
    getBuffer(hint: number) {
      this.hints.push(hint);
      return this.buf;
    }
    bufferUpdated(n: number) {
      this.t.write(this.buf.subarray(0, n));
    }
    eofReceived() {
      return false;
    }
  }
  const protos: BufEcho[] = [];
  const server = reactor.createServer(() => {
    const p = new BufEcho();
    protos.push(p);
    return p;
  });
  const payload = randomBytes(3 << 20);
  const client = new Recorder();
  client.onMade = (t) => t.write(payload);
  // Counted, not concatenated per chunk: that is quadratic (thousands of 1000-byte echoes of 3 MiB),
  // minutes under ASan.
  let receivedBytes = 0;
  client.onData = (d) => {
    receivedBytes += d.length;
    if (receivedBytes >= payload.length) client.transport.close();
  };
  client.onLost = () => reactor.stop();
  reactor.createConnection(() => client, { host: '127.0.0.1', port: (server.address() as [string, number])[1] });
  assert.not.ok(runBounded(reactor, 20_000));
  assert.is(client.received.length, payload.length);
  assert.is(sha(client.received), sha(payload));
  assert.ok(protos[0]!.hints.length > 100);
  server.close();
  settle(reactor);
  reactor.close();
});

test('water marks: defaults {high: 65536, low: 16384}; setWriteBufferLimits re-evaluates at once; bad values rejected', () => {
  const reactor = new Reactor();
  const server = reactor.createServer(() => {
    const p = new Recorder();
    p.onMade = (t) => t.pauseReading(); // a peer that never reads
    return p;
  });
  const calls: string[] = [];
  const client = new Recorder() as Recorder & Protocol;
  client.pauseWriting = () => calls.push('pause');
  client.resumeWriting = () => calls.push('resume');
  client.onMade = (t) => {
    assert.equal(t.getWriteBufferLimits(), { high: 65536, low: 16384, max: Infinity });
    t.setWriteBufferLimits({ high: 256 << 20 });
    assert.equal(t.getWriteBufferLimits(), { high: 256 << 20, low: 64 << 20, max: Infinity });
    t.write(Buffer.alloc(32 << 20));
    const queued = t.getWriteBufferSize();
    assert.ok(queued > 1 << 20, `expected a big buffer, got ${queued}`);
    assert.equal(calls, []);
    t.setWriteBufferLimits({ high: 1024, low: 512 });
    assert.equal(calls, ['pause'], 'lowering high must pause at once');
    t.setWriteBufferLimits({ high: 256 << 20, low: 128 << 20 });
    assert.equal(calls, ['pause', 'resume'], 'raising low must resume at once');
    t.setWriteBufferLimits({ low: 100 });
    assert.equal(t.getWriteBufferLimits(), { high: 400, low: 100, max: Infinity });
    assert.equal(calls, ['pause', 'resume', 'pause']);
    assert.throws(() => t.setWriteBufferLimits({ high: 10, low: 20 }));
    assert.throws(() => t.setWriteBufferLimits({ high: -1 }));
    t.abort();
    reactor.stop();
  };
  reactor.createConnection(() => client, { host: '127.0.0.1', port: (server.address() as [string, number])[1] });
  assert.not.ok(runBounded(reactor, 5000));
  settle(reactor);
  assert.is(client.lostCount, 1);
  server.close();
  settle(reactor);
  reactor.close();
});

test('16 MiB to a non-reading peer: pauseWriting observed, buffer bounded, then all arrives byte-exact', () => {
  const reactor = new Reactor();
  const total = 16 << 20;
  const chunk = 16 * 1024;
  const pool = randomBytes(total);
  let serverP: Recorder | undefined;
  const server = reactor.createServer(() => {
    const p = new Recorder();
    p.onMade = (t) => t.pauseReading();
    p.onEof = () => reactor.stop();
    serverP = p;
    return p;
  });
  let sent = 0;
  let paused = false;
  let pauses = 0;
  let resumes = 0;
  let maxWhilePaused = 0;
  let maxBuffer = 0;
  let t!: Transport;
  const pump = () => {
    while (!paused && sent < total) {
      t.write(pool.subarray(sent, sent + chunk));
      sent += chunk;
      maxBuffer = Math.max(maxBuffer, t.getWriteBufferSize());
    }
    if (sent >= total) t.writeEof();
  };
  const client: Protocol = {
    connectionMade(tr) {
      t = tr;
      pump();
    },
    pauseWriting() {
      paused = true;
      pauses++;
      if (pauses === 1) {
        // Stay stuck a while: the buffer must not grow while paused.
        reactor.callLater(200, () => {
          maxWhilePaused = t.getWriteBufferSize();
          serverP!.transport.resumeReading();
        });
      }
    },
    resumeWriting() {
      paused = false;
      resumes++;
      pump();
    },
  };
  reactor.createConnection(() => client, { host: '127.0.0.1', port: (server.address() as [string, number])[1] });
  assert.not.ok(runBounded(reactor, 30_000));
  assert.ok(pauses >= 1, 'pauseWriting not observed');
  assert.ok(resumes >= 1);
  assert.ok(maxBuffer <= 65536 + chunk, `buffer grew to ${maxBuffer}`);
  assert.ok(maxWhilePaused <= 65536 + chunk);
  assert.is(serverP!.received.length, total);
  assert.is(sha(serverP!.received), sha(pool));
  t.close();
  serverP!.transport.close();
  server.close();
  settle(reactor);
  reactor.close();
});

test("transports emit 'data', 'end', 'drain', 'close'", () => {
  const reactor = new Reactor();
  const server = reactor.createServer(() => {
    const p = new Recorder();
    p.onMade = (t) => {
      t.setWriteBufferLimits({ high: 64 << 20 });
      t.write(Buffer.alloc(4 << 20, 1));
      t.writeEof();
    };
    p.onEof = () => undefined;
    return p;
  });
  const client = new Recorder();
  client.keepOpen = true;
  const emitted: string[] = [];
  let bytes = 0;
  const ct = reactor.createConnection(() => client, { host: '127.0.0.1', port: (server.address() as [string, number])[1] });
  ct.on('data', (d: Buffer) => {
    bytes += d.length;
    if (!emitted.includes('data')) emitted.push('data');
  });
  ct.on('end', () => {
    emitted.push('end');
    ct.setWriteBufferLimits({ high: 64 << 20 });
    ct.write(Buffer.alloc(4 << 20, 2));
    if (ct.getWriteBufferSize() === 0) emitted.push('drain'); // all went at once: nothing to drain
    ct.close();
  });
  ct.on('drain', () => emitted.push('drain'));
  ct.on('close', (err: unknown) => {
    emitted.push(`close:${err}`);
    reactor.stop();
  });
  assert.not.ok(runBounded(reactor, 20_000));
  assert.is(bytes, 4 << 20);
  assert.equal(emitted, ['data', 'end', 'drain', 'close:null']);
  server.close();
  settle(reactor);
  reactor.close();
});

test("getExtraInfo('peername' | 'sockname' | 'socket'), getProtocol / setProtocol", () => {
  const reactor = new Reactor();
  let st: Transport | undefined;
  const server = reactor.createServer(() => {
    const p = new Recorder();
    p.onMade = (t) => {
      st = t;
      reactor.stop();
    };
    return p;
  });
  const port = (server.address() as [string, number])[1];
  const client = new Recorder();
  const ct = reactor.createConnection(() => client, { host: '127.0.0.1', port });
  assert.not.ok(runBounded(reactor, 5000));
  settle(reactor);
  const peer = ct.getExtraInfo('peername') as [string, number];
  assert.equal(peer, ['127.0.0.1', port]);
  assert.equal(st!.getExtraInfo('peername'), ct.getExtraInfo('sockname'));
  assert.equal(st!.getExtraInfo('sockname'), ['127.0.0.1', port]);
  assert.is((ct.getExtraInfo('socket') as Socket).fileno(), ct.fileno());
  assert.is(ct.getExtraInfo('nope', 'dflt'), 'dflt');
  assert.is(ct.getProtocol(), client);
  const other = new Recorder();
  ct.setProtocol(other);
  assert.is(ct.getProtocol(), other);
  st!.write('to the new protocol');
  other.onData = () => reactor.stop();
  assert.not.ok(runBounded(reactor, 5000));
  assert.is(other.received.toString(), 'to the new protocol');
  assert.is(client.chunks.length, 0);
  ct.close();
  settle(reactor);
  assert.is(other.lostCount, 1);
  assert.is(client.lostCount, 0);
  server.close();
  settle(reactor);
  reactor.close();
});

function echoRoundTrip(reactor: Reactor, server: Server, connect: { host?: string; port?: number; path?: string }): Recorder {
  const client = new Recorder();
  client.onMade = (t) => {
    if (connect.path === undefined) assert.equal((t.getExtraInfo('peername') as unknown[]).slice(0, 2), [connect.host, connect.port]);
    t.write('ping over ' + JSON.stringify(connect));
  };
  client.onData = () => {
    if (client.received.toString().startsWith('ping')) client.transport.close();
  };
  client.onLost = () => reactor.stop();
  reactor.createConnection(() => client, connect);
  assert.not.ok(runBounded(reactor, 5000));
  settle(reactor);
  void server;
  return client;
}

test('TCP over ::1 (IPv6)', () => {
  const reactor = new Reactor();
  let server: Server;
  try {
    server = reactor.createServer(() => {
      const p = new Recorder();
      p.onData = (d) => p.transport.write(d);
      return p;
    }, { host: '::1' });
  } catch (e: any) {
    console.log(`  (IPv6 unavailable: ${e.code}; skipped)`);
    reactor.close();
    return;
  }
  const [host, port] = server.address() as [string, number];
  assert.is(host, '::1');
  const client = echoRoundTrip(reactor, server, { host: '::1', port });
  assert.is(client.received.toString(), `ping over {"host":"::1","port":${port}}`);
  assert.is(client.lostErr, null);
  server.close();
  reactor.close();
});

test('Unix socket: a stale socket file is replaced; the file is removed on close', () => {
  const path = join(tmpdir(), `selectloop-t-${process.pid}-${Date.now()}.sock`);
  const stale = new Socket(AF_UNIX, SOCK_STREAM);
  stale.bind(path);
  stale.close();
  assert.ok(existsSync(path) && statSync(path).isSocket(), 'stale socket file expected');
  const reactor = new Reactor();
  const server = reactor.createServer(() => {
    const p = new Recorder();
    p.onData = (d) => p.transport.write(d);
    return p;
  }, { path });
  assert.is(server.address(), path);
  const client = echoRoundTrip(reactor, server, { path });
  assert.is(client.received.toString(), `ping over {"path":${JSON.stringify(path)}}`);
  assert.is(client.lostErr, null);
  server.close();
  assert.not.ok(existsSync(path), 'socket file left behind');
  reactor.close();
});

test('connect refused: connectionLost(err) with ECONNREFUSED, no connectionMade', () => {
  const reactor = new Reactor();
  const probe = reactor.createServer(() => new Recorder());
  const port = (probe.address() as [string, number])[1];
  probe.close();
  const client = new Recorder();
  client.onLost = () => reactor.stop();
  const t = reactor.createConnection(() => client, { host: '127.0.0.1', port });
  assert.not.ok(runBounded(reactor, 5000));
  settle(reactor);
  assert.equal(client.events, ['lost']);
  assert.is((client.lostErr as any)?.code, 'ECONNREFUSED');
  assert.ok(t.isClosing());
  assert.throws(() => t.write('x'), (e: any) => e.code === 'ERR_TRANSPORT_CLOSED');
  reactor.close();
});

test('createServer on a port in use throws OSError EADDRINUSE synchronously', () => {
  const reactor = new Reactor();
  const before = openFdCount();
  const a = reactor.createServer(() => new Recorder());
  const port = (a.address() as [string, number])[1];
  let err: any;
  try {
    reactor.createServer(() => new Recorder(), { port });
  } catch (e) {
    err = e;
  }
  assert.instance(err, OSError);
  assert.is(err.code, 'EADDRINUSE');
  a.close();
  if (before >= 0) assert.is(openFdCount(), before, 'the failed listener leaked its fd');
  reactor.close();
});

test('pipes: connectWritePipe -> connectReadPipe over pipe() fds; EOF gives eofReceived then connectionLost(null)', () => {
  const reactor = new Reactor();
  const [r, w] = pipe();
  const payload = randomBytes(2 << 20);
  const reader = new Recorder();
  reader.onLost = () => reactor.stop();
  const [rt, rp] = reactor.connectReadPipe(() => reader, r);
  assert.is(rp, reader);
  assert.not.ok(rt.canWriteEof());
  assert.throws(() => rt.write('x'));
  const writer = new Recorder();
  const [wt] = reactor.connectWritePipe(() => writer, w);
  assert.ok(wt.canWriteEof());
  assert.is(wt.getExtraInfo('pipe'), w);
  wt.setWriteBufferLimits({ high: 64 << 20 });
  wt.write(payload);
  wt.close();
  assert.not.ok(runBounded(reactor, 10_000));
  settle(reactor);
  assert.is(reader.received.length, payload.length);
  assert.is(sha(reader.received), sha(payload));
  assert.equal(reader.events, ['made', 'data', 'eof', 'lost']);
  assert.is(reader.lostErr, null);
  assert.equal(writer.events, ['made', 'lost']);
  assert.is(writer.lostErr, null);
  reactor.close();
});

/** A write pipe transport run until connectionLost; onMade may close the reader end. */
function writePipeUntilLost(onMade: (t: Transport, closeReader: () => void, reactor: Reactor) => void) {
  const reactor = new Reactor();
  const [r, w] = pipe();
  const writer = new Recorder();
  writer.onLost = () => reactor.stop();
  let handled = 0;
  reactor.setExceptionHandler(() => handled++);
  const [wt] = reactor.connectWritePipe(() => writer, w);
  writer.onMade = (t) => onMade(t, () => closeFd(r), reactor);
  assert.not.ok(runBounded(reactor, 5000));
  settle(reactor, 30);
  reactor.close();
  return { writer, wt, handled };
}

test('write pipe: EPIPE when the reader is gone -> connectionLost(err), once', () => {
  const { writer, handled } = writePipeUntilLost((t, closeReader) => {
    closeReader();
    t.write('into the void');
  });
  assert.equal(writer.events, ['made', 'lost']);
  assert.is((writer.lostErr as any)?.code, 'EPIPE');
  assert.is(handled, 0, 'EPIPE is ordinary, not reported');
});

test('write pipe: the reader going away closes it at once, without a write -> connectionLost(null), once', () => {
  const before = openFdCount();
  const { writer, wt, handled } = writePipeUntilLost((_t, closeReader, reactor) => reactor.callLater(20, closeReader));
  assert.equal(writer.events, ['made', 'lost']);
  assert.is(writer.lostErr, null);
  assert.is(writer.lostCount, 1);
  assert.ok(wt.isClosing());
  assert.is(handled, 0);
  if (before >= 0) assert.is(openFdCount(), before, 'the write end was not closed');
});

test('write pipe: the reader going away with data still queued -> connectionLost(EPIPE), not logged', () => {
  const { writer, wt, handled } = writePipeUntilLost((t, closeReader, reactor) => {
    t.setWriteBufferLimits({ high: 8 << 20 });
    t.write(Buffer.alloc(4 << 20, 7)); // far more than a pipe holds: most of it waits
    assert.ok(t.getWriteBufferSize() > 0);
    reactor.callLater(20, closeReader);
  });
  assert.equal(writer.events, ['made', 'lost']);
  assert.is((writer.lostErr as any)?.code, 'EPIPE');
  assert.is(wt.getWriteBufferSize(), 0);
  assert.is(handled, 0, 'EPIPE is ordinary, not reported');
});

test('read pipe: a character device (a pty master) is accepted as asyncio does; a regular file is not', () => {
  const reactor = new Reactor();
  const fd = openSync('/dev/ptmx', 'r+');
  const reader = new Recorder();
  reader.onLost = () => reactor.stop();
  const [rt] = reactor.connectReadPipe(() => reader, fd);
  reader.onMade = () => reactor.callLater(10, () => rt.close());
  assert.not.ok(runBounded(reactor, 5000));
  assert.equal(reader.events, ['made', 'lost']);
  assert.is(reader.lostErr, null);
  const file = openSync(join(tmpdir(), `selectloop-regular-${process.pid}`), 'w');
  try {
    assert.throws(() => reactor.connectReadPipe(() => new Recorder(), file), (e: Error) => e.name === 'ValueError' && /not a pipe, socket or character device/.test(e.message));
  } finally {
    closeSync(file);
    unlinkSync(join(tmpdir(), `selectloop-regular-${process.pid}`));
  }
  reactor.close();
});

test("pipes to a child process's stdio ('cat'): byte-exact round trip, EOF both ways", async () => {
  const reactor = new Reactor();
  const [inR, inW] = pipe();
  const [outR, outW] = pipe();
  const child = spawn('cat', [], { stdio: [inR, outW, 'inherit'] });
  closeFd(inR);
  closeFd(outW);
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const payload = randomBytes(1 << 20);
  const reader = new Recorder();
  reader.onLost = () => reactor.stop();
  reactor.connectReadPipe(() => reader, outR);
  const writer = new Recorder();
  const [wt] = reactor.connectWritePipe(() => writer, inW);
  wt.setWriteBufferLimits({ high: 64 << 20 });
  wt.write(payload);
  wt.writeEof(); // a write pipe's EOF is its close
  assert.not.ok(runBounded(reactor, 15_000));
  settle(reactor);
  assert.is(reader.received.length, payload.length);
  assert.is(sha(reader.received), sha(payload));
  assert.equal(reader.events, ['made', 'data', 'eof', 'lost']);
  assert.equal(writer.events, ['made', 'lost']);
  assert.is(await exited, 0);
  reactor.close();
});

test('nothing leaks: fd count back to the start after these tests', () => {
  // Each test closes its reactor, servers and transports; a fresh reactor round confirms it.
  const before = openFdCount();
  const reactor = new Reactor();
  const server = reactor.createServer(() => new Recorder());
  const c = new Recorder();
  c.onMade = (t) => t.close();
  c.onLost = () => reactor.stop();
  reactor.createConnection(() => c, { host: '127.0.0.1', port: (server.address() as [string, number])[1] });
  assert.not.ok(runBounded(reactor, 5000));
  settle(reactor, 50);
  server.close();
  reactor.close();
  if (before >= 0) assert.is(openFdCount(), before);
});

test.run();
