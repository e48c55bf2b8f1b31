// selectloop/select: select(), poll(), epoll(), and the kqueue/devpoll stubs, per the contract.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openSync, closeSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as sel from '../src/select/index.js';
import { select, poll, epoll, kqueue, kevent, devpoll, ValueError, KeyError, OSError, FD_SETSIZE } from '../src/select/index.js';
import { POLLIN, POLLOUT, POLLPRI, POLLHUP, POLLNVAL, EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR } from '../src/select/index.js';
import { pipe, write, read, closeFd } from '../src/select/fds.js';
import { native } from '../src/select/native.js';
import { FileLike, throwsClass, throwsCode } from './helpers/assertions.js';

function withPipe(body: (r: number, w: number) => void): void {
  const [r, w] = pipe();
  const open = [r, w];
  try {
    body(r, w);
  } finally {
    for (const fd of open) {
      try {
        closeFd(fd);
      } catch {
        // closed by the test
      }
    }
  }
}

test('constants are exported with their Linux values', () => {
  for (const name of ['POLLIN', 'POLLPRI', 'POLLOUT', 'POLLERR', 'POLLHUP', 'POLLNVAL', 'EPOLLIN', 'EPOLLOUT', 'EPOLLPRI',
    'EPOLLERR', 'EPOLLHUP', 'EPOLLET', 'EPOLLONESHOT', 'EPOLLRDHUP', 'EPOLLEXCLUSIVE', 'PIPE_BUF', 'FD_SETSIZE']) {
    assert.type((sel as Record<string, unknown>)[name], 'number', name);
  }
  if (process.platform === 'linux') {
    assert.equal([sel.POLLIN, sel.POLLPRI, sel.POLLOUT, sel.POLLERR, sel.POLLHUP, sel.POLLNVAL], [1, 2, 4, 8, 16, 32]);
    assert.equal([sel.EPOLLIN, sel.EPOLLPRI, sel.EPOLLOUT, sel.EPOLLERR, sel.EPOLLHUP, sel.EPOLLRDHUP], [1, 2, 4, 8, 16, 0x2000]);
    assert.is(sel.EPOLLET, 2 ** 31);
    assert.is(sel.EPOLLONESHOT, 2 ** 30);
    assert.is(sel.EPOLLEXCLUSIVE, 2 ** 28);
    assert.is(sel.PIPE_BUF, 4096);
    assert.is(sel.FD_SETSIZE, 1024);
  }
});

// ---- select() ----
test('select returns the subsets of the objects passed in, same identities and order', () => {
  withPipe((r, w) => {
    const robj = new FileLike(r);
    const wobj = new FileLike(w);
    let [rr, ww, xx] = select<FileLike | number, FileLike | number, number>([robj, r], [wobj, w], [], 0);
    assert.equal(rr, []);
    assert.is(ww.length, 2);
    assert.is(ww[0], wobj);
    assert.is(ww[1], w);
    assert.equal(xx, []);
    write(w, 'x');
    [rr, ww, xx] = select([robj, r], [w], [r], 0);
    assert.is(rr.length, 2);
    assert.is(rr[0], robj);
    assert.is(rr[1], r);
    assert.equal(ww, [w]);
    assert.equal(xx, []);
  });
});

test('select accepts any iterable and empty lists', () => {
  withPipe((r, w) => {
    write(w, 'x');
    const [rr, ww, xx] = select(new Set([r]), (function* () { yield w; })(), [], 0);
    assert.equal([rr, ww, xx], [[r], [w], []]);
    assert.equal(select([], [], [], 0), [[], [], []]);
  });
});

test('select timeout: > 0 waits, 0 polls, omitted blocks until ready', () => {
  withPipe((r, w) => {
    let start = performance.now();
    assert.equal(select([r], [], [], 25), [[], [], []]);
    assert.ok(performance.now() - start >= 24);
    start = performance.now();
    assert.equal(select([], [], [], 10), [[], [], []]);
    assert.ok(performance.now() - start >= 9);
    assert.equal(select([r], [], [], 0), [[], [], []]);
    write(w, 'x');
    assert.equal(select([r], [], []), [[r], [], []]);
    assert.equal(select([r], [], [], null), [[r], [], []]);
  });
});

test('select: an fd >= FD_SETSIZE is ValueError; invalid objects ValueError; closed fd OSError EBADF', () => {
  throwsClass(() => select([FD_SETSIZE], [], [], 0), ValueError, 'rlist');
  throwsClass(() => select([], [FD_SETSIZE + 5], [], 0), ValueError, 'wlist');
  throwsClass(() => select([], [], [new FileLike(FD_SETSIZE)], 0), ValueError, 'xlist');
  throwsClass(() => select([-1], [], [], 0), ValueError, '-1');
  throwsClass(() => select(['x' as unknown as number], [], [], 0), ValueError, 'string');
  const [r, w] = pipe();
  closeFd(r);
  closeFd(w);
  const err = throwsClass(() => select([r], [], [], 0), OSError, 'closed') as OSError;
  assert.is(err.code, 'EBADF');
  assert.is(err.syscall, 'select');
  assert.is(err.errno, -9);
});

