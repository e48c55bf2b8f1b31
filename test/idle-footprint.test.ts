// What an idle connection costs (issue 15.3) without changing what anyone sees: the reactor's
// readers and writers in fd-indexed slots (no selector key, map entry or { reader, writer } object
// per fd), resources and server connections in fd-indexed slots, a transport's event table made
// on first use.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Reactor, SoleReaderHandle, type FdHandles } from '../src/loop/reactor.js';
import { DefaultSelector, EpollSelector, availableSelectors } from '../src/selectors/index.js';
import { EVENT_READ, EVENT_WRITE } from '../src/selectors/key.js';
import { NO_ARGS } from '../src/loop/handle.js';
import { pipe, closeFd, type Protocol, type Transport } from '../src/transports/index.js';
import { write } from '../src/select/fds.js';
import { openFdCount } from './helpers/index.js';
import { runBounded, settle } from './helpers/reactor.js';

const test = suite('idle-footprint');

test('the reactor watches an fd with no selector key: reader and writer in its slots, replaced ones cancelled', () => {
  const selector = new DefaultSelector<FdHandles>();
  const reactor = new Reactor({ selector });
  const [r, w] = pipe();
  try {
    const calls: string[] = [];
    const reader = new SoleReaderHandle(() => calls.push('read'), NO_ARGS, reactor);
    reactor.watchFd(w, EVENT_READ, reader);
    assert.is(selector.getMap().size, 0, 'no key');
    assert.is(selector.watchedEvents(w), EVENT_READ);
    const writer = reactor.addWriter(w, () => {
      calls.push('write');
      reactor.removeWriter(w);
    });
    assert.is(selector.getMap().size, 0, 'no key');
    assert.is(reactor.watchedEvents(w), EVENT_READ | EVENT_WRITE);
    assert.throws(() => selector.register(w, EVENT_READ), (e: Error) => e.name === 'KeyError', 'a watched fd is registered');
    reactor.runOnce(1000);
    assert.equal(calls, ['write']);
    assert.ok(writer.cancelled);
    assert.is(selector.watchedEvents(w), EVENT_READ, 'back to the reader alone once the writer is gone');
    // A replaced reader is cancelled: an event already selected for it is dropped.
    const second = new SoleReaderHandle(() => calls.push('second'), NO_ARGS, reactor);
    reactor.watchFd(w, EVENT_READ, second);
    assert.ok(reader.cancelled);
    assert.not.ok(second.cancelled);
    assert.ok(reactor.removeReader(w));
    assert.ok(second.cancelled);
    assert.is(selector.watchedEvents(w), 0);
    assert.not.ok(reactor.removeReader(w));
    // An fd registered with a key is not the reactor's to watch.
    selector.register(r, EVENT_READ);
    assert.throws(() => reactor.addReader(r, () => {}), (e: Error) => e.name === 'KeyError');
    assert.is(reactor.watchedEvents(r), 0);
    selector.unregister(r);
  } finally {
    reactor.close();
    closeFd(r);
    closeFd(w);
  }
});

test('a file object watched by the reactor is found again by identity once its fileno() fails (closed)', () => {
  const reactor = new Reactor();
  const [r, w] = pipe();
  try {
    let fd = w;
    const fileobj = { fileno: () => fd };
    const reader = reactor.addReader(fileobj, () => {});
    assert.is(reactor.watchedEvents(fileobj), EVENT_READ);
    assert.is(reactor.watchedEvents(w), EVENT_READ, 'and under its fd');
    fd = -1; // "closed": fileno() no longer names the fd
    assert.is(reactor.watchedEvents(fileobj), EVENT_READ);
    assert.ok(reactor.removeReader(fileobj));
    assert.ok(reader.cancelled);
    assert.is(reactor.watchedEvents(w), 0);
    assert.not.ok(reactor.removeReader(fileobj), 'forgotten once unwatched');
    // Watched as an object, removed by its fd: the object is forgotten too.
    fd = w;
    reactor.addWriter(fileobj, () => {});
    assert.ok(reactor.removeWriter(w));
    fd = -1;
    assert.is(reactor.watchedEvents(fileobj), 0);
    assert.is((reactor as unknown as { fileobjFds: Map<object, number> }).fileobjFds.size, 0);
  } finally {
    reactor.close();
    closeFd(r);
    closeFd(w);
  }
});

