// Promise sock_* methods (asyncio's loop.sock_*), with the lessons of LESSONS-v2 (b): cancel then
// retry on the same fd, nothing accepted into a settled promise, connect with no await between
// connect() and watching, listeners removed, aborted sendall semantics, no growth on abort/retry.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Reactor } from '../src/loop/index.js';
import { EVENT_READ, EVENT_WRITE } from '../src/selectors/index.js';
import {
  Socket, socketpair, AF_INET, AF_INET6, SOCK_DGRAM, SOL_SOCKET, SO_SNDBUF, SO_RCVBUF, ValueError, OSError,
} from '../src/transports/index.js';
import { hostResolver } from '../src/transports/host-resolver.js';
import { openFdCount, withTimeout } from './helpers/index.js';

const test = suite('sock-methods');
const fdsAtStart = openFdCount();
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Runs body in Reactor.run, bounded in time; closes the sockets it lists afterwards. */
function withReactor<T>(body: (reactor: Reactor, own: (...s: Socket[]) => void) => Promise<T>): Promise<T> {
  const sockets: Socket[] = [];
  return withTimeout(
    Reactor.run((reactor) => body(reactor, (...s) => sockets.push(...s))).finally(() => {
      for (const s of sockets) s.close();
    }),
    20_000,
  );
}

function nonBlockingPair(): [Socket, Socket] {
  const [a, b] = socketpair();
  a.setBlocking(false);
  b.setBlocking(false);
  return [a, b];
}

function listener(): Socket {
  const l = new Socket();
  l.bind(['127.0.0.1', 0]);
  l.listen(16);
  l.setBlocking(false);
  return l;
}

const tick = (reactor: Reactor, n = 3): Promise<void> =>
  new Promise((resolve) => {
    const step = (left: number): unknown => (left === 0 ? resolve() : reactor.callSoon(step, left - 1));
    step(n);
  });

const codeOf = (p: Promise<unknown>): Promise<string | undefined> =>
  p.then(
    () => 'resolved',
    (e: { code?: string; name?: string }) => e.code ?? e.name,
  );

test('sockRecv resolves with the exact bytes and leaves no reader registered', () =>
  withReactor(async (reactor, own) => {
    const [a, b] = nonBlockingPair();
    own(a, b);
    const pending = reactor.sockRecv(a, 100);
    assert.is(reactor.watchedEvents(a.fileno()), EVENT_READ, 'waits for reading');
    b.send('hello');
    assert.is((await pending).toString(), 'hello');
    assert.is(reactor.watchedEvents(a.fileno()), 0);
    b.send('now');
    assert.is((await reactor.sockRecv(a, 100)).toString(), 'now', 'ready data: no wait');
    b.close();
    assert.is((await reactor.sockRecv(a, 100)).length, 0, 'EOF: empty Buffer');
  }));

test('a blocking socket is a ValueError, a non-socket a TypeError, a closed reactor ERR_REACTOR_CLOSED', async () => {
  await withReactor(async (reactor, own) => {
    const [a, b] = socketpair();
    own(a, b);
    const err = await reactor.sockRecv(a, 1).catch((e: unknown) => e);
    assert.instance(err, ValueError);
    assert.match(String(err), /non-blocking/);
    assert.instance(await reactor.sockSendall(a, 'x').catch((e: unknown) => e), ValueError);
    assert.instance(await reactor.sockRecv(3 as never, 1).catch((e: unknown) => e), TypeError);
    a.setBlocking(false);
    assert.instance(await reactor.sockRecv(a, -1).catch((e: unknown) => e), ValueError);
    assert.instance(await reactor.sockRecv(a, 1, { signal: 'x' as never }).catch((e: unknown) => e), TypeError);
  });
  const reactor = new Reactor();
  reactor.close();
  const [a, b] = nonBlockingPair();
  assert.is(await codeOf(reactor.sockRecv(a, 1)), 'ERR_REACTOR_CLOSED');
  a.close();
  b.close();
});

test('two concurrent reads of one socket: the second rejects ERR_FD_BUSY, the first completes; read + write together is fine', () =>
  withReactor(async (reactor, own) => {
    const [a, b] = nonBlockingPair();
    own(a, b);
    const first = reactor.sockRecv(a, 10);
    assert.is(await codeOf(reactor.sockRecv(a, 10)), 'ERR_FD_BUSY');
    assert.is(await codeOf(reactor.sockRecvInto(a, Buffer.alloc(4))), 'ERR_FD_BUSY');
    await reactor.sockSendall(a, 'ping'); // writing while a read waits
    assert.is((await reactor.sockRecv(b, 10)).toString(), 'ping');
    b.send('pong');
    assert.is((await first).toString(), 'pong');
  }));

