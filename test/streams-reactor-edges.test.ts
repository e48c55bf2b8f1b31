// reactor.openConnection / reactor.startServer (reactor-streams.ts) at their edges: argument
// checks that reject (openConnection) or throw (startServer), an already-aborted signal before
// anything is attempted, an abort that closes the attempt's socket, the reader's limit reaching
// every connection, listeners left on a signal, and TLS asked of a reactor that cannot carry it.
// (Its own file: the Stryker runner treats each test file as one test, so adding here keeps the
// mutants streams.test.ts already killed from being tested again.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { getEventListeners } from 'node:events';
import { Reactor } from '../src/loop/index.js';
import { ValueError, type StreamReader } from '../src/transports/index.js';
import { hostResolver } from '../src/transports/host-resolver.js';
import { openFdCount } from './helpers/index.js';
import { run, sleep } from './helpers/streams.js';

const test = suite('reactor streams edges');

const rejection = <T>(p: Promise<T>): Promise<unknown> =>
  p.then(
    () => assert.unreachable('should have rejected'),
    (e: unknown) => e,
  );



test('a closed reactor: openConnection rejects, startServer throws', async () => {
  const reactor = new Reactor();
  reactor.close();
  const p = reactor.openConnection({ port: 1 });
  assert.instance(p, Promise);
  assert.match(String(await rejection(p)), /closed/i);
  assert.throws(() => reactor.startServer(() => undefined), /closed/i);
});

test('openConnection rejects (never throws) bad options and a bad address', () =>
  run(async (reactor) => {
    for (const options of [null, 5, 'x']) {
      assert.instance(await rejection(reactor.openConnection({ port: 1 }, options as unknown as object)), TypeError, String(options));
    }
    const bad = reactor.openConnection({ port: 'x' as unknown as number });
    assert.instance(await rejection(bad), TypeError, 'createConnection\'s own check, as a rejection');
    assert.instance(await rejection(reactor.openConnection({ port: 1 }, { limit: 1.5 })), ValueError);
  }));

test('an already-aborted signal rejects with its reason before anything else is looked at', () =>
  run(async (reactor) => {
    const reason = new Error('never mind');
    const fds = openFdCount();
    const p = reactor.openConnection({ port: 'x' as unknown as number }, { signal: AbortSignal.abort(reason) });
    assert.is(openFdCount(), fds, 'no socket made');
    assert.is(await rejection(p), reason);
  }));

test('aborting a pending openConnection closes its socket at once', () =>
  run(async (reactor) => {
    const server = reactor.startServer(() => undefined);
    const [, port] = server.address() as [string, number];
    const resolver = hostResolver(reactor);
    resolver.hold(true); // the name stays unresolved, so the attempt is pending
    const fds = openFdCount();
    const ac = new AbortController();
    const reason = new Error('stop');
    const opening = reactor.openConnection({ host: 'localhost', port }, { signal: ac.signal });
    assert.is(openFdCount(), fds + 1, 'the attempt\'s socket');
    ac.abort(reason);
    assert.is(await rejection(opening), reason);
    // The close completes in a later iteration; the lookup is still held, so only the abort closes it.
    for (let i = 0; i < 50 && openFdCount() > fds; i++) await sleep(reactor, 1);
    assert.is(openFdCount(), fds, 'closed by the abort');
    assert.is(getEventListeners(ac.signal, 'abort').length, 0);
    resolver.hold(false);
    server.close();
  }));

test('a signal given to openConnection is let go once it connects, and once it fails', () =>
  run(async (reactor) => {
    const server = reactor.startServer(() => undefined);
    const [, port] = server.address() as [string, number];
    const ac = new AbortController();
    const [, writer] = await reactor.openConnection({ port }, { signal: ac.signal });
    assert.is(getEventListeners(ac.signal, 'abort').length, 0, 'connected');
    ac.abort(new Error('too late to matter'));
    assert.is(writer.isClosing(), false, 'an abort after the connection is made does nothing');
    writer.close();
    await writer.waitClosed();
    server.abortClients();
    server.close();
    const ac2 = new AbortController();
    const refused = (await rejection(reactor.openConnection({ port }, { signal: ac2.signal }))) as { code?: string };
    assert.is(refused.code, 'ECONNREFUSED');
    assert.is(getEventListeners(ac2.signal, 'abort').length, 0, 'failed');
  }));

test('the limit reaches every reader: openConnection\'s and each startServer connection\'s', () =>
  run(async (reactor) => {
    const limits: number[] = [];
    const server = reactor.startServer((reader: StreamReader, writer) => {
      limits.push(reader.limit);
      writer.close();
    }, { limit: 5 });
    const [, port] = server.address() as [string, number];
    for (let i = 0; i < 2; i++) {
      const [reader, writer] = await reactor.openConnection({ port }, { limit: 7 });
      assert.is(reader.limit, 7);
      assert.is((await reader.read()).length, 0, 'the server closed it');
      writer.close();
      await writer.waitClosed();
    }
    assert.equal(limits, [5, 5]);
    server.close();
  }));

test('startServer checks its arguments at once, before listening', () =>
  run(async (reactor) => {
    assert.throws(() => reactor.startServer(5 as unknown as () => void), (e: unknown) => e instanceof TypeError && /callback must be a function/.test((e as Error).message));
    assert.throws(() => reactor.startServer(() => undefined, null as unknown as object), (e: unknown) => e instanceof TypeError && /options must be an object/.test((e as Error).message));
    assert.throws(() => reactor.startServer(() => undefined, 'x' as unknown as object), TypeError);
    assert.throws(() => reactor.startServer(() => undefined, { limit: 0 }), (e: unknown) => e instanceof ValueError);
  }));

test('TLS asked of a reactor without the TLS capability: ERR_TLS_UNAVAILABLE from both', () =>
  run(async (reactor) => {
    // As a build without the TLS capability installed would be.
    Object.defineProperty(reactor, 'startTls', { value: undefined, configurable: true });
    const err = (await rejection(reactor.openConnection({ port: 1 }, { tls: {} }))) as Error & { code?: string };
    assert.is(err.code, 'ERR_TLS_UNAVAILABLE');
    assert.match(err.message, /^tls: TLS transports are not available in this build$/);
    let thrown: (Error & { code?: string }) | undefined;
    try {
      reactor.startServer(() => undefined, { tls: {} });
    } catch (e) {
      thrown = e as Error & { code?: string };
    }
    assert.is(thrown?.code, 'ERR_TLS_UNAVAILABLE');
    // Without tls, nothing is checked.
    const server = reactor.startServer(() => undefined);
    server.close();
    delete (reactor as unknown as { startTls?: unknown }).startTls;
  }));

test.run();
