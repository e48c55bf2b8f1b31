// Name resolution off the loop thread: getaddrinfo, createConnection to a host name, in blocking
// mode (runForever, where Node's loop never runs) and attached. Lookups are held in flight on
// purpose (the resolver's test gate), so nothing depends on this machine's DNS or timing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { getEventListeners } from 'node:events';
import { Reactor } from '../src/loop/index.js';
import { AF_INET, SOCK_STREAM, SOCK_DGRAM, type Protocol, type Transport } from '../src/transports/index.js';
import { hostResolver } from '../src/transports/host-resolver.js';
import { openFdCount, withTimeout } from './helpers/index.js';
import { runBounded, settle } from './helpers/reactor.js';

const test = suite('getaddrinfo');
const fdsAtStart = openFdCount();

const run = <T>(body: (reactor: Reactor) => Promise<T>): Promise<T> => withTimeout(Reactor.run(body), 20_000);
const sleep = (reactor: Reactor, ms: number): Promise<void> => new Promise((resolve) => reactor.callLater(ms, () => resolve()));

/** Records a connection's protocol calls. */
class Recorder implements Protocol {
  events: string[] = [];
  data = '';
  lost: Error | null | undefined;
  transport?: Transport;
  constructor(private readonly onLost?: () => void) {}
  connectionMade(t: Transport): void {
    this.transport = t;
    this.events.push('made');
  }
  dataReceived(d: Buffer): void {
    this.data += d.toString();
  }
  eofReceived(): boolean {
    this.events.push('eof');
    return false;
  }
  connectionLost(err: Error | null): void {
    this.events.push('lost');
    this.lost = err;
    this.onLost?.();
  }
}

/** An echo server; its connections close when the client sends EOF. */
function echoServer(reactor: Reactor) {
  return reactor.createServer(() => {
    let t: Transport;
    return {
      connectionMade: (tr: Transport) => void (t = tr),
      dataReceived: (d: Buffer) => t.write(d),
    };
  });
}

test('getaddrinfo resolves a name with family and type; a literal answers without the resolver', () =>
  run(async (reactor) => {
    const all = await reactor.getaddrinfo('localhost', 80, { family: AF_INET });
    assert.ok(all.length >= 1);
    for (const info of all) assert.equal(info, { family: AF_INET, type: SOCK_STREAM, address: ['127.0.0.1', 80] });
    const dgram = await reactor.getaddrinfo('localhost', 53, { family: AF_INET, type: SOCK_DGRAM });
    assert.is(dgram[0]!.type, SOCK_DGRAM);
    // While every lookup is held in flight, literals still answer: they never reach the resolver.
    hostResolver(reactor).hold(true);
    assert.equal((await reactor.getaddrinfo('127.0.0.1', 5))[0]!.address, ['127.0.0.1', 5]);
    assert.equal((await reactor.getaddrinfo('::1', 6))[0]!.address, ['::1', 6]);
    hostResolver(reactor).hold(false);
  }));

test('bad arguments reject clearly', () =>
  run(async (reactor) => {
    assert.instance(await reactor.getaddrinfo('', 80).catch((e: unknown) => e), TypeError);
    assert.instance(await reactor.getaddrinfo('localhost', 70000).catch((e: unknown) => e), RangeError);
    assert.instance(await reactor.getaddrinfo(5 as never, 80).catch((e: unknown) => e), TypeError);
  }));

test('an unknown name rejects with ENOTFOUND (or EAI_AGAIN without a resolver) naming the host', () =>
  run(async (reactor) => {
    const err = (await reactor.getaddrinfo('no-such-host.invalid', 80).catch((e: unknown) => e)) as { code: string; hostname: string; message: string };
    assert.ok(['ENOTFOUND', 'EAI_AGAIN'].includes(err.code), err.code);
    assert.is(err.hostname, 'no-such-host.invalid');
    assert.match(err.message, /no-such-host\.invalid/);
  }));

test('attached: timers keep running while a lookup is in flight', () =>
  run(async (reactor) => {
    const order: string[] = [];
    const resolver = hostResolver(reactor);
    resolver.hold(true);
    const lookup = reactor.getaddrinfo('localhost', 1).then(() => void order.push('resolved'));
    await new Promise<void>((resolve) => {
      const tick = (i: number): void => {
        order.push(`timer${i}`);
        if (i === 5) {
          resolver.hold(false);
          resolve();
        } else reactor.callLater(1, tick, i + 1);
      };
      reactor.callLater(1, tick, 1);
    });
    await lookup;
    assert.equal(order, ['timer1', 'timer2', 'timer3', 'timer4', 'timer5', 'resolved']);
  }));