test('select: a hung-up pipe is readable', () => {
  withPipe((r, w) => {
    closeFd(w);
    assert.equal(select([r], [], [], 0), [[r], [], []]);
  });
});

// ---- poll() ----
test('poll: register/poll/modify/unregister', () => {
  withPipe((r, w) => {
    const p = poll();
    assert.equal(p.poll(0), []);
    p.register(r, POLLIN);
    p.register(new FileLike(w)); // default POLLIN|POLLPRI|POLLOUT
    assert.equal(p.poll(0), [[w, POLLOUT]]);
    write(w, 'x');
    assert.equal(p.poll(0).sort((a, b) => a[0] - b[0]), [[r, POLLIN], [w, POLLOUT]].sort((a, b) => a[0]! - b[0]!));
    p.modify(w, POLLIN);
    assert.equal(p.poll(0), [[r, POLLIN]]);
    p.register(w, POLLOUT); // re-register = modify
    assert.equal(p.poll(0).sort((a, b) => a[0] - b[0]), [[r, POLLIN], [w, POLLOUT]].sort((a, b) => a[0]! - b[0]!));
    p.unregister(r);
    assert.equal(p.poll(0), [[w, POLLOUT]]);
    p.unregister(new FileLike(w));
    assert.equal(p.poll(0), []);
    assert.is(read(r, 5).toString(), 'x');
  });
});

test('poll: modify on a never-registered fd is OSError ENOENT; unregister is KeyError', () => {
  withPipe((r) => {
    const p = poll();
    const err = throwsClass(() => p.modify(r, POLLIN), OSError, 'modify') as OSError;
    assert.is(err.code, 'ENOENT');
    assert.is(err.errno, -2);
    throwsClass(() => p.unregister(r), KeyError, 'unregister');
    p.register(r, POLLIN);
    p.unregister(r);
    throwsClass(() => p.unregister(r), KeyError, 'unregister twice');
    throwsClass(() => p.modify(r, POLLIN), OSError, 'modify after unregister');
  });
});

test('poll: timeout > 0 waits; negative/null blocks (with a ready fd); hang-up and closed fds', () => {
  withPipe((r, w) => {
    const p = poll();
    p.register(r, POLLIN);
    const start = performance.now();
    assert.equal(p.poll(20), []);
    assert.ok(performance.now() - start >= 19);
    write(w, 'x');
    assert.equal(p.poll(-1), [[r, POLLIN]]);
    assert.equal(p.poll(null), [[r, POLLIN]]);
    assert.equal(p.poll(), [[r, POLLIN]]);
    read(r, 1);
    closeFd(w);
    assert.equal(p.poll(0), [[r, POLLHUP]]);
    // a closed registered fd reports POLLNVAL
    const [a, b] = pipe();
    closeFd(a);
    closeFd(b);
    const q = poll();
    q.register(a, POLLIN);
    assert.equal(q.poll(0), [[a, POLLNVAL]]);
  });
});

test('poll: many fds (the pollfd array grows) and unregister in the middle keeps the rest', () => {
  const pipes: Array<[number, number]> = [];
  try {
    const p = poll();
    for (let i = 0; i < 80; i++) pipes.push(pipe());
    for (const [, w] of pipes) p.register(w, POLLOUT);
    assert.is(p.poll(0).length, 80);
    for (let i = 0; i < 80; i += 2) p.unregister(pipes[i]![1]);
    const got = p.poll(0).map(([fd]) => fd).sort((a, b) => a - b);
    assert.equal(got, pipes.filter((_, i) => i % 2 === 1).map(([, w]) => w).sort((a, b) => a - b));
    for (const [, ev] of p.poll(0)) assert.is(ev, POLLOUT);
  } finally {
    for (const [r, w] of pipes) {
      closeFd(r);
      closeFd(w);
    }
  }
});

