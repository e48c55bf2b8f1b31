// Python's selectors documentation, sentence by sentence, against every backend usable here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openSync, closeSync } from 'node:fs';
import * as selectors from '../src/selectors/index.js';
import { EVENT_READ, EVENT_WRITE, ValueError, KeyError, OSError, type BaseSelector } from '../src/selectors/index.js';
import { pipe, write, read, closeFd } from '../src/select/fds.js';
import { native } from '../src/select/native.js';
import { selectorNames } from './helpers/index.js';
import { FileLike, throwsClass, throwsCode } from './helpers/assertions.js';

type Ctor = new <T = unknown>() => BaseSelector<T>;
const classes = selectors as unknown as Record<string, Ctor>;

function socketpair(): [number, number] {
  const c = native.socketConstants;
  const out = new Int32Array(2);
  const rc = native.socketpair(c.AF_UNIX!, c.SOCK_STREAM!, 0, out, false);
  if (rc < 0) throw new Error(`socketpair failed: ${rc}`);
  return [out[0]!, out[1]!];
}

/** Runs body with a fresh selector and a pipe, closing all of them afterwards. */
function withSel(name: string, body: (sel: BaseSelector<unknown>, r: number, w: number) => void): void {
  const sel = new classes[name]!<unknown>();
  const [r, w] = pipe();
  const open = new Set([r, w]);
  try {
    body(sel, r, w);
  } finally {
    sel.close();
    for (const fd of open) {
      try {
        closeFd(fd);
      } catch {
        // already closed by the test
      }
    }
  }
}

const summary = (ready: Array<[selectors.SelectorKey<unknown>, number]>) => ready.map(([k, ev]) => [k.fd, ev]);

test('selectorNames is non-empty and DefaultSelector is its first entry', () => {
  assert.ok(selectorNames.length >= 2);
  assert.is(classes[selectorNames[0]!], selectors.DefaultSelector);
  assert.is(EVENT_READ, 1);
  assert.is(EVENT_WRITE, 2);
});