test('an epoll wait given maxEvents reports at most that many fds (the rest on the next wait); select() reports every ready fd', () => {
  if (!availableSelectors().includes('EpollSelector')) return;
  const selector = new EpollSelector<string>();
  const pipes = [pipe(), pipe(), pipe()];
  try {
    for (const [r, w] of pipes) {
      selector.register(r, EVENT_READ, `fd${r}`);
      write(w, 'x');
    }
    assert.is(selector.selectReady(0, 2), 2);
    const first = [selector.readyFds[0], selector.readyFds[1]];
    assert.is(new Set(first).size, 2);
    // Level-triggered: the fd left out comes in the next wait.
    const seen = new Set(first);
    for (let i = 0; i < 3 && seen.size < 3; i++) {
      const n = selector.selectReady(0, 2);
      for (let k = 0; k < n; k++) seen.add(selector.readyFds[k]);
    }
    assert.is(seen.size, 3);
    assert.is(selector.select(0).length, 3);
  } finally {
    selector.close();
    for (const [r, w] of pipes) {
      closeFd(r);
      closeFd(w);
    }
  }
});

class Idle implements Protocol {
  static made: Transport[] = [];
  lost: (Error | null)[] = [];
  connectionMade(t: Transport): void {
    Idle.made.push(t);
  }
  connectionLost(err: Error | null): void {
    this.lost.push(err);
  }
}

test('server.connections and reactor.close() with connections in fd slots: each closed exactly once', () => {
  const fdsBefore = openFdCount();
  const reactor = new Reactor();
  Idle.made = [];
  const serverSide: Idle[] = [];
  const clientSide: Idle[] = [];
  const server = reactor.createServer(() => {
    const p = new Idle();
    serverSide.push(p);
    return p;
  }, { host: '127.0.0.1', port: 0 });
  const [, port] = server.address() as [string, number];
  for (let i = 0; i < 4; i++) {
    reactor.createConnection(() => {
      const p = new Idle();
      clientSide.push(p);
      return p;
    }, { host: '127.0.0.1', port });
  }
  reactor.callLater(10, function check() {
    if (serverSide.length === 4 && Idle.made.length === 8) reactor.stop();
    else reactor.callLater(10, check);
  });
  assert.not.ok(runBounded(reactor));
  assert.is(server.connections, 4);
  // One server-side transport closes by itself: the count follows, and reactor.close() leaves it alone.
  const accepted = Idle.made.filter((t) => t.getExtraInfo('sockname') !== undefined && (t.getExtraInfo('sockname') as [string, number])[1] === port);
  assert.is(accepted.length, 4);
  accepted[0]!.close();
  settle(reactor);
  assert.is(server.connections, 3);
  assert.is(serverSide.filter((p) => p.lost.length === 1).length, 1);
  // Its peer heard the EOF and closed as well.
  assert.is(clientSide.filter((p) => p.lost.length === 1).length, 1);
  assert.is(Idle.made.filter((t) => t.fileno() >= 0).length, 6);
  reactor.close();
  for (const p of [...serverSide, ...clientSide]) assert.is(p.lost.length, 1, 'connectionLost exactly once');
  for (const t of Idle.made) assert.is(t.fileno(), -1);
  assert.is(openFdCount(), fdsBefore, 'every fd closed');
});

test('a transport nobody listens to has no event table or count of its own, nor a write queue; listeners added later still hear everything', () => {
  const reactor = new Reactor();
  try {
    const server = reactor.createServer(() => ({ dataReceived() {} }), { host: '127.0.0.1', port: 0 });
    const [, port] = server.address() as [string, number];
    let client: Transport | undefined;
    const heard: string[] = [];
    reactor.createConnection(() => ({
      connectionMade(t: Transport) {
        client = t;
      },
    }), { host: '127.0.0.1', port });
    let accepted: Transport | undefined;
    server.on('connection', (t: Transport) => {
      accepted = t;
    });
    reactor.callLater(10, function check() {
      if (client !== undefined && accepted !== undefined) reactor.stop();
      else reactor.callLater(10, check);
    });
    assert.not.ok(runBounded(reactor));
    assert.not.ok(Object.hasOwn(accepted!, '_events'), 'no table while nothing listens');
    assert.not.ok(Object.hasOwn(accepted!, '_eventsCount'), 'no count while nothing listens');
    assert.is((accepted as unknown as { out: unknown }).out, null, 'no write queue while no write had to wait');
    assert.is(accepted!.listenerCount('data'), 0);
    const onData = (d: Buffer) => heard.push(`data:${d.toString()}`);
    accepted!.on('data', onData);
    accepted!.once('end', () => heard.push('end'));
    accepted!.on('close', (err: Error | null) => {
      heard.push(`close:${err}`);
      reactor.stop();
    });
    client!.write('abc');
    client!.writeEof();
    assert.not.ok(runBounded(reactor));
    assert.equal(heard, ['data:abc', 'end', 'close:null']);
    assert.ok(Object.hasOwn(accepted!, '_eventsCount'), 'a listener made it a field');
    accepted!.off('data', onData);
    assert.is(accepted!.listenerCount('data'), 0);
    server.close();
  } finally {
    reactor.close();
  }
});

test.run();
