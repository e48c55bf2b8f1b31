// Every public function of selectloop/select and selectloop/selectors fed bad values: each must
// throw the exact error class of the contract and leave the process healthy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as selectors from '../src/selectors/index.js';
import { EVENT_READ, EVENT_WRITE, type BaseSelector } from '../src/selectors/index.js';
import { select, poll, epoll, kqueue, kevent, devpoll, POLLIN, POLLNVAL, EPOLLIN, FD_SETSIZE } from '../src/select/index.js';
import { ValueError, KeyError, OSError, BlockingIOError } from '../src/select/errors.js';
import * as selectIndex from '../src/select/index.js';
import { pipe, write, read, closeFd } from '../src/select/fds.js';
import { native } from '../src/select/native.js';
import { selectorNames, openFdCount } from './helpers/index.js';
import { throwsExactly, throwsCode } from './helpers/assertions.js';

type Ctor = new <T = unknown>() => BaseSelector<T>;
const classes = selectors as unknown as Record<string, Ctor>;

/** A pipe round trip still works and no fd leaked. */
function assertHealthy(fdsBefore: number): void {
  const [r, w] = pipe();
  try {
    assert.is(write(w, 'ping'), 4);
    assert.is(read(r, 10).toString(), 'ping');
    using s = new selectors.DefaultSelector<string>();
    s.register(r, EVENT_READ, 'r');
    write(w, '!');
    assert.equal(s.select(0).map(([k, ev]) => [k.data, ev]), [['r', EVENT_READ]]);
  } finally {
    closeFd(r);
    closeFd(w);
  }
  if (fdsBefore >= 0) assert.is(openFdCount(), fdsBefore, 'fd leak');
}

const badFileObjects: unknown[] = [
  -1, -0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 53, Number.MAX_VALUE,
  '3', 'abc', '', null, undefined, true, {}, [], [3], 3n, Symbol('fd'), () => 3,
  { fileno: 3 },
  { fileno: () => -1 },
  { fileno: () => 1.5 },
  { fileno: () => '3' },
  { fileno: () => NaN },
  { fileno: () => 2 ** 31 },
  { fileno: () => { throw new Error('closed'); } },
];
const describe = (v: unknown) => (typeof v === 'symbol' ? v.toString() : typeof v === 'bigint' ? `${v}n` : typeof v === 'function' ? 'function' : JSON.stringify(v) ?? String(v));

const badSelectorMasks: unknown[] = [0, -1, -3, 4, 8, 7, 0x100, 2 ** 31, 2 ** 32 + 1, 1.5, 0.5, NaN, Infinity, '1', 1n, null, undefined, {}, true];
const badTimeoutTypes: unknown[] = ['10', '', {}, [], true, 1n, Symbol('t'), () => 1];

// ---- select() ----
test('select(): bad lists, file objects, fds and timeouts', () => {
  const before = openFdCount();
  for (const bad of [null, undefined, 5, {}, true]) {
    throwsExactly(() => select(bad as never, [], [], 0), TypeError, `rlist ${describe(bad)}`);
    throwsExactly(() => select([], bad as never, [], 0), TypeError, `wlist ${describe(bad)}`);
    throwsExactly(() => select([], [], bad as never, 0), TypeError, `xlist ${describe(bad)}`);
  }
  for (const bad of badFileObjects) {
    throwsExactly(() => select([bad], [], [], 0), ValueError, `rlist [${describe(bad)}]`);
    throwsExactly(() => select([], [bad], [], 0), ValueError, `wlist [${describe(bad)}]`);
    throwsExactly(() => select([], [], [bad], 0), ValueError, `xlist [${describe(bad)}]`);
  }
  // a string is iterable: its characters are not file objects
  throwsExactly(() => select('ab' as never, [], [], 0), ValueError, "rlist 'ab'");
  for (const fd of [FD_SETSIZE, FD_SETSIZE + 1, 65535, 2 ** 31 - 1]) {
    throwsExactly(() => select([fd], [], [], 0), ValueError, `fd ${fd}`);
    throwsExactly(() => select([], [{ fileno: () => fd }], [], 0), ValueError, `fileno ${fd}`);
  }
  for (const bad of badTimeoutTypes) throwsExactly(() => select([], [], [], bad as never), TypeError, `timeout ${describe(bad)}`);
  throwsExactly(() => select([], [], [], NaN), ValueError, 'timeout NaN');
  throwsExactly(() => select([], [], [], -1), ValueError, 'timeout -1');
  throwsExactly(() => select([], [], [], -0.001), ValueError, 'timeout -0.001');
  // a closed (but in-range) fd is the OS's business: EBADF
  const [r, w] = pipe();
  closeFd(r);
  closeFd(w);
  const err = throwsExactly(() => select([r], [], [], 0), OSError, 'closed fd') as OSError;
  assert.is(err.code, 'EBADF');
  assertHealthy(before);
});