for (const name of selectorNames) {
  const t = (title: string, fn: () => void) => test(`${name}: ${title}`, fn);

  // ---- register ----
  t('register returns a frozen key with fileobj, fd, events, data', () => {
    withSel(name, (sel, r, w) => {
      const key = sel.register(r, EVENT_READ, 'payload');
      assert.equal({ ...key }, { fileobj: r, fd: r, events: EVENT_READ, data: 'payload' });
      assert.ok(Object.isFrozen(key));
      const obj = new FileLike(w);
      const key2 = sel.register(obj, EVENT_READ | EVENT_WRITE);
      assert.is(key2.fileobj, obj);
      assert.is(key2.fd, w);
      assert.is(key2.events, 3);
      assert.is(key2.data, undefined);
      assert.throws(() => {
        (key as { events: number }).events = 2;
      });
      assert.is(key.events, EVENT_READ);
    });
  });

  t('register: invalid event masks are ValueError and register nothing', () => {
    withSel(name, (sel, r) => {
      for (const bad of [0, 4, 7, 1 << 8, 2 ** 32 + 1, 2 ** 32 + 3, -1, 1.5, NaN, Infinity, '1', null]) {
        throwsClass(() => sel.register(r, bad as number), ValueError, `mask ${String(bad)}`);
      }
      assert.is(sel.getMap().size, 0);
    });
  });

  t('register: invalid file objects are ValueError', () => {
    withSel(name, (sel) => {
      const bads: unknown[] = [
        'abc', {}, -1, 1.5, NaN, null, undefined, [],
        { fileno: () => { throw new Error('closed'); } },
        { fileno: () => -1 },
        { fileno: () => '3' },
        { fileno: 5 },
      ];
      for (const bad of bads) throwsClass(() => sel.register(bad as number, EVENT_READ), ValueError, `fileobj ${String(bad)}`);
      assert.is(sel.getMap().size, 0);
    });
  });

  t('register: already registered (by fd or by another object with the same fileno) is KeyError', () => {
    withSel(name, (sel, r) => {
      const key = sel.register(r, EVENT_READ, 'first');
      throwsClass(() => sel.register(r, EVENT_WRITE), KeyError, 'same fd');
      throwsClass(() => sel.register(new FileLike(r), EVENT_READ), KeyError, 'same fileno');
      assert.is(sel.getKey(r), key);
      assert.is(sel.getMap().size, 1);
    });
  });

  t('register: the OS refusing the fd raises OSError and nothing stays registered', () => {
    withSel(name, (sel, r) => {
      if (name === 'EpollSelector') {
        const file = openSync(new URL(import.meta.url), 'r');
        try {
          const err = throwsClass(() => sel.register(file, EVENT_READ), OSError, 'regular file') as OSError;
          assert.is(err.code, 'EPERM');
          assert.is(err.syscall, 'epoll_ctl');
          assert.ok(err.errno < 0);
          assert.ok(err.message.endsWith(` (fd ${file})`), err.message);
          assert.is(sel.getMap().size, 0);
          throwsClass(() => sel.getKey(file), KeyError, 'getKey after refused register');
        } finally {
          closeSync(file);
        }
        // A closed fd number: EBADF.
        const [a, b] = pipe();
        closeFd(a);
        closeFd(b);
        const err = throwsClass(() => sel.register(a, EVENT_READ), OSError, 'closed fd') as OSError;
        assert.is(err.code, 'EBADF');
        assert.is(sel.getMap().size, 0);
      } else if (name === 'SelectSelector') {
        const err = throwsClass(() => sel.register(native.FD_SETSIZE, EVENT_READ), ValueError, 'fd >= FD_SETSIZE') as Error;
        assert.is(err.message, `fd ${native.FD_SETSIZE} is out of range for select() (FD_SETSIZE is ${native.FD_SETSIZE})`);
        assert.is(sel.getMap().size, 0);
      }
      // Afterwards the selector still works.
      sel.register(r, EVENT_READ);
      assert.equal(sel.select(0), []);
    });
  });

  // ---- unregister ----
  t('unregister returns the old key; a second unregister is KeyError', () => {
    withSel(name, (sel, r, w) => {
      const key = sel.register(r, EVENT_READ, 'd');
      const obj = new FileLike(w);
      const key2 = sel.register(obj, EVENT_WRITE);
      assert.is(sel.unregister(r), key);
      assert.is(sel.unregister(w), key2);
      throwsClass(() => sel.unregister(r), KeyError, 'again');
      throwsClass(() => sel.unregister(obj), KeyError, 'obj again');
      assert.is(sel.getMap().size, 0);
      // nothing reported for unregistered fds
      write(w, 'x');
      assert.equal(sel.select(0), []);
    });
  });

  t('unregister of something never registered is KeyError', () => {
    withSel(name, (sel, r) => {
      throwsClass(() => sel.unregister(r), KeyError, 'fd');
      throwsClass(() => sel.unregister(new FileLike(r)), KeyError, 'object');
    });
  });

  t('unregister works after the fd was closed, and the fd number can be registered again (cpython#83420)', () => {
    withSel(name, (sel, r, w) => {
      const key = sel.register(r, EVENT_READ, 'old');
      closeFd(r);
      assert.is(sel.unregister(r), key);
      assert.is(sel.getMap().size, 0);
      // The same fd number, reused.
      const [r2, w2] = pipe();
      try {
        assert.is(r2, r);
        const k2 = sel.register(r2, EVENT_READ, 'new');
        write(w2, 'y');
        assert.equal(sel.select(0).map(([k, ev]) => [k.data, ev]), [['new', EVENT_READ]]);
        assert.is(sel.unregister(r2), k2);
      } finally {
        closeFd(r2);
        closeFd(w2);
      }
      void w;
    });
  });

  t('unregister by an object whose fileno() fails after close uses the registered fd', () => {
    withSel(name, (sel, r) => {
      let fd = r;
      const obj = { fileno: () => (fd < 0 ? -1 : fd) };
      const key = sel.register(obj, EVENT_READ);
      closeFd(r);
      fd = -1;
      assert.is(sel.getKey(obj), key);
      assert.is(sel.unregister(obj), key);
      assert.is(sel.getMap().size, 0);
    });
  });

  // ---- modify ----
  t('modify returns a new key and changes what select reports', () => {
    withSel(name, (sel, r, w) => {
      const k1 = sel.register(w, EVENT_READ, 'a');
      assert.equal(sel.select(0), []);
      const k2 = sel.modify(w, EVENT_WRITE, 'b');
      assert.is.not(k2, k1);
      assert.equal({ ...k2 }, { fileobj: w, fd: w, events: EVENT_WRITE, data: 'b' });
      assert.ok(Object.isFrozen(k2));
      assert.is(sel.getKey(w), k2);
      assert.equal(k1.events, EVENT_READ); // the old key is untouched
      const ready = sel.select(0);
      assert.equal(ready.length, 1);
      assert.is(ready[0]![0], k2);
      assert.is(ready[0]![1], EVENT_WRITE);
      void r;
    });
  });

  t('modify of an unregistered file object is KeyError; bad masks ValueError', () => {
    withSel(name, (sel, r) => {
      throwsClass(() => sel.modify(r, EVENT_READ), KeyError, 'unregistered');
      sel.register(r, EVENT_READ, 'keep');
      for (const bad of [0, 4, -1, 2.5, NaN]) throwsClass(() => sel.modify(r, bad), ValueError, `mask ${bad}`);
      assert.equal({ ...sel.getKey(r) }, { fileobj: r, fd: r, events: EVENT_READ, data: 'keep' });
    });
  });

  t('modify changing data only keeps the registration working (even after the fd was closed)', () => {
    withSel(name, (sel, r, w) => {
      sel.register(r, EVENT_READ, 'one');
      const k = sel.modify(r, EVENT_READ, 'two');
      assert.is(k.data, 'two');
      assert.is(k.events, EVENT_READ);
      write(w, 'z');
      const ready = sel.select(0);
      assert.equal(ready.map(([key, ev]) => [key.data, ev]), [['two', EVENT_READ]]);
      assert.is(ready[0]![0], k);
      // data-only change makes no system call, so it succeeds on a closed fd
      const [a, b] = pipe();
      closeFd(b);
      sel.register(a, EVENT_READ, 'x');
      closeFd(a);
      assert.is(sel.modify(a, EVENT_READ, 'y').data, 'y');
      sel.unregister(a);
    });
  });

  // ---- select ----
  t('select with timeout > 0 waits and returns [] on timeout', () => {
    withSel(name, (sel, r) => {
      sel.register(r, EVENT_READ);
      for (const timeout of [30, 0.5, 1.5]) {
        const start = performance.now();
        assert.equal(sel.select(timeout), []);
        const elapsed = performance.now() - start;
        assert.ok(elapsed >= timeout - 1, `${timeout} ms timeout returned after ${elapsed} ms`);
      }
    });
  });

  t('select with an empty registration and timeout > 0 still waits', () => {
    withSel(name, (sel) => {
      const start = performance.now();
      assert.equal(sel.select(20), []);
      assert.ok(performance.now() - start >= 19);
    });
  });

  t('select with timeout <= 0 does not block', () => {
    withSel(name, (sel, r) => {
      sel.register(r, EVENT_READ);
      for (const timeout of [0, -1, -1000, -Infinity]) assert.equal(sel.select(timeout), []);
    });
  });

  t('select with null/omitted timeout blocks until an fd is ready', () => {
    withSel(name, (sel, r, w) => {
      const key = sel.register(r, EVENT_READ);
      write(w, 'ready');
      for (const ready of [sel.select(), sel.select(null), sel.select(undefined), sel.select(Infinity)]) {
        assert.equal(ready.length, 1);
        assert.is(ready[0]![0], key);
        assert.is(ready[0]![1], EVENT_READ);
      }
    });
  });

  t('select returns a readable fd after data arrives, nothing after it is drained', () => {
    withSel(name, (sel, r, w) => {
      sel.register(r, EVENT_READ, 'r');
      assert.equal(sel.select(0), []);
      write(w, 'abc');
      assert.equal(summary(sel.select(0)), [[r, EVENT_READ]]);
      assert.is(read(r, 10).toString(), 'abc');
      assert.equal(sel.select(0), []);
    });
  });

  t('select masks events by key.events', () => {
    const [a, b] = socketpair();
    const sel = new classes[name]!<string>();
    try {
      // a is writable; with data pending it is readable too.
      write(b, 'x');
      const ka = sel.register(a, EVENT_READ, 'a');
      assert.equal(sel.select(0).map(([k, ev]) => [k.data, ev]), [['a', EVENT_READ]]);
      sel.modify(a, EVENT_WRITE, 'a');
      assert.equal(sel.select(0).map(([k, ev]) => [k.data, ev]), [['a', EVENT_WRITE]]);
      void ka;
    } finally {
      sel.close();
      closeFd(a);
      closeFd(b);
    }
  });

  t('select reports one entry per fd when both directions are ready', () => {
    const [a, b] = socketpair();
    const sel = new classes[name]!<string>();
    try {
      write(b, 'x');
      const key = sel.register(a, EVENT_READ | EVENT_WRITE, 'both');
      sel.register(b, EVENT_READ | EVENT_WRITE, 'other');
      const ready = sel.select(0).sort((x, y) => x[0].fd - y[0].fd);
      assert.equal(summary(ready), [[a, EVENT_READ | EVENT_WRITE], [b, EVENT_WRITE]].sort((x, y) => x[0]! - y[0]!));
      assert.is(ready.find(([k]) => k.fd === a)![0], key);
    } finally {
      sel.close();
      closeFd(a);
      closeFd(b);
    }
  });

  t('a hung-up peer reports READ for a reader key (and EOF reads empty)', () => {
    withSel(name, (sel, r, w) => {
      const key = sel.register(r, EVENT_READ, 'reader');
      closeFd(w);
      const ready = sel.select(0);
      assert.equal(ready.length, 1);
      assert.is(ready[0]![0], key);
      assert.is(ready[0]![1], EVENT_READ);
      assert.is(read(r, 10).length, 0);
    });
  });

  t('a writer whose reader is gone reports WRITE', () => {
    withSel(name, (sel, r, w) => {
      sel.register(w, EVENT_WRITE, 'writer');
      closeFd(r);
      assert.equal(summary(sel.select(0)), [[w, EVENT_WRITE]]);
    });
  });

  t('select reports several ready fds, each with its own key', () => {
    withSel(name, (sel, r, w) => {
      const [r2, w2] = pipe();
      try {
        const kr = sel.register(r, EVENT_READ, 'r');
        const kr2 = sel.register(r2, EVENT_READ, 'r2');
        const kw = sel.register(w, EVENT_WRITE, 'w');
        write(w, '1');
        write(w2, '2');
        const ready = sel.select(0).sort((x, y) => x[0].fd - y[0].fd);
        const expected = [[kr, EVENT_READ], [kw, EVENT_WRITE], [kr2, EVENT_READ]].sort((x, y) => (x[0] as { fd: number }).fd - (y[0] as { fd: number }).fd);
        assert.is(ready.length, 3);
        ready.forEach(([k, ev], i) => {
          assert.is(k, expected[i]![0]);
          assert.is(ev, expected[i]![1]);
        });
      } finally {
        closeFd(r2);
        closeFd(w2);
      }
    });
  });

  t('select timeout: string is TypeError, NaN is ValueError', () => {
    withSel(name, (sel) => {
      throwsClass(() => sel.select('10' as unknown as number), TypeError, 'string');
      throwsClass(() => sel.select(NaN), ValueError, 'NaN');
    });
  });

  t('interest kept across calls: each register/modify/unregister changes exactly what select() reports', () => {
    // PollSelector and SelectSelector keep their pollfd array / fd_set bitmaps between calls and
    // apply only the changes; this walks the cases that could leave a stale entry behind:
    // removing the highest fd (select()'s nfds shrinks), removing from the middle (poll's array is
    // compacted), re-registering, and changing direction in place.
    withSel(name, (sel) => {
      const pipes = [pipe(), pipe(), pipe()];
      try {
        for (const [pr, pw] of pipes) write(pw, 'x'); // every read end readable, every write end writable
        const [[r0, w0], [r1, w1], [r2, w2]] = pipes as Array<[number, number]>;
        const sorted = (xs: Array<[number, number]>) => xs.sort((a, b) => a[0] - b[0]);
        sel.register(r0, EVENT_READ);
        sel.register(r1, EVENT_READ);
        sel.register(r2, EVENT_READ);
        sel.register(w2, EVENT_WRITE);
        assert.equal(sorted(summary(sel.select(0)) as Array<[number, number]>), sorted([[r0, 1], [r1, 1], [r2, 1], [w2, 2]]));
        sel.unregister(w2); // the highest fd
        sel.unregister(r1); // one in the middle
        assert.equal(sorted(summary(sel.select(0)) as Array<[number, number]>), sorted([[r0, 1], [r2, 1]]));
        sel.modify(r0, EVENT_WRITE); // a pipe's read end is never writable
        sel.register(w1, EVENT_READ | EVENT_WRITE); // a write end: writable only
        assert.equal(sorted(summary(sel.select(0)) as Array<[number, number]>), sorted([[r2, 1], [w1, 2]]));
        sel.register(r1, EVENT_READ);
        sel.modify(r0, EVENT_READ | EVENT_WRITE);
        assert.equal(sorted(summary(sel.select(0)) as Array<[number, number]>), sorted([[r0, 1], [r1, 1], [r2, 1], [w1, 2]]));
        for (const fd of [r0, r1, r2, w1]) sel.unregister(fd);
        assert.equal(sel.select(0), []);
        sel.register(w0, EVENT_WRITE);
        assert.equal(summary(sel.select(0)), [[w0, 2]]);
      } finally {
        for (const [pr, pw] of pipes) { closeFd(pr); closeFd(pw); }
      }
    });
  });

  // ---- getKey / getMap ----
  t('getKey returns the key; KeyError when missing', () => {
    withSel(name, (sel, r, w) => {
      throwsClass(() => sel.getKey(r), KeyError, 'missing');
      const obj = new FileLike(r);
      const key = sel.register(obj, EVENT_READ, 7);
      assert.is(sel.getKey(obj), key);
      assert.is(sel.getKey(r), key);
      assert.is(sel.getKey(new FileLike(r)), key);
      throwsClass(() => sel.getKey(w), KeyError, 'other fd');
      sel.unregister(obj);
      throwsClass(() => sel.getKey(obj), KeyError, 'after unregister');
    });
  });

  t('getMap is a live read-only view with size, get/has by object or fd, and [fileobj, key] iteration', () => {
    withSel(name, (sel, r, w) => {
      const map = sel.getMap();
      assert.is(map.size, 0);
      assert.equal([...map], []);
      const obj = new FileLike(w);
      const kr = sel.register(r, EVENT_READ, 'r');
      const kw = sel.register(obj, EVENT_WRITE, 'w');
      assert.is(map.size, 2);
      assert.is(map.get(r), kr);
      assert.is(map.get(obj), kw);
      assert.is(map.get(w), kw);
      assert.ok(map.has(r));
      assert.ok(map.has(w));
      assert.ok(map.has(obj));
      assert.not.ok(map.has(9999));
      assert.is(map.get(9999), undefined);
      assert.equal([...map], [[r, kr], [obj, kw]]);
      assert.equal([...map.keys()], [r, obj]);
      assert.equal([...map.values()], [kr, kw]);
      assert.equal([...map.entries()], [[r, kr], [obj, kw]]);
      const seen: unknown[] = [];
      map.forEach((v, k) => seen.push([k, v]));
      assert.equal(seen, [[r, kr], [obj, kw]]);
      const kr2 = sel.modify(r, EVENT_READ | EVENT_WRITE, 'r2');
      assert.is(map.get(r), kr2);
      sel.unregister(obj);
      assert.is(map.size, 1);
      assert.not.ok(map.has(obj));
      assert.is(map.get(obj), undefined);
      assert.equal([...map], [[r, kr2]]);
      assert.is(sel.getMap(), map);
      assert.is(Object.prototype.toString.call(map), '[object SelectorMapping]');
      // read-only: no mutators
      assert.is((map as unknown as { set?: unknown }).set, undefined);
      assert.is((map as unknown as { delete?: unknown }).delete, undefined);
    });
  });

  t('getMap get/has of invalid file objects return undefined/false rather than throwing', () => {
    withSel(name, (sel, r) => {
      sel.register(r, EVENT_READ);
      const map = sel.getMap();
      for (const bad of [-1, 1.5, NaN, 'x', {}, { fileno: () => -1 }]) {
        assert.is(map.get(bad as number), undefined);
        assert.is(map.has(bad as number), false);
      }
    });
  });

  // ---- close ----
  t('close is idempotent and every other method then throws ERR_SELECTOR_CLOSED', () => {
    withSel(name, (sel, r) => {
      const map = sel.getMap();
      sel.register(r, EVENT_READ);
      sel.close();
      sel.close();
      assert.ok(sel.closed);
      assert.is(map.size, 0);
      throwsCode(() => sel.register(r, EVENT_READ), 'ERR_SELECTOR_CLOSED', 'register');
      throwsCode(() => sel.unregister(r), 'ERR_SELECTOR_CLOSED', 'unregister');
      throwsCode(() => sel.modify(r, EVENT_READ), 'ERR_SELECTOR_CLOSED', 'modify');
      throwsCode(() => sel.select(0), 'ERR_SELECTOR_CLOSED', 'select');
      throwsCode(() => sel.select(), 'ERR_SELECTOR_CLOSED', 'select()');
      throwsCode(() => sel.getKey(r), 'ERR_SELECTOR_CLOSED', 'getKey');
      throwsCode(() => sel.getMap(), 'ERR_SELECTOR_CLOSED', 'getMap');
      const withFileno = sel as unknown as { fileno?: () => number };
      if (typeof withFileno.fileno === 'function') throwsCode(() => withFileno.fileno!(), 'ERR_SELECTOR_CLOSED', 'fileno');
      // Errors are plain Errors with the code, not ValueError/KeyError.
      try {
        sel.register(r, EVENT_READ);
      } catch (err) {
        assert.instance(err, Error);
        assert.not.instance(err, ValueError);
        assert.not.instance(err, KeyError);
      }
    });
  });

  t('close releases the backend fd', () => {
    const sel = new classes[name]!();
    const fd = (sel as unknown as { fileno?: () => number }).fileno?.();
    sel.close();
    if (fd !== undefined) {
      // The backend fd is closed: fcntl on it fails with EBADF.
      assert.is(native.getBlocking(fd), -9);
    }
  });

  t('using / [Symbol.dispose] closes the selector', () => {
    let escaped: BaseSelector<unknown> | undefined;
    {
      using sel = new classes[name]!();
      escaped = sel;
      assert.not.ok(sel.closed);
    }
    assert.ok(escaped.closed);
    throwsCode(() => escaped!.select(0), 'ERR_SELECTOR_CLOSED', 'after using');
    const other = new classes[name]!();
    other[Symbol.dispose]();
    assert.ok(other.closed);
    other[Symbol.dispose]();
  });

  t('errors name the bad mask and the file object already registered (shown one level deep)', () => {
    withSel(name, (sel, r) => {
      const bad = throwsClass(() => sel.register(r, 4), ValueError, 'mask 4') as Error;
      assert.is(bad.message, 'Invalid events: 4 (must be EVENT_READ, EVENT_WRITE or both)');
      const badString = throwsClass(() => sel.modify(r, '1' as unknown as number), ValueError, "mask '1'") as Error;
      assert.is(badString.message, "Invalid events: '1' (must be EVENT_READ, EVENT_WRITE or both)");
      sel.register(r, EVENT_READ);
      const obj = { fileno: () => r, nested: { a: { b: 1 } } };
      const dup = throwsClass(() => sel.register(obj, EVENT_READ), KeyError, 'same fileno') as Error;
      assert.is(dup.message, `{ fileno: [Function: fileno], nested: [Object] } (fd ${r}) is already registered`);
      const other = { fileno: () => r + 1000, nested: { a: { b: 1 } } };
      const missing = throwsClass(() => sel.getKey(other), KeyError, 'not registered') as Error;
      assert.is(missing.message, '{ fileno: [Function: fileno], nested: [Object] } is not registered');
    });
  });

  t('readyKeys and readyEvents start empty; a select fills them; close empties readyKeys', () => {
    withSel(name, (sel, _r, w) => {
      assert.equal([sel.readyKeys.length, sel.readyEvents.length], [0, 0]);
      const key = sel.register(w, EVENT_WRITE);
      assert.is(sel.selectReady(0), 1);
      assert.is(sel.readyKeys[0], key);
      assert.is(sel.readyEvents[0], EVENT_WRITE);
      sel.close();
      assert.is(sel.readyKeys.length, 0);
    });
  });

  t('selectReadyPreRead with nothing marked reports what selectReady does and reads nothing', () => {
    withSel(name, (sel, r, w) => {
      const kr = sel.register(r, EVENT_READ);
      sel.register(w, EVENT_WRITE);
      write(w, 'x');
      const size = 64;
      const pre = {
        marks: new Uint8Array(size),
        offsets: new Int32Array(size),
        results: new Int32Array(size).fill(native.NOT_READ),
        slab: new Uint8Array(1024),
        cursor: Int32Array.of(0, 0, 1024),
        minRoom: 16,
      };
      assert.is(sel.selectReadyPreRead(0, pre), 2);
      assert.equal(new Set(sel.readyKeys.slice(0, 2).map((k) => k!.fd)), new Set([r, w]));
      assert.equal([...pre.cursor], [0, 0, 1024]);
      assert.ok(pre.results.every((x) => x === native.NOT_READ));
      sel.unregister(w);
      assert.is(sel.selectReadyPreRead(0, pre), 1);
      assert.is(sel.readyKeys[0], kr);
    });
  });

  t('onClose listeners run once, in order, before the backend fd closes; removed or late ones never', () => {
    withSel(name, (sel) => {
      const backend = sel.backendFd();
      const calls: string[] = [];
      sel.onClose(() => calls.push(`a open=${backend < 0 || native.getBlocking(backend) >= 0}`));
      const removeB = sel.onClose(() => calls.push('b'));
      sel.onClose(() => calls.push('c'));
      assert.is(removeB(), true);
      sel.close();
      assert.equal(calls, ['a open=true', 'c']);
      removeB(); // after close: harmless
      sel.onClose(() => calls.push('late'));
      sel.close();
      assert.equal(calls, ['a open=true', 'c']);
    });
  });
}

