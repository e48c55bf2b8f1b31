// Bad input gets an error naming the problem: the exact messages of the argument checks in
// select(), checkMask() and the reactor's callback checks (from the mutation run: only their
// classes were tested, so a message naming the wrong argument or nothing at all went unnoticed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { select, ValueError, FD_SETSIZE } from '../src/select/index.js';
import { checkMask } from '../src/select/mask.js';
import { fileobjToFd } from '../src/select/fileobj.js';
import { pipe, read, write, closeFd, setBlocking, getBlocking } from '../src/select/fds.js';
import { native } from '../src/select/native.js';
import { OSError } from '../src/select/errors.js';
import { constants } from 'node:os';
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

test('fileobjToFd(): fds in [0, 2^31 - 1], from a number or a fileno() of an object or function', () => {
  assert.is(fileobjToFd(0), 0);
  assert.is(fileobjToFd(0x7fffffff), 0x7fffffff);
  assert.is(fileobjToFd({ fileno: () => 7 }), 7);
  assert.is(fileobjToFd(Object.assign(() => 0, { fileno: () => 8 })), 8);
  assert.is(message(() => fileobjToFd(-1), ValueError), 'Invalid file descriptor: -1 (from -1)');
  assert.is(message(() => fileobjToFd(2 ** 31), ValueError), 'Invalid file descriptor: 2147483648 (from 2147483648)');
  assert.is(message(() => fileobjToFd(1.5), ValueError), 'Invalid file descriptor: 1.5 (from 1.5)');
  assert.is(message(() => fileobjToFd({ fileno: () => '3' }), ValueError), "Invalid file descriptor: '3' (from { fileno: [Function: fileno] })");
  assert.is(message(() => fileobjToFd(null), ValueError), 'Invalid file object: null');
  assert.is(message(() => fileobjToFd('3'), ValueError), "Invalid file object: '3'");
  assert.is(message(() => fileobjToFd({ fileno: 3 }), ValueError), 'Invalid file object: { fileno: 3 }');
  const throwing = {
    fileno(): number {
      throw new Error('closed');
    },
  };
  assert.is(message(() => fileobjToFd(throwing), ValueError), 'Invalid file object: { fileno: [Function: fileno] } (fileno() threw: Error: closed)');
  // Objects are shown one level deep only.
  const deep = { a: { b: 1 } };
  assert.is(message(() => fileobjToFd(deep), ValueError), 'Invalid file object: { a: [Object] }');
  assert.is(message(() => fileobjToFd({ a: { b: 1 }, fileno: () => -1 }), ValueError), 'Invalid file descriptor: -1 (from { a: [Object], fileno: [Function: fileno] })');
  const deepThrowing = Object.assign({ a: { b: 1 } }, { fileno: throwing.fileno });
  assert.is(message(() => fileobjToFd(deepThrowing), ValueError), 'Invalid file object: { a: [Object], fileno: [Function: fileno] } (fileno() threw: Error: closed)');
});

test('fd helpers: bad counts, data and flags are named; short reads come back trimmed', () => {
  const [r, w] = pipe();
  try {
    assert.is(message(() => read(r, '1' as never), TypeError), 'n must be a number, not string');
    assert.is(message(() => read(r, -1), RangeError), 'n must be a non-negative integer, got -1');
    assert.is(message(() => read(r, 1.5), RangeError), 'n must be a non-negative integer, got 1.5');
    assert.is(message(() => write(w, 5 as never), TypeError), 'data must be a Uint8Array, Buffer or string');
    assert.is(message(() => setBlocking(r, 1 as never), TypeError), 'blocking must be a boolean');
    assert.is(getBlocking(r), true);
    setBlocking(r, false);
    assert.is(getBlocking(r), false);
    // Any typed array goes out as its bytes; a DataView too.
    const words = new Uint16Array([0x4241, 0x4443]);
    assert.is(write(w, words as never), 4);
    assert.is(write(w, new DataView(new Uint8Array([0x45, 0x46, 0x47]).buffer, 1, 1) as never), 1);
    assert.is(read(r, 0).length, 0);
    const got = read(r, 100);
    assert.is(got.length, 5);
    assert.equal([...got], [...new Uint8Array(words.buffer), 0x46]);
  } finally {
    closeFd(r);
    closeFd(w);
  }
});

test('fd helpers: a failed system call is named in the OSError', () => {
  const [r, w] = pipe();
  closeFd(r);
  closeFd(w);
  const ebadf = (fn: () => unknown): string => message(fn, OSError);
  assert.is(ebadf(() => read(r, 1)), 'read EBADF (bad file descriptor)');
  assert.is(ebadf(() => write(w, 'x')), 'write EBADF (bad file descriptor)');
  assert.is(ebadf(() => closeFd(r)), 'close EBADF (bad file descriptor)');
  assert.is(ebadf(() => setBlocking(r, false)), 'fcntl EBADF (bad file descriptor)');
  assert.is(ebadf(() => getBlocking(r)), 'fcntl EBADF (bad file descriptor)');
  // pipe() fails only when out of fds: simulated.
  const realPipe = native.pipe;
  (native as { pipe: unknown }).pipe = () => -constants.errno.EMFILE;
  try {
    assert.is(message(() => pipe(), OSError), 'pipe EMFILE (too many open files)');
  } finally {
    (native as { pipe: unknown }).pipe = realPipe;
  }
});

test.run();
