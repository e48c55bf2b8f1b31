// StreamProtocol / StreamWriter (stream-writer.ts) driven directly with a fake transport and
// reactor: the callback's return value, half-close, every drain()/waitClosed() outcome on a clean
// close and on a failure, aborted drains, and what the writer passes through to its transport.
// (Its own file: the Stryker runner treats each test file as one test, so adding here keeps the
// mutants streams.test.ts already killed from being tested again.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Reactor, ExceptionContext } from '../src/loop/index.js';
import { StreamReader, type Transport } from '../src/transports/index.js';
import { StreamProtocol, StreamWriter, type ClientConnected } from '../src/transports/stream-writer.js';

const test = suite('stream-writer edges');

/** Records every call a StreamWriter or StreamProtocol makes on its transport. */
class FakeTransport {
  calls: string[] = [];
  written: Array<Uint8Array | string> = [];
  write(data: Uint8Array | string): void {
    this.written.push(data);
  }
  writeEof(): void {
    this.calls.push('writeEof');
  }
  canWriteEof(): boolean {
    this.calls.push('canWriteEof');
    return true;
  }
  close(): void {
    this.calls.push('close');
  }
  isClosing(): boolean {
    this.calls.push('isClosing');
    return true;
  }
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    this.calls.push(`getExtraInfo:${name}`);
    return name === 'peername' ? ['127.0.0.1', 1] : defaultValue;
  }
  pauseReading(): void {
    this.calls.push('pauseReading');
  }
  resumeReading(): void {
    this.calls.push('resumeReading');
  }
}

class FakeReactor {
  reported: ExceptionContext[] = [];
  callExceptionHandler(ctx: ExceptionContext): void {
    this.reported.push(ctx);
  }
}

function made(events: { connected?: ClientConnected; failed?: (err: Error) => void } = {}): {
  protocol: StreamProtocol;
  transport: FakeTransport;
  reactor: FakeReactor;
  writer: StreamWriter;
} {
  const reactor = new FakeReactor();
  const protocol = new StreamProtocol(new StreamReader(), reactor as unknown as Reactor, events);
  const transport = new FakeTransport();
  protocol.connectionMade(transport as unknown as Transport);
  return { protocol, transport, reactor, writer: protocol.writer! };
}

const rejection = <T>(p: Promise<T>): Promise<unknown> =>
  p.then(
    () => assert.unreachable('should have rejected'),
    (e: unknown) => e,
  );

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Whether p has settled after pending continuations ran: 'resolved', 'rejected' or 'pending'. */
async function stateOf(p: Promise<unknown>): Promise<string> {
  let state = 'pending';
  p.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await settle();
  return state;
}

test('a callback returning undefined, null, a plain object or a resolving promise keeps its connection', async () => {
  const results: unknown[] = [undefined, null, {}, { then: 'not a function' }, 5, Promise.resolve()];
  for (const value of results) {
    const { transport, reactor } = made({ connected: () => value as void });
    await settle();
    assert.equal(transport.calls, [], `returned ${String(value)}`);
    assert.is(reactor.reported.length, 0);
  }
});

test('a callback that throws or rejects: the exception handler hears of it with the transport, and only that connection closes', async () => {
  for (const [how, cb] of [
    ['throws', () => { throw new Error('boom'); }],
    ['rejects', () => Promise.reject(new Error('boom'))],
  ] as const) {
    const { transport, reactor } = made({ connected: cb as ClientConnected });
    await settle();
    assert.equal(transport.calls, ['close'], how);
    assert.is(reactor.reported.length, 1);
    const ctx = reactor.reported[0]!;
    assert.is(ctx.message, 'Unhandled exception in a startServer client callback');
    assert.is((ctx.exception as Error).message, 'boom');
    assert.is(ctx.transport, transport);
  }
});

test('the callback gets the protocol\'s reader and the writer made for this transport', () => {
  let seen: [StreamReader, StreamWriter] | undefined;
  const { protocol, writer, transport } = made({ connected: (r, w) => void (seen = [r, w]) });
  assert.is(seen![0], protocol.reader);
  assert.is(seen![1], writer);
  assert.is(writer.transport, transport);
  assert.is(writer.streamReader, protocol.reader);
});

test('data and EOF go to the reader; eofReceived() returns true so the write side stays open', async () => {
  const { protocol } = made();
  protocol.dataReceived(Buffer.from('abc'));
  assert.is(protocol.eofReceived(), true);
  assert.is((await protocol.reader.read()).toString(), 'abc');
  assert.ok(protocol.reader.atEof());
});

test('the writer passes writes, writeLines, writeEof, canWriteEof, isClosing, close and getExtraInfo through', () => {
  const { writer, transport } = made();
  writer.write('a');
  writer.writeLines(['b', Buffer.from('c')]);
  writer.writeLines(new Set(['d']));
  assert.equal(transport.written.map(String), ['a', 'b', 'c', 'd']);
  writer.writeEof();
  assert.is(writer.canWriteEof(), true);
  assert.is(writer.isClosing(), true);
  assert.equal(writer.getExtraInfo('peername'), ['127.0.0.1', 1]);
  assert.is(writer.getExtraInfo('nothing', 7), 7);
  writer.close();
  assert.equal(transport.calls, ['writeEof', 'canWriteEof', 'isClosing', 'getExtraInfo:peername', 'getExtraInfo:nothing', 'close']);
});