// ---- the shared bookkeeping, under a backend that reports what it likes ----
test('BaseSelector: reported events are masked by the key, and an entry left with none is dropped', () => {
  class ScriptedSelector extends selectors.BaseSelector<string> {
    script: Array<[number, number]> = [];
    override selectReady(): number {
      let n = 0;
      for (const [fd, events] of this.script) n = this.pushReady(n, this.fdToKey.get(fd)!, events);
      return n;
    }
    protected backendAdd(): void {}
    protected backendRemove(): void {}
    protected backendModify(): void {}
  }
  using sel = new ScriptedSelector();
  const k3 = sel.register(3, EVENT_READ, 'three');
  const k4 = sel.register(4, EVENT_WRITE, 'four');
  const k5 = sel.register(5, EVENT_READ | EVENT_WRITE, 'five');
  sel.script = [[3, EVENT_WRITE], [4, EVENT_READ | EVENT_WRITE], [3, EVENT_READ | EVENT_WRITE], [5, EVENT_WRITE]];
  assert.equal(sel.select(0), [[k4, EVENT_WRITE], [k3, EVENT_READ], [k5, EVENT_WRITE]]);
});

// ---- backend-specific ----
if (selectorNames.includes('EpollSelector')) {
  test('EpollSelector.modify of a registration whose fd was closed: OSError from epoll_ctl naming the fd, key kept', () => {
    withSel('EpollSelector', (sel, r) => {
      const key = sel.register(r, EVENT_READ, 'data');
      closeFd(r); // the kernel drops the registration with the fd
      const err = throwsClass(() => sel.modify(r, EVENT_WRITE), OSError, 'modify after close') as OSError;
      assert.is(err.code, 'EBADF');
      assert.is(err.syscall, 'epoll_ctl');
      assert.ok(err.message.startsWith('epoll_ctl EBADF'), err.message);
      assert.ok(err.message.endsWith(` (fd ${r})`), err.message);
      assert.is(sel.getKey(r), key);
      assert.is(sel.modify(r, EVENT_READ, 'new data').data, 'new data'); // same events: no system call
      assert.is(sel.unregister(r).data, 'new data');
    });
  });

  test('EpollSelector.fileno() is an open epoll fd, distinct per selector', () => {
    const a = new selectors.EpollSelector();
    const b = new selectors.EpollSelector();
    try {
      const fa = a.fileno();
      const fb = b.fileno();
      assert.ok(Number.isInteger(fa) && fa >= 0);
      assert.is.not(fa, fb);
      assert.is(a.fileno(), fa);
      assert.is(a.backendFd(), fa);
      assert.is(native.getCloexec(fa), 1);
    } finally {
      a.close();
      b.close();
    }
  });
}

