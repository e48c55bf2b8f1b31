// Transport defects a hostile or careless user found (issue 13): each test failed before its fix.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MessageChannel } from 'node:worker_threads';
import { closeSync, existsSync, openSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reactor } from '../src/loop/index.js';
import { EpollSelector, SelectSelector } from '../src/selectors/index.js';
import {
  Socket, TransportSocket, socketpair, AF_UNIX, SOCK_STREAM, SOL_SOCKET, SO_TYPE, IPPROTO_TCP, TCP_NODELAY, OSError, ValueError,
  type Protocol, type Transport,
} from '../src/transports/index.js';
import { openFdCount } from './helpers/index.js';
import { throwsClass } from './helpers/assertions.js';
import { runBounded, settle } from './helpers/reactor.js';

const test = suite('transports-review');

let pathCounter = 0;
const tmpPath = (tag: string) => join(tmpdir(), `sl-review-${process.pid}-${tag}-${pathCounter++}.sock`);
const portOf = (server: { address(): unknown }) => (server.address() as [string, number])[1];

/** A protocol that records its calls. */
class Recorder implements Protocol {
  events: string[] = [];
  chunks: Buffer[] = [];
  transport!: Transport;
  lostErrs: Array<Error | null> = [];
  onMade?: (t: Transport) => void;
  onData?: (d: Buffer) => void;
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
    return false;
  }
  connectionLost(err: Error | null): void {
    this.events.push('lost');
    this.lostErrs.push(err);
    this.onLost?.(err);
  }
  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function echoServer(reactor: Reactor, options: { path?: string } = {}) {
  return reactor.createServer(() => {
    const p = new Recorder();
    p.onData = (d) => p.transport.write(d);
    return p;
  }, options);
}

test('write() and writeEof() while a connect is in progress: connectionMade comes, the bytes and the EOF go out, the reply comes back', () => {
  const reactor = new Reactor();
  // A listener whose accept queue is full drops the SYN: the connect stays in progress until
  // the client retransmits it (about 1 s), so send() would meet a connecting socket.
  const listener = new Socket();
  listener.bind(['127.0.0.1', 0]);
  listener.listen(0);
  const address = listener.getsockname() as [string, number];
  const filler = new Socket();
  filler.connect(address);
  const client = new Recorder();
  const t = reactor.createConnection(() => client, { host: '127.0.0.1', port: address[1] });
  t.write('hello');
  t.write(Buffer.from('world'));
  t.writeEof();
  assert.is(t.getWriteBufferSize(), 10, 'queued until connected');
  listener.accept()[0].close(); // room for the retransmitted SYN
  filler.close();
  listener.setBlocking(false);
  let peer: Socket | undefined;
  let got = '';
  reactor.addReader(listener, () => {
    reactor.removeReader(listener);
    peer = listener.accept()[0];
    peer.setBlocking(false);
    reactor.addReader(peer, () => {
      const d = peer!.recv(100);
      got += d.toString();
      if (d.length > 0) return;
      reactor.removeReader(peer!);
      peer!.sendall(`got ${got}`);
      peer!.close();
    });
  });
  client.onLost = () => reactor.stop();
  assert.not.ok(runBounded(reactor, 8000), 'the connection never completed');
  assert.is(got, 'helloworld');
  assert.equal(client.events, ['made', 'data', 'eof', 'lost']);
  assert.is(client.received.toString(), 'got helloworld');
  assert.is(client.lostErrs[0], null);
  listener.close();
  reactor.close();
});

