// Reactor.run: asyncio.run's shape (a new attached reactor, await main, close).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reactor, type FdHandles } from '../src/loop/index.js';
import { PollSelector, EpollSelector, availableSelectors } from '../src/selectors/index.js';
import { openFdCount, withTimeout } from './helpers/index.js';

const fdsAtStart = openFdCount();

test('returns what main returns; main gets an attached reactor; the reactor is closed after', async () => {
  let seen: Reactor | undefined;
  const result = await withTimeout(
    Reactor.run(async (reactor) => {
      seen = reactor;
      assert.ok(reactor.isAttached());
      // await works: a timer of the reactor resolves a promise.
      await new Promise<void>((resolve) => reactor.callLater(1, resolve));
      return 'answer';
    }),
    10_000,
  );
  assert.is(result, 'answer');
  assert.ok(seen!.isClosed());
});

test('a synchronous main works too', async () => {
  assert.is(await Reactor.run(() => 7), 7);
});

test('main throwing or rejecting rejects run with that error, and the reactor is closed', async () => {
  const seen: Reactor[] = [];
  const throwing = (r: Reactor): number => {
    seen.push(r);
    throw new Error('sync boom');
  };
  const rejecting = async (r: Reactor): Promise<number> => {
    seen.push(r);
    await new Promise((resolve) => r.callSoon(() => resolve(null)));
    throw new Error('async boom');
  };
  for (const main of [throwing, rejecting]) {
    const err = await Reactor.run(main).catch((e: unknown) => e);
    assert.match(String(err), /boom/);
  }
  assert.is(seen.length, 2);
  assert.ok(seen.every((r) => r.isClosed()));
});

test('main settling inside one of the reactor\'s own callbacks still closes it', async () => {
  let seen: Reactor | undefined;
  await withTimeout(
    Reactor.run((reactor) => {
      seen = reactor;
      return new Promise<void>((resolve) => reactor.callSoon(resolve));
    }),
    10_000,
  );
  assert.ok(seen!.isClosed());
});

test('options are the constructor\'s; a selector that cannot attach rejects and is closed', async () => {
  if (availableSelectors().includes('EpollSelector')) {
    const sel = new EpollSelector<FdHandles>();
    await Reactor.run(() => undefined, { selector: sel });
    assert.throws(() => sel.select(0), /closed/);
  }
  const poll = new PollSelector<FdHandles>();
  const err = (await Reactor.run(() => 1, { selector: poll }).catch((e: unknown) => e)) as { code?: string };
  assert.is(err.code, 'ERR_NO_BACKEND_FD');
  assert.throws(() => poll.select(0), /closed/);
});

test('main must be a function', async () => {
  const err = await Reactor.run(42 as never).catch((e: unknown) => e);
  assert.instance(err, TypeError);
});

test('no fd left open', () => {
  if (fdsAtStart >= 0) assert.is(openFdCount(), fdsAtStart);
});

test.run();