test('SelectSelector keeps nfds at one above the highest registered fd and clears the bits of unregistered ones', () => {
  const sel = new selectors.SelectSelector();
  const internals = sel as unknown as { nfds: number; readBits: Int32Array; writeBits: Int32Array };
  const fds = [...pipe(), ...pipe(), ...pipe()].sort((a, b) => a - b);
  try {
    const [f0, f1, f2, f3, , f5] = fds as [number, number, number, number, number, number];
    sel.register(f1, EVENT_READ);
    sel.register(f3, EVENT_WRITE);
    sel.register(f5, EVENT_READ | EVENT_WRITE);
    sel.register(f0, EVENT_READ);
    assert.is(internals.nfds, f5 + 1);
    sel.unregister(f3); // not the highest: nfds stays
    assert.is(internals.nfds, f5 + 1);
    sel.unregister(f5); // the highest: down past the unregistered f4 and f3 to f1
    assert.is(internals.nfds, f1 + 1);
    sel.register(f2, EVENT_WRITE);
    assert.is(internals.nfds, f2 + 1);
    sel.unregister(f2);
    sel.unregister(f1);
    assert.is(internals.nfds, f0 + 1);
    sel.unregister(f0);
    assert.is(internals.nfds, 0);
    assert.ok(internals.readBits.every((w) => w === 0) && internals.writeBits.every((w) => w === 0), 'every bit cleared');
  } finally {
    sel.close();
    for (const fd of fds) closeFd(fd);
  }
});