test('a dataReceived Buffer posted with its ArrayBuffer in the transfer list: nothing else empties, the loop keeps reading', () => {
  const reactor = new Reactor();
  const reported: unknown[] = [];
  reactor.setExceptionHandler((_r, ctx) => reported.push(ctx.exception));
  const { port1, port2 } = new MessageChannel();
  const kept: Buffer[] = [];
  let transferredReads = 0;
  const server = reactor.createServer(() => {
    const p = new Recorder();
    p.onData = (d) => {
      if (d[0] === 0x41) kept.push(d); // 'A' connections keep their data
      else {
        transferredReads++;
        try {
          port1.postMessage(d, [d.buffer as ArrayBuffer]); // Node 21+: DataCloneError
        } catch (err) {
          assert.is((err as Error).name, 'DataCloneError');
        }
      }
    };
    return p;
  });
  const a = new Recorder();
  const b = new Recorder();
  const big = (c: number) => Buffer.alloc(16 * 1024, c);
  const ta = reactor.createConnection(() => a, { host: '127.0.0.1', port: portOf(server) });
  const tb = reactor.createConnection(() => b, { host: '127.0.0.1', port: portOf(server) });
  const keptBytes = () => kept.reduce((n, d) => n + d.length, 0);
  let step = 0;
  reactor.callLater(0, function drive() {
    if (step === 0 && ta.fileno() >= 0) {
      ta.write(big(0x41));
      step = 1;
    } else if (step === 1 && keptBytes() === 16 * 1024) {
      tb.write(big(0x42));
      step = 2;
    } else if (step === 2 && transferredReads > 0) {
      ta.write(big(0x41));
      tb.write(big(0x42));
      step = 3;
    } else if (step === 3 && keptBytes() === 32 * 1024) {
      return reactor.stop();
    }
    reactor.callLater(5, drive);
  });
  assert.not.ok(runBounded(reactor, 5000), 'reading stopped');
  assert.equal(reported, []);
  assert.ok(kept.every((d) => d.length > 0 && d.every((x) => x === 0x41)), 'kept data emptied or overwritten');
  ta.abort();
  tb.abort();
  server.close();
  port1.close();
  port2.close();
  settle(reactor);
  reactor.close();
});

test('a read slab detached anyway (ArrayBuffer.prototype.transfer) is replaced, never read into', () => {
  const transfer = (ArrayBuffer.prototype as { transfer?: () => ArrayBuffer }).transfer;
  if (typeof transfer !== 'function') return; // Node < 21 cannot detach an untransferable buffer
  const [x, y] = socketpair();
  try {
    y.sendall(Buffer.alloc(8192, 1));
    const first = x.recv(8192);
    try {
      transfer.call(first.buffer);
    } catch {
      return; // Node 24 refuses to detach it (not detachable): the case cannot arise there
    }
    y.sendall(Buffer.alloc(8192, 2));
    const second = x.recv(8192);
    assert.is(second.length, 8192);
    assert.ok(second.every((b) => b === 2));
  } finally {
    x.close();
    y.close();
  }
});

test('small reads kept by a protocol or Socket.recv do not pin a read slab', () => {
  const reactor = new Reactor();
  const small: Buffer[] = [];
  const server = reactor.createServer(() => {
    const p = new Recorder();
    p.onData = (d) => small.push(d);
    return p;
  });
  const client = new Recorder();
  const t = reactor.createConnection(() => client, { host: '127.0.0.1', port: portOf(server) });
  let sent = 0;
  reactor.callLater(0, function drive() {
    if (small.length >= 20) return reactor.stop();
    if (t.fileno() >= 0 && sent < 20 && small.length === sent) t.write(Buffer.alloc(100, sent++));
    reactor.callLater(2, drive);
  });
  assert.not.ok(runBounded(reactor, 5000));
  // Node's Buffer pool (8 KiB) at most, not a 256 KiB slab.
  for (const d of small) assert.ok(d.buffer.byteLength <= Buffer.poolSize, `a ${d.length} B read pins ${d.buffer.byteLength} B`);
  const [x, y] = socketpair();
  y.sendall('tiny');
  const r = x.recv(65536); // 4 B: copied out of the slab
  assert.is(r.toString(), 'tiny');
  assert.ok(r.buffer.byteLength <= Buffer.poolSize, `Socket.recv of 4 B pins ${r.buffer.byteLength} B`);
  x.close();
  y.close();
  t.abort();
  server.close();
  settle(reactor);
  reactor.close();
});