// ---- poll() ----
test('poll(): bad file objects, masks and timeouts', () => {
  const before = openFdCount();
  const p = poll();
  const [r, w] = pipe();
  try {
    for (const bad of badFileObjects) {
      throwsExactly(() => p.register(bad as number, POLLIN), ValueError, `register ${describe(bad)}`);
      throwsExactly(() => p.modify(bad as number, POLLIN), ValueError, `modify ${describe(bad)}`);
      throwsExactly(() => p.unregister(bad as number), ValueError, `unregister ${describe(bad)}`);
    }
    for (const bad of [-1, 0x10000, 2 ** 32, 1.5, NaN, Infinity, '1', 1n, {}, true]) {
      throwsExactly(() => p.register(r, bad as number), ValueError, `register mask ${describe(bad)}`);
    }
    assert.is(p.size, 0);
    p.register(r, POLLIN);
    for (const bad of [-1, 0x10000, 1.5, NaN, '1']) throwsExactly(() => p.modify(r, bad as number), ValueError, `modify mask ${describe(bad)}`);
    throwsExactly(() => p.modify(w, POLLIN), OSError, 'modify never registered');
    throwsExactly(() => p.unregister(w), KeyError, 'unregister never registered');
    for (const bad of badTimeoutTypes) throwsExactly(() => p.poll(bad as never), TypeError, `timeout ${describe(bad)}`);
    throwsExactly(() => p.poll(NaN), ValueError, 'timeout NaN');
    // A huge but valid fd number is accepted by poll() and reported POLLNVAL, as Python does.
    p.register(100000, POLLIN);
    assert.equal(p.poll(0), [[100000, POLLNVAL]]);
    p.unregister(100000);
    // mask 0 and 0xffff are valid
    p.register(w, 0);
    p.modify(w, 0xffff);
    assert.is(p.size, 2);
  } finally {
    closeFd(r);
    closeFd(w);
  }
  assertHealthy(before);
});