test('drain: at once while not paused; while paused every drain waits and all resolve on resumeWriting, in order', async () => {
  const { protocol, writer } = made();
  assert.is(await stateOf(writer.drain()), 'resolved');
  protocol.pauseWriting();
  const order: number[] = [];
  const drains = [0, 1, 2].map((i) => writer.drain().then(() => void order.push(i)));
  assert.is(await stateOf(drains[0]!), 'pending');
  protocol.resumeWriting();
  await Promise.all(drains);
  assert.equal(order, [0, 1, 2]);
  assert.is(await stateOf(writer.drain()), 'resolved', 'no longer paused');
  protocol.resumeWriting(); // nothing waiting: nothing happens
});

test('drain with a bad options argument rejects with a TypeError (not a throw)', async () => {
  const { writer } = made();
  const p = writer.drain({ signal: 'no' as unknown as AbortSignal });
  assert.instance(await rejection(p), TypeError);
  assert.instance(await rejection(writer.drain(5 as unknown as { signal?: AbortSignal })), TypeError);
});

test('an aborted drain rejects with the reason and leaves no waiter behind; the other drains still resolve on resume', async () => {
  const { protocol, writer } = made();
  protocol.pauseWriting();
  const ac = new AbortController();
  const reason = new Error('no more');
  const other = writer.drain();
  const aborted = rejection(writer.drain({ signal: ac.signal }));
  const waiters = (): number => (protocol as unknown as { drainWaiters: unknown[] }).drainWaiters.length;
  assert.is(waiters(), 2);
  ac.abort(reason);
  assert.is(waiters(), 1, 'the aborted one is gone at once (a signal reused for many drains must not pile them up)');
  assert.is(await aborted, reason);
  assert.is(await stateOf(other), 'pending');
  protocol.resumeWriting();
  await other;
  assert.is(await rejection(writer.drain({ signal: AbortSignal.abort(reason) })), reason, 'already aborted, though not paused');
});

test('a clean close: waiting drains reject ECONNRESET, waitClosed resolves (waiting and after), later drains reject at once', async () => {
  const { protocol, writer } = made();
  protocol.pauseWriting();
  const drain = rejection(writer.drain());
  const closed = writer.waitClosed();
  assert.is(await stateOf(closed), 'pending');
  protocol.connectionLost(null);
  const err = (await drain) as { code?: string; syscall?: string; errno?: number; message: string };
  assert.is(err.code, 'ECONNRESET');
  assert.is(err.syscall, 'drain');
  assert.ok(err.errno! < 0);
  assert.ok(err.message.endsWith(' (the connection is lost)'), err.message);
  await closed;
  assert.is(await stateOf(writer.waitClosed()), 'resolved');
  assert.is(((await rejection(writer.drain())) as { code?: string }).code, 'ECONNRESET');
  assert.ok(protocol.reader.atEof(), 'the reader got EOF');
});

test('a failed connection: drains, waitClosed and the reader all reject with its error', async () => {
  const { protocol, writer } = made();
  protocol.pauseWriting();
  const drain = rejection(writer.drain());
  const closed = rejection(writer.waitClosed());
  const read = rejection(protocol.reader.read());
  const boom = new Error('reset by peer');
  protocol.connectionLost(boom);
  assert.is(await drain, boom);
  assert.is(await closed, boom);
  assert.is(await read, boom);
  assert.is(await rejection(writer.waitClosed()), boom, 'after the loss too');
  assert.is(await rejection(writer.drain()), boom);
  assert.is(protocol.reader.exception(), boom);
});

test('drain rejects with the reader\'s exception once one is set, even before the connection is lost (as asyncio)', async () => {
  const { protocol, writer } = made();
  const boom = new Error('protocol error');
  protocol.reader.setException(boom);
  assert.is(await rejection(writer.drain()), boom);
});

test('a connection lost before it was made reports failed() (with an error even for a clean close) and nothing else', () => {
  const failures: Error[] = [];
  for (const err of [new Error('refused'), null]) {
    const protocol = new StreamProtocol(new StreamReader(), new FakeReactor() as unknown as Reactor, { failed: (e) => void failures.push(e) });
    protocol.connectionLost(err);
  }
  assert.is(failures.length, 2);
  assert.is(failures[0]!.message, 'refused');
  assert.instance(failures[1], Error);
  assert.match(failures[1]!.message, /closed before it was made/);
  // Once made, a loss is not a failure to connect.
  const { protocol } = made({ failed: (e) => void failures.push(e) });
  protocol.connectionLost(new Error('later'));
  assert.is(failures.length, 2);
});

test.run();