test('an fd someone else watches (addReader, a transport) is refused', () =>
  withReactor(async (reactor, own) => {
    const [a, b] = nonBlockingPair();
    own(a, b);
    reactor.addReader(a.fileno(), () => undefined);
    assert.is(await codeOf(reactor.sockRecv(a, 1)), 'ERR_FD_BUSY');
    assert.ok(reactor.removeReader(a.fileno()), 'the other reader is untouched');
  }));

test('abort, then re-issue at once on the same fd: the new call completes; the old one rejected with the reason', () =>
  withReactor(async (reactor, own) => {
    const [a, b] = nonBlockingPair();
    own(a, b);
    for (let i = 0; i < 50; i++) {
      const ac = new AbortController();
      const old = reactor.sockRecv(a, 10, { signal: ac.signal });
      const reason = new Error(`stop ${i}`);
      ac.abort(reason);
      const fresh = reactor.sockRecv(a, 10);
      assert.is(reactor.watchedEvents(a.fileno()), EVENT_READ, 'the new reader is registered');
      b.send(`m${i}`);
      assert.is(await old.catch((e: unknown) => e), reason);
      assert.is((await fresh).toString(), `m${i}`);
      assert.is(reactor.watchedEvents(a.fileno()), 0);
    }
  }));

test('an already-aborted signal rejects before anything is registered or read; the default reason is an AbortError', () =>
  withReactor(async (reactor, own) => {
    const [a, b] = nonBlockingPair();
    own(a, b);
    b.send('kept');
    const p = reactor.sockRecv(a, 10, { signal: AbortSignal.abort() });
    assert.is(reactor.watchedEvents(a.fileno()), 0);
    const err = (await p.catch((e: unknown) => e)) as Error;
    assert.is(err.name, 'AbortError');
    assert.is((await reactor.sockRecv(a, 10)).toString(), 'kept', 'nothing was consumed');
    const ac = new AbortController();
    const p2 = reactor.sockRecv(a, 10, { signal: ac.signal });
    ac.abort();
    assert.is(((await p2.catch((e: unknown) => e)) as Error).name, 'AbortError');
  }));

test('10k operations on one signal leave no abort listener; an abort after completion is a no-op', () =>
  withReactor(async (reactor, own) => {
    const [a, b] = nonBlockingPair();
    own(a, b);
    const ac = new AbortController();
    const options = { signal: ac.signal };
    for (let i = 0; i < 10_000; i++) {
      const p = reactor.sockRecv(a, 1, options); // waits: registers a listener
      b.send('x');
      await p;
    }
    assert.is(getEventListeners(ac.signal, 'abort').length, 0);
    const done = reactor.sockRecv(a, 1, options);
    b.send('y');
    assert.is((await done).toString(), 'y');
    ac.abort();
    assert.is(reactor.watchedEvents(a.fileno()), 0);
  }));

test('a connection arriving after sockAccept was aborted stays queued for the next sockAccept', () =>
  withReactor(async (reactor, own) => {
    const l = listener();
    own(l);
    const ac = new AbortController();
    const aborted = reactor.sockAccept(l, { signal: ac.signal });
    ac.abort();
    await aborted.catch(() => undefined);
    const client = new Socket();
    client.setBlocking(false);
    own(client);
    await reactor.sockConnect(client, l.getsockname());
    await tick(reactor, 5); // the old accept has every chance to (wrongly) take it
    const [conn, addr] = await reactor.sockAccept(l);
    own(conn);
    assert.equal(addr, client.getsockname());
    assert.is(conn.getBlocking(), false, 'accepted sockets are non-blocking');
    await reactor.sockSendall(client, 'hi');
    assert.is((await reactor.sockRecv(conn, 10)).toString(), 'hi');
  }));

