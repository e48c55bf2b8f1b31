// Every mask argument accepts the int32 that JavaScript's bitwise operators produce:
// `EPOLLIN | EPOLLET` is -2147483647 and means the bits EPOLLIN + EPOLLET. Masks read back stay
// non-negative. Contract: API.md v2, "Every mask, as JavaScript writes it".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { poll, epoll, kqueue, kevent, devpoll, ValueError, POLLIN, POLLOUT, EPOLLIN, EPOLLOUT, EPOLLET, EPOLLONESHOT } from '../src/select/index.js';
import { KQ_FILTER_READ, KQ_EV_ADD, KQ_EV_CLEAR } from '../src/select/index.js';
import * as selectors from '../src/selectors/index.js';
import { EVENT_READ, EVENT_WRITE, type BaseSelector } from '../src/selectors/index.js';
import { checkMask } from '../src/select/mask.js';
import { pipe, write, read, closeFd } from '../src/select/fds.js';
import { native } from '../src/select/native.js';
import { selectorNames } from './helpers/index.js';
import { throwsExactly } from './helpers/assertions.js';

type Ctor = new <T = unknown>() => BaseSelector<T>;
const classes = selectors as unknown as Record<string, Ctor>;

function withPipe(body: (r: number, w: number) => void): void {
  const [r, w] = pipe();
  try {
    body(r, w);
  } finally {
    closeFd(r);
    closeFd(w);
  }
}

test('checkMask reads an int32 as its 32 bits and keeps the field width', () => {
  assert.is(checkMask(1 | 2 ** 31, 32), 0x80000001);
  assert.is(checkMask(-2147483647, 32), 0x80000001);
  assert.is(checkMask(-1, 32), 0xffffffff);
  assert.is(checkMask(-(2 ** 31), 32), 0x80000000);
  assert.is(checkMask(0xffffffff, 32), 0xffffffff);
  assert.is(checkMask(0, 32), 0);
  assert.is(checkMask(0xffff, 16), 0xffff);
  assert.is(checkMask(POLLIN | POLLOUT, 16), POLLIN + POLLOUT);
  // Not an int32 nor a uint32, or bits beyond the field: ValueError naming the value.
  for (const bad of [-(2 ** 31) - 1, 2 ** 32, 1.5, NaN, Infinity, -Infinity, '1', 1n, null, undefined, {}]) {
    const err = throwsExactly(() => checkMask(bad, 32), ValueError, `32-bit ${String(bad)}`);
    assert.ok(err.message.startsWith(`Invalid eventmask: ${String(bad)} (`), err.message);
  }
  for (const bad of [-1, -2147483647, 0x10000, 2 ** 32, 0.5]) throwsExactly(() => checkMask(bad, 16), ValueError, `16-bit ${bad}`);
  assert.match(throwsExactly(() => checkMask(-1, 16, 'kevent flags'), ValueError, 'name').message, /^Invalid kevent flags: -1 /);
});

test('epoll: EPOLLIN | EPOLLET (negative in JS) registers edge-triggered; events read back non-negative', () => {
  assert.ok((EPOLLIN | EPOLLET) < 0, 'the bitwise OR is negative in JS');
  using ep = epoll();
  withPipe((r, w) => {
    ep.register(r, EPOLLIN | EPOLLET);
    write(w, 'x');
    assert.equal(ep.poll(0), [[r, EPOLLIN]]);
    // Edge-triggered: the unread byte is not reported again; level-triggered would report it.
    assert.equal(ep.poll(0), []);
    write(w, 'y');
    assert.equal(ep.poll(0), [[r, EPOLLIN]]);
    assert.is(read(r, 10).toString(), 'xy');

    // modify() and control() take the same form; the write end is ready at once.
    ep.register(w, EPOLLOUT);
    ep.modify(w, EPOLLOUT | EPOLLET | EPOLLONESHOT);
    assert.equal(ep.poll(0), [[w, EPOLLOUT]]);
    assert.equal(ep.poll(0), [], 'one-shot: disarmed after one report');
    assert.is(ep.control(3, w, EPOLLOUT | EPOLLET), 0);
    const events = ep.poll(0);
    assert.equal(events, [[w, EPOLLOUT]]);
    assert.ok(events.every(([, ev]) => ev >= 0));
    throwsExactly(() => ep.control(3, w, 2 ** 32), ValueError, 'control mask beyond 32 bits');
    ep.unregister(w);
    ep.unregister(r);
  });
});