test('blocking mode (runForever): createConnection to a name; timers run meanwhile; writes made while resolving arrive', () => {
  const reactor = new Reactor();
  try {
    const server = echoServer(reactor);
    const [, port] = server.address() as [string, number];
    const resolver = hostResolver(reactor);
    resolver.hold(true);
    const order: string[] = [];
    const client = new Recorder();
    const origMade = client.connectionMade.bind(client);
    client.connectionMade = (t) => {
      order.push('connected');
      origMade(t);
    };
    const transport = reactor.createConnection(() => client, { host: 'localhost', port });
    transport.write('written while resolving\n');
    assert.is(transport.getWriteBufferSize(), 24);
    const tick = (i: number): void => {
      order.push(`timer${i}`);
      if (i === 5) resolver.hold(false);
      else reactor.callLater(1, tick, i + 1);
    };
    reactor.callLater(1, tick, 1);
    const poll = (): void => {
      if (client.data === 'written while resolving\n') reactor.stop();
      else reactor.callLater(1, poll);
    };
    reactor.callLater(1, poll);
    assert.is(runBounded(reactor), false, 'finished before the limit');
    assert.equal(order, ['timer1', 'timer2', 'timer3', 'timer4', 'timer5', 'connected']);
    assert.is(client.data, 'written while resolving\n');
    transport.close();
    server.close();
    settle(reactor);
    assert.equal(client.events, ['made', 'lost']);
  } finally {
    reactor.close();
  }
});

test('close() while resolving sends what was written, then closes; abort() ends at once with no connectionMade', () =>
  run(async (reactor) => {
    const received: string[] = [];
    const server = reactor.createServer(() => ({ dataReceived: (d: Buffer) => void received.push(d.toString()) }));
    const [, port] = server.address() as [string, number];
    const resolver = hostResolver(reactor);
    resolver.hold(true);
    const closing = new Recorder();
    const t1 = reactor.createConnection(() => closing, { host: 'localhost', port });
    t1.write('last words');
    t1.close();
    const aborting = new Recorder();
    const t2 = reactor.createConnection(() => aborting, { host: 'localhost', port });
    t2.write('never sent');
    t2.abort();
    await sleep(reactor, 5);
    assert.equal(aborting.events, ['lost'], 'aborted: connectionLost(null) only');
    assert.is(aborting.lost, null);
    assert.is(t2.getWriteBufferSize(), 0);
    resolver.hold(false);
    while (closing.events.length < 2) await sleep(reactor, 1);
    await sleep(reactor, 5);
    assert.equal(closing.events, ['made', 'lost']);
    assert.equal(received, ['last words']);
    server.abortClients();
    server.close();
    await sleep(reactor, 5);
  }));

test('a failed lookup reaches connectionLost(err) exactly once, with no connectionMade', () =>
  run(async (reactor) => {
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const client = new Recorder(() => done());
    const t = reactor.createConnection(() => client, { host: 'no-such-host.invalid', port: 80 });
    t.write('queued');
    await finished;
    await sleep(reactor, 5);
    assert.equal(client.events, ['lost']);
    assert.ok(['ENOTFOUND', 'EAI_AGAIN'].includes((client.lost as unknown as { code: string }).code));
  }));

test('many held lookups do not hold up literal addresses; all complete once released; abort frees its listener', () =>
  run(async (reactor) => {
    const server = echoServer(reactor);
    const [, port] = server.address() as [string, number];
    const resolver = hostResolver(reactor);
    resolver.hold(true);
    let resolved = 0;
    const lookups = Array.from({ length: 12 }, () => reactor.getaddrinfo('localhost', port).then(() => void resolved++));
    const ac = new AbortController();
    const aborted = reactor.getaddrinfo('localhost', port, { signal: ac.signal });
    const [reader, writer] = await reactor.openConnection({ host: '127.0.0.1', port });
    writer.write('literal\n');
    assert.is((await reader.readLine()).toString(), 'literal\n');
    assert.is(resolved, 0, 'all still held');
    ac.abort(new Error('no more'));
    assert.match(String(await aborted.catch((e: unknown) => e)), /no more/);
    assert.is(getEventListeners(ac.signal, 'abort').length, 0);
    resolver.hold(false);
    await Promise.all(lookups);
    assert.is(resolved, 12);
    writer.close();
    await writer.waitClosed();
    server.close();
    await sleep(reactor, 5); // the server side's close runs
  }));

test('closing the reactor with a lookup in flight: the connection hears ERR_REACTOR_CLOSED once; its socket and the resolver pipe are freed', () => {
  const fds = openFdCount();
  const reactor = new Reactor();
  const resolver = hostResolver(reactor);
  resolver.hold(true);
  const client = new Recorder();
  reactor.createConnection(() => client, { host: 'localhost', port: 9 });
  reactor.runOnce(0);
  reactor.close();
  resolver.hold(false); // a closed resolver ignores it; the worker drops its result
  assert.equal(client.events, ['lost']);
  assert.is((client.lost as unknown as { code: string }).code, 'ERR_REACTOR_CLOSED');
  if (fds >= 0) assert.is(openFdCount(), fds);
});

test('no fd left open', async () => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  if (fdsAtStart >= 0) assert.is(openFdCount(), fdsAtStart);
});

test.run();