// ---- epoll() ----
test('epoll(): bad sizehint, file objects, masks, timeouts, maxevents; closed object', () => {
  const before = openFdCount();
  for (const bad of [0, -2, 1.5, NaN, '1', null, {}]) throwsExactly(() => epoll(bad as number), ValueError, `sizehint ${describe(bad)}`);
  const ep = epoll(10);
  const [r, w] = pipe();
  try {
    for (const bad of badFileObjects) {
      throwsExactly(() => ep.register(bad as number, EPOLLIN), ValueError, `register ${describe(bad)}`);
      throwsExactly(() => ep.modify(bad as number, EPOLLIN), ValueError, `modify ${describe(bad)}`);
      throwsExactly(() => ep.unregister(bad as number), ValueError, `unregister ${describe(bad)}`);
    }
    for (const bad of [-(2 ** 31) - 1, 2 ** 32, 1.5, NaN, Infinity, '1', 1n, {}]) {
      throwsExactly(() => ep.register(r, bad as number), ValueError, `register mask ${describe(bad)}`);
    }
    let err = throwsExactly(() => ep.register(100000, EPOLLIN), OSError, 'unopened fd') as OSError;
    assert.is(err.code, 'EBADF');
    err = throwsExactly(() => ep.register(2 ** 31 - 1, EPOLLIN), OSError, 'max fd') as OSError;
    assert.is(err.code, 'EBADF');
    err = throwsExactly(() => ep.register(ep.fileno(), EPOLLIN), OSError, 'itself') as OSError;
    assert.is(err.code, 'EINVAL');
    err = throwsExactly(() => ep.modify(r, EPOLLIN), OSError, 'modify never registered') as OSError;
    assert.is(err.code, 'ENOENT');
    err = throwsExactly(() => ep.unregister(r), OSError, 'unregister never registered') as OSError;
    assert.is(err.code, 'ENOENT');
    for (const bad of badTimeoutTypes) throwsExactly(() => ep.poll(bad as never), TypeError, `timeout ${describe(bad)}`);
    throwsExactly(() => ep.poll(NaN), ValueError, 'timeout NaN');
    for (const bad of [0, -2, 1.5, NaN, '1', null]) throwsExactly(() => ep.poll(0, bad as number), ValueError, `maxevents ${describe(bad)}`);
    assert.equal(ep.poll(0, 1), []);
    // a huge maxevents is fine (no giant allocation, no RangeError)
    for (const big of [2 ** 20, 1e9, 2 ** 31, 2 ** 53]) assert.equal(ep.poll(0, big), [], `maxevents ${big}`);
    ep.register(w, 4 /* EPOLLOUT */);
    assert.equal(ep.poll(0, 2 ** 40), [[w, 4]]);
    ep.unregister(w);
  } finally {
    ep.close();
    closeFd(r);
    closeFd(w);
  }
  throwsExactly(() => ep.fileno(), ValueError, 'closed fileno');
  throwsExactly(() => ep.register(0, EPOLLIN), ValueError, 'closed register');
  throwsExactly(() => ep.modify(0, EPOLLIN), ValueError, 'closed modify');
  throwsExactly(() => ep.unregister(0), ValueError, 'closed unregister');
  throwsExactly(() => ep.poll(0), ValueError, 'closed poll');
  ep.close();
  assertHealthy(before);
});

test('kqueue()/kevent()/devpoll() on a platform without them throw ERR_UNSUPPORTED_PLATFORM whatever the arguments', () => {
  const before = openFdCount();
  if (!native.backends.kqueue) {
    throwsCode(() => kqueue(), 'ERR_UNSUPPORTED_PLATFORM', 'kqueue');
    for (const bad of [0, -1, 'x', null]) throwsCode(() => kevent(bad), 'ERR_UNSUPPORTED_PLATFORM', `kevent ${describe(bad)}`);
  }
  if (!native.backends.devpoll) throwsCode(() => devpoll(), 'ERR_UNSUPPORTED_PLATFORM', 'devpoll');
  assertHealthy(before);
});

