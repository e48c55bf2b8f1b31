// Bad input gets an error naming the problem: the exact messages of the argument checks in
// select(), checkMask() and the reactor's callback checks (from the mutation run: only their
// classes were tested, so a message naming the wrong argument or nothing at all went unnoticed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { select, ValueError, FD_SETSIZE } from '../src/select/index.js';
import { checkMask } from '../src/select/mask.js';
import { Reactor } from '../src/loop/index.js';
import { throwsExactly } from './helpers/assertions.js';

function message(fn: () => unknown, cls: new (...args: never[]) => Error): string {
  return throwsExactly(fn, cls, String(fn)).message;
}

test('select(): each list that is not iterable is named', () => {
  assert.is(message(() => select(null as never, [], []), TypeError), 'rlist must be an iterable of file objects');
  assert.is(message(() => select(undefined as never, [], []), TypeError), 'rlist must be an iterable of file objects');
  assert.is(message(() => select([], 5 as never, []), TypeError), 'wlist must be an iterable of file objects');
  assert.is(message(() => select([], [], {} as never), TypeError), 'xlist must be an iterable of file objects');
  assert.is(message(() => select([], [], undefined as never), TypeError), 'xlist must be an iterable of file objects');
});

test('select(): an fd past FD_SETSIZE is named with the limit', () => {
  assert.is(
    message(() => select([], [FD_SETSIZE], []), ValueError),
    `filedescriptor out of range in select(): ${FD_SETSIZE} >= FD_SETSIZE (${FD_SETSIZE})`,
  );
});

test('select(): a bad timeout says what is wrong with it', () => {
  assert.is(message(() => select([], [], [], '5' as never), TypeError), 'timeout must be a number, null or undefined, not string');
  assert.is(message(() => select([], [], [], NaN), ValueError), 'timeout must not be NaN');
  assert.is(message(() => select([], [], [], -1), ValueError), 'timeout must be non-negative');
});

test('checkMask(): the allowed range depends on the field width', () => {
  assert.is(message(() => checkMask(0x10000, 16), ValueError), 'Invalid eventmask: 65536 (must be an integer in [0, 65535])');
  assert.is(
    message(() => checkMask(1.5, 32, 'fflags'), ValueError),
    'Invalid fflags: 1.5 (must be an integer in [0, 4294967295], or its int32 form in [-2147483648, -1])',
  );
});

test('reactor callbacks: the argument is named and what was passed instead', async () => {
  const reactor = new Reactor();
  try {
    assert.is(message(() => reactor.callSoon(null as never), TypeError), 'callback must be a function, not null');
    assert.is(message(() => reactor.callLater(1, 5 as never), TypeError), 'callback must be a function, not number');
    assert.is(message(() => reactor.callAt(1, undefined as never), TypeError), 'callback must be a function, not undefined');
  } finally {
    reactor.close();
  }
  const err = await Reactor.run({} as never).catch((e: unknown) => e);
  assert.instance(err, TypeError);
  assert.is((err as Error).message, 'main must be a function, not object');
});

test.run();