test('reactor.close() with live transports, a pending connect and servers frees every fd; connectionLost once with ERR_REACTOR_CLOSED', () => {
  const before = openFdCount();
  const reactor = new Reactor();
  const reported: unknown[] = [];
  reactor.setExceptionHandler((_r, ctx) => reported.push(ctx.exception));
  const path = tmpPath('close');
  const serverSide: Recorder[] = [];
  const factory = () => {
    const p = new Recorder();
    serverSide.push(p);
    return p;
  };
  const tcp = reactor.createServer(factory);
  const unix = reactor.createServer(factory, { path });
  const serverCloses: string[] = [];
  tcp.on('close', () => serverCloses.push('tcp'));
  unix.on('close', () => serverCloses.push('unix'));
  const c1 = new Recorder();
  const c2 = new Recorder();
  // A protocol that reconnects from connectionLost must not keep the close going forever.
  c2.onLost = () => reactor.createConnection(() => new Recorder(), { host: '127.0.0.1', port: portOf(tcp) });
  const t1 = reactor.createConnection(() => c1, { host: '127.0.0.1', port: portOf(tcp) });
  const t2 = reactor.createConnection(() => c2, { path });
  reactor.callLater(0, function wait() {
    if (serverSide.length === 2 && serverSide.every((p) => p.events.includes('made'))) reactor.stop();
    else reactor.callLater(5, wait);
  });
  assert.not.ok(runBounded(reactor, 5000));
  const c3 = new Recorder();
  const pending = reactor.createConnection(() => c3, { host: '127.0.0.1', port: portOf(tcp) });
  reactor.close();
  for (const p of [c1, c2, c3, ...serverSide]) {
    assert.is(p.lostErrs.length, 1, 'connectionLost exactly once');
    assert.is((p.lostErrs[0] as { code?: string } | null)?.code, 'ERR_REACTOR_CLOSED');
  }
  assert.equal(serverCloses, ['tcp', 'unix']);
  assert.ok(tcp.closed && unix.closed);
  assert.not.ok(existsSync(path), 'the socket file is removed');
  assert.is(reported.length, 1, 'the reconnect is refused and reported');
  assert.is((reported[0] as { code?: string }).code, 'ERR_REACTOR_CLOSED');
  for (const t of [t1, t2, pending]) {
    assert.is(t.fileno(), -1);
    t.close(); // no longer throws
    t.abort();
  }
  tcp.close();
  if (before >= 0) assert.is(openFdCount(), before, 'every fd is freed');
});

test('a connectionMade that throws, and a protocolFactory that returns undefined: reported, the transport closes, connectionLost once', () => {
  const before = openFdCount();
  const reactor = new Reactor();
  const reported: string[] = [];
  reactor.setExceptionHandler((_r, ctx) => reported.push(`${ctx.message}: ${String(ctx.exception)}`));
  const boom = new Error('boom');
  const serverLost: Array<Error | null> = [];
  let made = 0;
  let n = 0;
  const server = reactor.createServer(() => {
    // First connection: a protocol whose connectionMade throws; second: no protocol at all.
    if (n++ === 1) return undefined as unknown as Protocol;
    return {
      connectionMade() {
        made++;
        throw boom;
      },
      connectionLost: (err: Error | null) => void serverLost.push(err),
    };
  });
  const clients = [new Recorder(), new Recorder()];
  let lost = 0;
  for (const c of clients) c.onLost = () => ++lost === 2 && reactor.stop();
  reactor.createConnection(() => clients[0]!, { host: '127.0.0.1', port: portOf(server) });
  reactor.callLater(50, () => reactor.createConnection(() => clients[1]!, { host: '127.0.0.1', port: portOf(server) }));
  assert.not.ok(runBounded(reactor, 5000), 'a client was never closed by the server');
  assert.is(made, 1);
  assert.equal(serverLost, [boom]);
  for (const c of clients) assert.equal(c.events, ['made', 'eof', 'lost']);
  assert.is(server.connections, 0);
  assert.is(reported.length, 2);
  assert.match(reported[0]!, /connectionMade.*boom/);
  assert.match(reported[1]!, /protocolFactory.*TypeError/);
  server.close();
  settle(reactor);
  reactor.close();
  if (before >= 0) assert.is(openFdCount(), before);
});