test('sockConnect watches for completion in the same step as connect(); refused connects reject ECONNREFUSED', () =>
  withReactor(async (reactor, own) => {
    const l = listener();
    own(l);
    const c = new Socket();
    c.setBlocking(false);
    own(c);
    const p = reactor.sockConnect(c, l.getsockname());
    await Promise.resolve(); // literal address: no lookup, so connect() ran right away...
    await Promise.resolve();
    const watched = reactor.watchedEvents(c.fileno());
    // ...and either completed at once or is being watched, with nothing awaited in between.
    assert.ok(watched === EVENT_WRITE || watched === 0);
    await p;
    assert.is(reactor.watchedEvents(c.fileno()), 0);
    const [conn] = await reactor.sockAccept(l);
    own(conn);
    const port = (l.getsockname() as [string, number])[1];
    l.close();
    const r = new Socket();
    r.setBlocking(false);
    own(r);
    const err = (await reactor.sockConnect(r, ['127.0.0.1', port]).catch((e: unknown) => e)) as OSError;
    assert.instance(err, OSError);
    assert.is(err.code, 'ECONNREFUSED');
  }));

test('sockConnect to a host name resolves it off the loop', () =>
  withReactor(async (reactor, own) => {
    const l = listener();
    own(l);
    const c = new Socket(AF_INET);
    c.setBlocking(false);
    own(c);
    await reactor.sockConnect(c, ['localhost', (l.getsockname() as [string, number])[1]]);
    const [conn] = await reactor.sockAccept(l);
    own(conn);
    assert.equal(conn.getpeername(), c.getsockname());
    // An AF_INET6 socket asks the resolver for IPv6 addresses of the name.
    const l6 = new Socket(AF_INET6);
    own(l6);
    try {
      l6.bind(['::1', 0]);
      await reactor.getaddrinfo('localhost', 0, { family: AF_INET6 });
    } catch {
      return console.log('  (no IPv6 loopback or no IPv6 localhost here: the AF_INET6 half skipped)');
    }
    l6.listen(4);
    l6.setBlocking(false);
    const c6 = new Socket(AF_INET6);
    c6.setBlocking(false);
    own(c6);
    await reactor.sockConnect(c6, ['localhost', (l6.getsockname() as [string, number])[1]]);
    const [conn6] = await reactor.sockAccept(l6);
    own(conn6);
    assert.is((conn6.getpeername() as [string, number])[0], '::1');
  }));

test('sockSendall: 4 MiB byte-exact to a slow reader; sockRecvInto fills the given buffer', () =>
  withReactor(async (reactor, own) => {
    const [a, b] = nonBlockingPair();
    own(a, b);
    const data = randomBytes(4 << 20);
    const sending = reactor.sockSendall(a, data);
    const got: Buffer[] = [];
    let n = 0;
    const into = Buffer.alloc(50_000);
    while (n < data.length) {
      const k = await reactor.sockRecvInto(b, into);
      got.push(Buffer.from(into.subarray(0, k)));
      n += k;
    }
    await sending;
    assert.is(n, data.length);
    assert.is(sha(Buffer.concat(got)), sha(data));
    assert.is(reactor.watchedEvents(a.fileno()), 0);
  }));

/** A pair whose a→b direction is full: a's next send would block. */
function fullPair(): [Socket, Socket] {
  const [a, b] = nonBlockingPair();
  a.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096);
  b.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096);
  const chunk = Buffer.alloc(4096);
  for (;;) {
    try {
      a.send(chunk);
    } catch {
      return [a, b];
    }
  }
}

test('an aborted sockSendall that sent part of its data marks the socket: later sends reject ERR_SOCK_SEND_ABORTED with the count', () =>
  withReactor(async (reactor, own) => {
    const [a, b] = nonBlockingPair();
    own(a, b);
    a.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096);
    const data = Buffer.alloc(1 << 20, 7);
    const ac = new AbortController();
    const p = reactor.sockSendall(a, data, { signal: ac.signal });
    ac.abort();
    assert.is(((await p.catch((e: unknown) => e)) as Error).name, 'AbortError');
    const err = (await reactor.sockSendall(a, 'more').catch((e: unknown) => e)) as { code: string; sent: number; total: number };
    assert.is(err.code, 'ERR_SOCK_SEND_ABORTED');
    assert.is(err.total, data.length);
    assert.ok(err.sent > 0 && err.sent < data.length, `sent ${err.sent}`);
    assert.is(await codeOf(reactor.sockSendto(a, 'x', '')), 'ERR_SOCK_SEND_ABORTED');
    // Reading is unaffected.
    b.send('r');
    assert.is((await reactor.sockRecv(a, 1)).toString(), 'r');
  }));