test('SelectSelector.select with a registered fd closed: OSError EBADF from select', () => {
  withSel('SelectSelector', (sel, r) => {
    sel.register(r, EVENT_READ);
    closeFd(r);
    const err = throwsClass(() => sel.select(0), OSError, 'select over a closed fd') as OSError;
    assert.is(err.code, 'EBADF');
    assert.is(err.syscall, 'select');
    sel.unregister(r);
    assert.equal(sel.select(0), []);
  });
});

test('selectors without fileno(): PollSelector and SelectSelector have none, and backendFd() -1', () => {
  using p = new selectors.PollSelector();
  using s = new selectors.SelectSelector();
  assert.is((p as unknown as { fileno?: unknown }).fileno, undefined);
  assert.is((s as unknown as { fileno?: unknown }).fileno, undefined);
  assert.is(p.backendFd(), -1);
  assert.is(s.backendFd(), -1);
});

test('KqueueSelector and DevpollSelector construction throws ERR_UNSUPPORTED_PLATFORM where missing', () => {
  if (!native.backends.kqueue) throwsCode(() => new selectors.KqueueSelector(), 'ERR_UNSUPPORTED_PLATFORM', 'kqueue');
  if (!native.backends.devpoll) throwsCode(() => new selectors.DevpollSelector(), 'ERR_UNSUPPORTED_PLATFORM', 'devpoll');
  if (process.platform === 'linux') {
    assert.equal(selectorNames, ['EpollSelector', 'PollSelector', 'SelectSelector']);
    assert.is(selectors.DefaultSelector, selectors.EpollSelector as unknown);
  }
});

test.run();