// ---- epoll() ----
test('epoll: register/modify/unregister/poll, fileno/close/closed/dispose', () => {
  withPipe((r, w) => {
    const ep = epoll();
    try {
      assert.is(ep.closed, false);
      const fd = ep.fileno();
      assert.ok(Number.isInteger(fd) && fd >= 0);
      ep.register(r, EPOLLIN);
      ep.register(new FileLike(w), EPOLLOUT);
      assert.equal(ep.poll(0), [[w, EPOLLOUT]]);
      write(w, 'x');
      assert.equal(ep.poll(0).sort((a, b) => a[0] - b[0]), [[r, EPOLLIN], [w, EPOLLOUT]].sort((a, b) => a[0]! - b[0]!));
      assert.is(ep.poll(0, 1).length, 1);
      ep.modify(w, EPOLLIN);
      assert.equal(ep.poll(0), [[r, EPOLLIN]]);
      ep.unregister(r);
      assert.equal(ep.poll(0), []);
      const start = performance.now();
      assert.equal(ep.poll(20), []);
      assert.ok(performance.now() - start >= 19);
      ep.modify(w, EPOLLOUT);
      assert.equal(ep.poll(), [[w, EPOLLOUT]]);
      assert.equal(ep.poll(null, -1), [[w, EPOLLOUT]]);
      assert.equal(ep.poll(-5), [[w, EPOLLOUT]]);
      closeFd(r);
      assert.equal(ep.poll(0), [[w, EPOLLOUT | EPOLLERR]]);
    } finally {
      ep.close();
    }
    assert.is(ep.closed, true);
    ep.close();
    throwsClass(() => ep.fileno(), ValueError, 'fileno after close');
    throwsClass(() => ep.poll(0), ValueError, 'poll after close');
    throwsClass(() => ep.register(w, EPOLLIN), ValueError, 'register after close');
  });
});

test('epoll: errors are OSErrors from epoll_ctl', () => {
  withPipe((r, w) => {
    using ep = epoll();
    ep.register(r, EPOLLIN);
    let err = throwsClass(() => ep.register(r, EPOLLIN), OSError, 'twice') as OSError;
    assert.is(err.code, 'EEXIST');
    assert.is(err.syscall, 'epoll_ctl');
    assert.is(err.errno, -17);
    assert.match(err.message, /epoll_ctl/);
    assert.match(err.message, /EEXIST/);
    err = throwsClass(() => ep.modify(w, EPOLLIN), OSError, 'modify unregistered') as OSError;
    assert.is(err.code, 'ENOENT');
    err = throwsClass(() => ep.unregister(w), OSError, 'unregister unregistered') as OSError;
    assert.is(err.code, 'ENOENT');
    const file = openSync(new URL(import.meta.url), 'r');
    try {
      err = throwsClass(() => ep.register(file, EPOLLIN), OSError, 'regular file') as OSError;
      assert.is(err.code, 'EPERM');
    } finally {
      closeSync(file);
    }
    closeFd(w);
    assert.equal(ep.poll(0), [[r, EPOLLHUP]]);
  });
});

test('epoll: [Symbol.dispose] via using closes it', () => {
  let outer: ReturnType<typeof epoll>;
  {
    using ep = epoll();
    outer = ep;
    assert.is(ep.closed, false);
  }
  assert.is(outer.closed, true);
});

// ---- kqueue / devpoll ----
test('kqueue(), kevent() and devpoll() throw ERR_UNSUPPORTED_PLATFORM where missing', () => {
  if (!native.backends.kqueue) {
    throwsCode(() => kqueue(), 'ERR_UNSUPPORTED_PLATFORM', 'kqueue');
    throwsCode(() => new sel.Kqueue(), 'ERR_UNSUPPORTED_PLATFORM', 'Kqueue');
    throwsCode(() => kevent(0), 'ERR_UNSUPPORTED_PLATFORM', 'kevent');
  }
  if (!native.backends.devpoll) {
    throwsCode(() => devpoll(), 'ERR_UNSUPPORTED_PLATFORM', 'devpoll');
    throwsCode(() => new sel.Devpoll(), 'ERR_UNSUPPORTED_PLATFORM', 'Devpoll');
  }
  if (process.platform === 'linux') {
    assert.not.ok(native.backends.kqueue);
    assert.not.ok(native.backends.devpoll);
  }
});

void POLLPRI;
// Blocking: with no timeout (or Infinity) select() waits for the fd, here written by a child
// ~200 ms later (a 1 ms wait would return the empty sets first). Bounded: the child then exits.
for (const timeout of [undefined, null, Infinity]) {
  test(`select(..., ${timeout}) blocks until an fd is ready`, async () => {
    const [r, w] = pipe();
    const child = spawn('sh', ['-c', 'sleep 0.2; printf x'], { stdio: ['ignore', w, 'ignore'] });
    const exited = once(child, 'exit');
    closeFd(w);
    try {
      const [rr, ww, xx] = select([r], [], [], timeout);
      assert.equal([rr, ww, xx], [[r], [], []]);
      assert.is(read(r, 10).toString(), 'x');
    } finally {
      await exited;
      closeFd(r);
    }
  });
}

test.run();