// ---- selectors ----
for (const name of selectorNames) {
  test(`${name}: register with bad file objects and masks`, () => {
    const before = openFdCount();
    const [r, w] = pipe();
    const sel = new classes[name]!();
    try {
      for (const bad of badFileObjects) throwsExactly(() => sel.register(bad as number, EVENT_READ), ValueError, `fileobj ${describe(bad)}`);
      for (const bad of badSelectorMasks) throwsExactly(() => sel.register(r, bad as number), ValueError, `mask ${describe(bad)}`);
      // both bad: still ValueError
      throwsExactly(() => sel.register(-1, 0), ValueError, 'both bad');
      assert.is(sel.getMap().size, 0);
      // huge but representable fds: the OS (epoll), FD_SETSIZE (select) or nobody (poll) objects
      for (const fd of [FD_SETSIZE, 100000, 2 ** 31 - 1]) {
        if (name === 'EpollSelector') {
          const err = throwsExactly(() => sel.register(fd, EVENT_READ), OSError, `fd ${fd}`) as OSError;
          assert.is(err.code, 'EBADF');
          assert.is(sel.getMap().size, 0);
        } else if (name === 'SelectSelector') {
          throwsExactly(() => sel.register(fd, EVENT_READ), ValueError, `fd ${fd}`);
          assert.is(sel.getMap().size, 0);
        } else {
          assert.is(sel.register(fd, EVENT_READ).fd, fd);
          assert.is(sel.unregister(fd).fd, fd);
        }
      }
      // duplicate
      sel.register(r, EVENT_READ);
      throwsExactly(() => sel.register(r, EVENT_READ), KeyError, 'duplicate');
      throwsExactly(() => sel.register({ fileno: () => r }, EVENT_WRITE), KeyError, 'duplicate via fileno');
      // a bad mask on an already-registered fd is a ValueError (mask checked first)
      throwsExactly(() => sel.register(r, 0), ValueError, 'bad mask, registered fd');
      assert.is(sel.getMap().size, 1);
    } finally {
      sel.close();
      closeFd(r);
      closeFd(w);
    }
    assertHealthy(before);
  });

  test(`${name}: unregister/modify/getKey with bad and unknown file objects`, () => {
    const before = openFdCount();
    const [r, w] = pipe();
    const sel = new classes[name]!();
    try {
      sel.register(r, EVENT_READ, 'r');
      for (const bad of badFileObjects) {
        throwsExactly(() => sel.unregister(bad as number), ValueError, `unregister ${describe(bad)}`);
        throwsExactly(() => sel.modify(bad as number, EVENT_READ), ValueError, `modify ${describe(bad)}`);
        throwsExactly(() => sel.getKey(bad as number), ValueError, `getKey ${describe(bad)}`);
        assert.is(sel.getMap().get(bad as number), undefined);
        assert.is(sel.getMap().has(bad as number), false);
      }
      for (const unknown of [w, 0, 100000, { fileno: () => w }]) {
        throwsExactly(() => sel.unregister(unknown), KeyError, `unregister ${describe(unknown)}`);
        throwsExactly(() => sel.modify(unknown, EVENT_READ), KeyError, `modify ${describe(unknown)}`);
        throwsExactly(() => sel.getKey(unknown), KeyError, `getKey ${describe(unknown)}`);
      }
      for (const bad of badSelectorMasks) throwsExactly(() => sel.modify(r, bad as number), ValueError, `modify mask ${describe(bad)}`);
      // an unregistered fd with a bad mask: the mask is checked first
      throwsExactly(() => sel.modify(w, 0), ValueError, 'bad mask, unknown fd');
      // nothing changed
      assert.equal({ ...sel.getKey(r) }, { fileobj: r, fd: r, events: EVENT_READ, data: 'r' });
      assert.is(sel.getMap().size, 1);
    } finally {
      sel.close();
      closeFd(r);
      closeFd(w);
    }
    assertHealthy(before);
  });

  test(`${name}: select with bad timeouts`, () => {
    const before = openFdCount();
    const sel = new classes[name]!();
    try {
      for (const bad of badTimeoutTypes) throwsExactly(() => sel.select(bad as never), TypeError, `timeout ${describe(bad)}`);
      throwsExactly(() => sel.select(NaN), ValueError, 'timeout NaN');
      // valid odd values do not throw and do not block
      for (const ok of [0, -0, -1, -Infinity, Number.MIN_VALUE * -1]) assert.equal(sel.select(ok), []);
    } finally {
      sel.close();
    }
    assertHealthy(before);
  });

  test(`${name}: a registered fd that was closed behind the selector's back`, () => {
    const before = openFdCount();
    const [r, w] = pipe();
    const sel = new classes[name]!<string>();
    try {
      sel.register(r, EVENT_READ, 'r');
      closeFd(r);
      closeFd(w);
      if (name === 'SelectSelector') {
        // select(2) refuses a closed fd
        const err = throwsExactly(() => sel.select(0), OSError, 'select on closed fd') as OSError;
        assert.is(err.code, 'EBADF');
      } else if (name === 'PollSelector') {
        // POLLNVAL: reported in the directions the key watches
        assert.equal(sel.select(0).map(([k, ev]) => [k.data, ev]), [['r', EVENT_READ]]);
      } else {
        // epoll dropped it when the last reference closed
        assert.equal(sel.select(0), []);
      }
      assert.is(sel.unregister(r).data, 'r');
      assert.equal(sel.select(0), []);
    } finally {
      sel.close();
    }
    assertHealthy(before);
  });

  test(`${name}: every method of a closed selector throws ERR_SELECTOR_CLOSED, whatever the arguments`, () => {
    const before = openFdCount();
    const sel = new classes[name]!();
    sel.close();
    const args: unknown[] = [0, -1, 'x', null, NaN, {}];
    for (const a of args) {
      throwsCode(() => sel.register(a as number, EVENT_READ), 'ERR_SELECTOR_CLOSED', `register ${describe(a)}`);
      throwsCode(() => sel.register(0, a as number), 'ERR_SELECTOR_CLOSED', `register mask ${describe(a)}`);
      throwsCode(() => sel.unregister(a as number), 'ERR_SELECTOR_CLOSED', `unregister ${describe(a)}`);
      throwsCode(() => sel.modify(a as number, EVENT_WRITE), 'ERR_SELECTOR_CLOSED', `modify ${describe(a)}`);
      throwsCode(() => sel.getKey(a as number), 'ERR_SELECTOR_CLOSED', `getKey ${describe(a)}`);
      throwsCode(() => sel.select(a as number), 'ERR_SELECTOR_CLOSED', `select ${describe(a)}`);
    }
    throwsCode(() => sel.getMap(), 'ERR_SELECTOR_CLOSED', 'getMap');
    const f = (sel as unknown as { fileno?: () => number }).fileno;
    if (f) throwsCode(() => f.call(sel), 'ERR_SELECTOR_CLOSED', 'fileno');
    sel.close();
    sel[Symbol.dispose]();
    assertHealthy(before);
  });
}