/** Opens /dev/null until the next fd is past select()'s FD_SETSIZE; returns a closer. */
function fillFdsTo(limit: number): () => void {
  const fds: number[] = [];
  for (let fd = openSync('/dev/null', 'r'); ; fd = openSync('/dev/null', 'r')) {
    fds.push(fd);
    if (fd >= limit) break;
  }
  return () => fds.forEach((fd) => closeSync(fd));
}

test('a selector that refuses an existing fd (SelectSelector, fd >= 1024): servers, connects and accepts fail cleanly, nothing leaks', () => {
  const before = openFdCount();
  const reactor = new Reactor({ selector: new SelectSelector() });
  const reported: unknown[] = [];
  reactor.setExceptionHandler((_r, ctx) => reported.push(ctx.exception));
  const server = reactor.createServer(() => new Recorder()); // a low fd
  const peer = new Socket(); // connected once the fds are filled: the accepted fd is high
  const unfill = fillFdsTo(1030);
  try {
    const path = tmpPath('select');
    throwsClass(() => reactor.createServer(() => new Recorder(), { path }), ValueError, 'ValueError');
    assert.not.ok(existsSync(path), 'the socket file is left behind');

    const client = new Recorder();
    client.onLost = () => reactor.stop();
    const t = reactor.createConnection(() => client, { host: '127.0.0.1', port: portOf(server) });
    assert.not.ok(runBounded(reactor, 5000), 'the connect never failed');
    assert.equal(client.events, ['lost']);
    assert.instance(client.lostErrs[0], ValueError);
    assert.is(t.fileno(), -1);

    peer.connect(['127.0.0.1', portOf(server)]);
    // Accepted and failed at the server: the failed client's connection (the handshake had
    // completed in the kernel) and the peer's.
    reactor.callLater(0, function wait() {
      if (reported.length === 2) reactor.stop();
      else reactor.callLater(5, wait);
    });
    assert.not.ok(runBounded(reactor, 5000), 'the accepted transport never failed');
    settle(reactor);
    assert.is(server.connections, 0);
    peer.setBlocking(false);
    assert.is(peer.recv(10).length, 0, 'the accepted connection is closed');
  } finally {
    unfill();
    peer.close();
  }
  assert.is(reported.length, 2, String(reported));
  for (const e of reported) assert.instance(e, ValueError);
  server.close();
  reactor.close();
  if (before >= 0) assert.is(openFdCount(), before);
});

test('a pipe transport on /dev/null (epoll refuses it: EPERM): connectionMade, then connectionLost(EPERM) once, the fd closed', () => {
  const reactor = new Reactor({ selector: new EpollSelector() });
  const reported: unknown[] = [];
  reactor.setExceptionHandler((_r, ctx) => reported.push(ctx.exception));
  const before = openFdCount();
  const fd = openSync('/dev/null', 'r');
  const p = new Recorder();
  p.onLost = () => reactor.stop();
  const [t] = reactor.connectReadPipe(() => p, fd);
  assert.not.ok(runBounded(reactor, 5000));
  assert.equal(p.events, ['made', 'lost']);
  assert.is((p.lostErrs[0] as OSError).code, 'EPERM');
  assert.is(reported.length, 1);
  assert.is(t.fileno(), -1);
  if (before >= 0) assert.is(openFdCount(), before, 'the transport closes the fd it owns');
  reactor.close();
});