test('abort/retry of sockSendall on a full socket sends nothing, keeps the socket usable, and holds no buffer', () =>
  withReactor(async (reactor, own) => {
    const [a, b] = fullPair();
    own(a, b);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const refs: WeakRef<Buffer>[] = [];
    const abortOnce = async (i: number): Promise<void> => {
      const ac = new AbortController();
      const big = Buffer.alloc(256 * 1024, i);
      refs.push(new WeakRef(big));
      const p = reactor.sockSendall(a, big, { signal: ac.signal });
      ac.abort();
      await p.catch(() => undefined);
      assert.is(reactor.watchedEvents(a.fileno()), 0);
    };
    for (let i = 0; i < 200; i++) await abortOnce(i);
    await tick(reactor);
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.is(refs.filter((r) => r.deref() !== undefined).length, 0, 'every aborted buffer is collectable');
    // Nothing was sent by an aborted call, so the socket is still usable.
    const drained = (async () => {
      let n = 0;
      for (;;) {
        const got = await reactor.sockRecv(b, 65536);
        n += got.length;
        if (got.includes(0x21)) return n;
      }
    })();
    await reactor.sockSendall(a, Buffer.from('!'));
    await drained;
  }));

test('sockSendto / sockRecvfrom over UDP: exact datagrams and sender', () =>
  withReactor(async (reactor, own) => {
    const rx = new Socket(AF_INET, SOCK_DGRAM);
    const tx = new Socket(AF_INET, SOCK_DGRAM);
    own(rx, tx);
    rx.bind(['127.0.0.1', 0]);
    tx.bind(['127.0.0.1', 0]);
    rx.setBlocking(false);
    tx.setBlocking(false);
    const receiving = reactor.sockRecvfrom(rx, 100);
    assert.is(await reactor.sockSendto(tx, 'datagram-1', rx.getsockname()), 10);
    const [data, from] = await receiving;
    assert.is(data.toString(), 'datagram-1');
    assert.equal(from, tx.getsockname());
    assert.is(await reactor.sockSendto(tx, '', rx.getsockname()), 0);
    const [empty] = await reactor.sockRecvfrom(rx, 100);
    assert.is(empty.length, 0);
  }));

test('AbortSignal at every await point of every sock_* method: rejects with the reason, nothing left watched', () =>
  withReactor(async (reactor, own) => {
    const [a, b] = nonBlockingPair();
    const [full, fullPeer] = fullPair();
    const l = listener();
    const udp = new Socket(AF_INET, SOCK_DGRAM);
    udp.bind(['127.0.0.1', 0]);
    udp.setBlocking(false);
    const c1 = new Socket();
    const c2 = new Socket(AF_INET, SOCK_DGRAM);
    c1.setBlocking(false);
    c2.setBlocking(false);
    own(a, b, full, fullPeer, l, udp, c1, c2);
    // Names stay in flight while held, so the connect/sendto lookups are aborted mid-resolution.
    hostResolver(reactor).hold(true);
    const cases: Array<[string, number, (signal: AbortSignal) => Promise<unknown>]> = [
      ['sockRecv', a.fileno(), (signal) => reactor.sockRecv(a, 1, { signal })],
      ['sockRecvInto', a.fileno(), (signal) => reactor.sockRecvInto(a, Buffer.alloc(1), { signal })],
      ['sockRecvfrom', udp.fileno(), (signal) => reactor.sockRecvfrom(udp, 10, { signal })],
      ['sockAccept', l.fileno(), (signal) => reactor.sockAccept(l, { signal })],
      ['sockSendall', full.fileno(), (signal) => reactor.sockSendall(full, Buffer.alloc(10), { signal })],
      ['sockConnect (resolving)', c1.fileno(), (signal) => reactor.sockConnect(c1, ['localhost', 9], { signal })],
      ['sockSendto (resolving)', c2.fileno(), (signal) => reactor.sockSendto(c2, 'x', ['localhost', 9], { signal })],
    ];
    for (const [name, fd, start] of cases) {
      const ac = new AbortController();
      const p = start(ac.signal);
      await tick(reactor);
      const reason = new Error(name);
      ac.abort(reason);
      assert.is(await p.catch((e: unknown) => e), reason, name);
      assert.is(reactor.watchedEvents(fd), 0, `${name}: nothing watched`);
      assert.is(getEventListeners(ac.signal, 'abort').length, 0, `${name}: listener removed`);
    }
    hostResolver(reactor).hold(false);
  }));

test('no fd left open', () => {
  if (fdsAtStart >= 0) assert.is(openFdCount(), fdsAtStart);
});

test.run();