test('KqueueSelector/DevpollSelector construction throws ERR_UNSUPPORTED_PLATFORM where missing', () => {
  const before = openFdCount();
  if (!native.backends.kqueue) throwsCode(() => new selectors.KqueueSelector(), 'ERR_UNSUPPORTED_PLATFORM', 'kqueue');
  if (!native.backends.devpoll) throwsCode(() => new selectors.DevpollSelector(), 'ERR_UNSUPPORTED_PLATFORM', 'devpoll');
  assertHealthy(before);
});

test('error classes: exported from both subpaths, OSError shape, BlockingIOError is an OSError', () => {
  assert.is(selectIndex.ValueError, ValueError);
  assert.is(selectIndex.KeyError, KeyError);
  assert.is(selectIndex.OSError, OSError);
  assert.is(selectors.ValueError, ValueError);
  assert.is(selectors.KeyError, KeyError);
  assert.is(selectors.OSError, OSError);
  assert.is(selectors.BlockingIOError, BlockingIOError);
  const e = new OSError(9, 'epoll_ctl');
  assert.is(e.errno, -9);
  assert.is(e.code, 'EBADF');
  assert.is(e.syscall, 'epoll_ctl');
  assert.match(e.message, /epoll_ctl/);
  assert.match(e.message, /EBADF/);
  assert.instance(new BlockingIOError(-11, 'read'), OSError);
  assert.is(new ValueError('x').name, 'ValueError');
  assert.is(new KeyError('x').name, 'KeyError');
  assert.is(e.name, 'OSError');
});

test('the process is healthy after the whole sweep', () => {
  assertHealthy(openFdCount());
  void EVENT_WRITE;
});

test.run();