test('Unix socket paths: close() unlinks only its own file; a live path is refused (EADDRINUSE); a stale one is reused', () => {
  const reactor = new Reactor();
  const path = tmpPath('owner');
  const first = reactor.createServer(() => new Recorder(), { path });
  unlinkSync(path); // someone removes it, and another server binds the path
  const second = echoServer(reactor, { path });
  first.close();
  assert.ok(existsSync(path), "close() removed another server's socket file");

  const err = (() => {
    try {
      reactor.createServer(() => new Recorder(), { path });
    } catch (e) {
      return e as OSError;
    }
    return undefined;
  })();
  assert.is(err?.code, 'EADDRINUSE', 'binding took over a live path');
  // Still second's: a client gets its echo.
  const client = new Recorder();
  client.onMade = (t) => t.write('ping');
  client.onData = () => reactor.stop();
  const t = reactor.createConnection(() => client, { path });
  assert.not.ok(runBounded(reactor, 5000));
  assert.is(client.received.toString(), 'ping');
  t.abort();
  second.close();
  assert.not.ok(existsSync(path), 'close() leaves its own file behind');

  // A stale socket file (its server gone without unlinking) is removed and the path reused.
  const stale = new Socket(AF_UNIX, SOCK_STREAM);
  stale.bind(path);
  stale.close();
  assert.ok(existsSync(path));
  const third = reactor.createServer(() => new Recorder(), { path });
  third.close();
  assert.not.ok(existsSync(path));
  settle(reactor);
  reactor.close();
});

test('an AF_UNIX connect refused with EAGAIN (backlog full) fails with EAGAIN, not a later ENOTCONN', () => {
  const reactor = new Reactor();
  const path = tmpPath('backlog');
  const listener = new Socket(AF_UNIX, SOCK_STREAM);
  listener.bind(path);
  listener.listen(0); // one connection fits, never accepted
  const clients = [new Recorder(), new Recorder(), new Recorder()];
  const transports = clients.map((c) => reactor.createConnection(() => c, { path }));
  settle(reactor, 50);
  const codes = clients.flatMap((c) => c.lostErrs.map((e) => (e as OSError | null)?.code));
  assert.ok(codes.includes('EAGAIN'), `expected EAGAIN, got ${codes.join(', ')}`);
  assert.not.ok(codes.includes('ENOTCONN'));
  for (const t of transports) t.abort();
  settle(reactor);
  listener.close();
  unlinkSync(path);
  reactor.close();
});

test('setWriteBufferLimits({ max }): a protocol that ignores pauseWriting fails with ERR_WRITE_BUFFER_FULL; unbounded by default', () => {
  const reactor = new Reactor();
  const reported: unknown[] = [];
  reactor.setExceptionHandler((_r, ctx) => reported.push(ctx.exception));
  const server = reactor.createServer(() => {
    const p = new Recorder();
    p.onMade = (t) => t.pauseReading(); // a peer that never reads
    return p;
  });
  const client = new Recorder();
  let writes = 0;
  client.onMade = (t) => {
    assert.equal(t.getWriteBufferLimits(), { high: 65536, low: 16384, max: Infinity });
    throwsClass(() => t.setWriteBufferLimits({ high: 1 << 20, max: 1000 }), ValueError, 'ValueError');
    throwsClass(() => t.setWriteBufferLimits({ max: -1 }), ValueError, 'ValueError');
    t.setWriteBufferLimits({ max: 8 << 20 });
    assert.equal(t.getWriteBufferLimits(), { high: 65536, low: 16384, max: 8 << 20 });
    const chunk = Buffer.alloc(1 << 20);
    while (!t.isClosing() && writes < 64) {
      t.write(chunk); // pauseWriting ignored
      writes++;
    }
    assert.throws(() => t.write('x'), (e: { code?: string }) => e.code === 'ERR_TRANSPORT_CLOSED');
  };
  client.onLost = () => reactor.stop();
  reactor.createConnection(() => client, { host: '127.0.0.1', port: portOf(server) });
  assert.not.ok(runBounded(reactor, 5000));
  assert.ok(writes > 8, `the buffer held ${writes} MiB`);
  assert.equal(client.events, ['made', 'lost']);
  assert.is((client.lostErrs[0] as { code?: string }).code, 'ERR_WRITE_BUFFER_FULL');
  assert.equal(reported, [], 'a slow peer is not reported');
  server.close();
  settle(reactor);
  reactor.close();
});