test('epoll: the same bits written as EPOLLIN + EPOLLET behave the same', () => {
  using ep = epoll();
  withPipe((r, w) => {
    ep.register(r, EPOLLIN + EPOLLET);
    write(w, 'x');
    assert.equal(ep.poll(0), [[r, EPOLLIN]]);
    assert.equal(ep.poll(0), []);
  });
});

test('poll: bitwise masks are accepted; results stay non-negative; bits beyond 16 are ValueError', () => {
  const p = poll();
  withPipe((r, w) => {
    p.register(r, POLLIN | 0x8000); // the short's sign bit: stored as a negative short
    p.register(w, ~~POLLOUT);
    write(w, 'x');
    const ready = p.poll(0).sort((a, b) => a[0] - b[0]);
    assert.equal(ready, [[r, POLLIN], [w, POLLOUT]].sort((a, b) => a[0]! - b[0]!));
    p.modify(r, POLLIN | POLLOUT);
    for (const bad of [POLLIN | EPOLLET, -1]) {
      throwsExactly(() => p.register(r, bad), ValueError, `register ${bad}`);
      throwsExactly(() => p.modify(r, bad), ValueError, `modify ${bad}`);
    }
    assert.is(p.size, 2);
  });
});

test('kqueue (where built): kevent flags and fflags take their int32 forms; filter stays a short', () => {
  if (!native.backends.kqueue) return;
  withPipe((r) => {
    const ev = kevent(r, KQ_FILTER_READ, KQ_EV_ADD | KQ_EV_CLEAR, 1 << 31);
    assert.is(ev.fflags, 0x80000000);
    assert.is(ev.flags, KQ_EV_ADD + KQ_EV_CLEAR);
    throwsExactly(() => kevent(r, KQ_FILTER_READ, -1), ValueError, 'flags beyond 16 bits');
    throwsExactly(() => kevent(r, 0x8000), ValueError, 'filter beyond a short');
    using kq = kqueue();
    assert.equal(kq.control([kevent(r, KQ_FILTER_READ, KQ_EV_ADD)], 0, 0), []);
  });
});

test('devpoll (where built): bitwise masks accepted, results non-negative', () => {
  if (!native.backends.devpoll) return;
  using dp = devpoll();
  withPipe((r, w) => {
    dp.register(r, POLLIN | 0);
    write(w, 'x');
    assert.equal(dp.poll(0), [[r, POLLIN]]);
    throwsExactly(() => dp.register(r, POLLIN | EPOLLET), ValueError, 'bits beyond 16');
  });
});

for (const name of selectorNames) {
  test(`${name}: EVENT_READ | EVENT_WRITE accepted, key.events non-negative; a negative int32 is ValueError`, () => {
    using sel = new classes[name]!<string>();
    withPipe((r, w) => {
      const key = sel.register(w, EVENT_READ | EVENT_WRITE, 'w');
      assert.is(key.events, 3);
      assert.is(sel.modify(w, ~EVENT_READ & (EVENT_READ | EVENT_WRITE), 'w').events, EVENT_WRITE);
      assert.equal(sel.select(0).map(([k, ev]) => [k.data, ev]), [['w', EVENT_WRITE]]);
      for (const bad of [EVENT_READ | EPOLLET, -1, ~EVENT_READ]) {
        throwsExactly(() => sel.register(r, bad), ValueError, `register ${bad}`);
        throwsExactly(() => sel.modify(w, bad), ValueError, `modify ${bad}`);
      }
      assert.is(sel.getKey(w).events, EVENT_WRITE);
      sel.unregister(w);
    });
  });
}

test.run();