test("server.close() inside a 'connection' listener: the accept loop stops (no accept(-1), no error)", () => {
  const reactor = new Reactor();
  const reported: unknown[] = [];
  reactor.setExceptionHandler((_r, ctx) => reported.push(ctx.exception));
  const server = reactor.createServer(() => new Recorder());
  const errors: unknown[] = [];
  server.on('error', (e: unknown) => errors.push(e));
  let accepted: Transport | undefined;
  server.on('connection', (t: Transport) => {
    accepted = t;
    server.close();
  });
  const client = new Recorder();
  const ct = reactor.createConnection(() => client, { host: '127.0.0.1', port: portOf(server) });
  reactor.callLater(0, function wait() {
    if (accepted !== undefined) reactor.stop();
    else reactor.callLater(5, wait);
  });
  assert.not.ok(runBounded(reactor, 5000));
  settle(reactor);
  assert.equal(reported, []);
  assert.equal(errors, []);
  accepted!.abort();
  ct.abort();
  settle(reactor);
  reactor.close();
});

test("an empty Unix path is refused (it would bind or reach an abstract socket)", () => {
  const before = openFdCount();
  const reactor = new Reactor();
  throwsClass(() => reactor.createServer(() => new Recorder(), { path: '' }), ValueError, 'ValueError');
  throwsClass(() => reactor.createConnection(() => new Recorder(), { path: '' }), ValueError, 'ValueError');
  reactor.close();
  if (before >= 0) assert.is(openFdCount(), before);
});

test("getExtraInfo('socket'): a Socket view; options and addresses work, I/O, close and mode changes throw; disposing never closes", () => {
  const reactor = new Reactor();
  const server = echoServer(reactor);
  const client = new Recorder();
  let view: TransportSocket | undefined;
  client.onMade = (t) => {
    view = t.getExtraInfo('socket') as TransportSocket;
    assert.instance(view, Socket);
    assert.instance(view, TransportSocket);
    assert.is(t.getExtraInfo('socket'), view, 'one view per transport');
    assert.is(view.fileno(), t.fileno());
    assert.not.ok(view.closed);
    assert.equal(view.getsockname(), t.getExtraInfo('sockname'));
    assert.equal(view.getpeername(), ['127.0.0.1', portOf(server)]);
    assert.is(view.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    view.setsockopt(IPPROTO_TCP, TCP_NODELAY, 0);
    assert.is(view.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
    view.setsockopt(IPPROTO_TCP, TCP_NODELAY, true);
    assert.is(view.getBlocking(), false);
    const v = view as unknown as Record<string, (...a: unknown[]) => unknown>;
    const refused = ['close', 'detach', 'recv', 'recvInto', 'recvfrom', 'send', 'sendall', 'sendto', 'accept', 'connect', 'bind', 'listen', 'setBlocking'];
    const args: Record<string, unknown[]> = { recv: [10], recvInto: [Buffer.alloc(4)], recvfrom: [10], send: ['x'], sendall: ['x'], sendto: ['x', ['127.0.0.1', 1]], setBlocking: [true], connect: [['127.0.0.1', 1]], bind: [['127.0.0.1', 0]], listen: [1] };
    for (const name of refused) {
      assert.throws(() => v[name]!.apply(view, args[name] ?? []), (e: { code?: string }) => e.code === 'ERR_TRANSPORT_SOCKET', name);
    }
    view[Symbol.dispose]();
    t.write('still open');
  };
  client.onData = () => {
    if (client.received.length === 10) reactor.stop();
  };
  const t = reactor.createConnection(() => client, { host: '127.0.0.1', port: portOf(server) });
  assert.not.ok(runBounded(reactor, 5000));
  assert.is(client.received.toString(), 'still open', 'disposing the view closed the fd');
  t.close();
  settle(reactor);
  // After the close the view follows the transport: no stale fd number.
  assert.is(view!.fileno(), -1);
  assert.ok(view!.closed);
  assert.throws(() => view!.getsockname(), (e: OSError) => e.code === 'EBADF');
  server.close();
  settle(reactor);
  reactor.close();
});

test.run();
