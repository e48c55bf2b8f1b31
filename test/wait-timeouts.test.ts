// Wait timeouts, from the mutation pass (issue: hardening): a positive sub-millisecond timeout is
// neither rounded down to a poll nor spun on, and a wait interrupted again and again by signals
// ends on its original deadline instead of restarting the whole timeout at each EINTR. No test
// here bounds how long anything takes from above; each observes counts (iterations, signals).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { native } from '../src/select/native.js';
import { pollTimeout, selectorTimeout } from '../src/select/timeout.js';
import { Reactor } from '../src/loop/index.js';
import * as selectors from '../src/selectors/index.js';
import type { BaseSelector } from '../src/selectors/index.js';
import { selectorNames, withTimeout } from './helpers/index.js';

const SIGUSR2 = osConstants.signals.SIGUSR2;
const PC = native.pollConstants;

function makePipe(): [number, number] {
  const out = new Int32Array(2);
  assert.is(native.pipe(out, true), 0);
  return [out[0]!, out[1]!];
}

test('selectorTimeout / pollTimeout pass a positive sub-millisecond timeout through unchanged', () => {
  for (const t of [Number.MIN_VALUE, 1e-6, 0.3, 0.999, 1.5]) {
    assert.is(selectorTimeout(t), t);
    assert.is(pollTimeout(t), t);
  }
  assert.is(selectorTimeout(0), 0);
  assert.is(selectorTimeout(-0.5), 0);
  assert.is(pollTimeout(-0.5), -1);
});

// From the Stryker run over timeout.ts: every rule and message, checked exactly.
test('selectorTimeout: null, undefined and Infinity block (-1); 0, -0 and negatives poll (+0); messages name the problem', () => {
  for (const t of [null, undefined, Infinity]) assert.is(selectorTimeout(t), -1, String(t));
  for (const t of [0, -0, -1, -Infinity]) assert.ok(Object.is(selectorTimeout(t), 0), String(t));
  assert.throws(() => selectorTimeout('5'), (e: Error) => e instanceof TypeError && e.message === 'timeout must be a number, null or undefined, not string');
  assert.throws(() => selectorTimeout(NaN), (e: Error) => e.name === 'ValueError' && e.message === 'timeout must not be NaN');
});

test('pollTimeout: null, undefined, negatives and Infinity block (-1); 0 polls; messages name the problem', () => {
  for (const t of [null, undefined, Infinity, -1, -0.5, -Infinity]) assert.is(pollTimeout(t), -1, String(t));
  assert.is(pollTimeout(0), 0);
  assert.throws(() => pollTimeout({}), (e: Error) => e instanceof TypeError && e.message === 'timeout must be a number, null or undefined, not object');
  assert.throws(() => pollTimeout(NaN), (e: Error) => e.name === 'ValueError' && e.message === 'timeout must not be NaN');
});

test('a 0.3 ms wait on an idle fd blocks (at least 0.3 ms), it is not rounded down to a poll', () => {
  const [r, w] = makePipe();
  try {
    const set = new Int32Array([r, PC.POLLIN!]);
    // A lower bound only: a loaded machine makes waits longer, never shorter.
    const waits: Array<[string, () => number]> = [['pollWait', () => native.pollWait(set as never, 1, new Int32Array(2), 0.3)]];
    waits.push(['selectWait', () => native.selectWait(new Int32Array([r]), 1, 0, 0, 0.3)]);
    const ep = native.epollCreate ? native.epollCreate() : -1;
    try {
      if (ep >= 0) {
        assert.is(native.epollCtl!(ep, native.epollConstants!.EPOLL_CTL_ADD!, r, native.epollConstants!.EPOLLIN!), 0);
        waits.push(['epollWait', () => native.epollWait!(ep, new Int32Array(24), 8, 0.3)]);
      }
      for (const [name, wait] of waits) {
        const start = performance.now();
        assert.is(wait(), 0, name);
        assert.ok(performance.now() - start >= 0.3, `${name} returned before 0.3 ms`);
      }
    } finally {
      if (ep >= 0) native.close(ep);
    }
  } finally {
    native.close(r);
    native.close(w);
  }
});

for (const name of selectorNames) {
  test(`Reactor on ${name}: a timer 0.5 ms away takes one or two iterations, not a spin`, () => {
    const Selector = (selectors as unknown as Record<string, new () => BaseSelector<never>>)[name]!;
    const reactor = new Reactor({ selector: new Selector() });
    try {
      let fired = false;
      reactor.callLater(0.5, () => {
        fired = true;
        reactor.stop();
      });
      reactor.runForever();
      assert.ok(fired);
      // A timeout rounded down to 0 polls again and again until the deadline (dozens of
      // iterations); rounded up, the first wait covers it. (Two if a wait wakes a little early.)
      assert.ok(reactor.stats().iterations <= 2, `${reactor.stats().iterations} iterations for one 0.5 ms timer`);
    } finally {
      reactor.close();
    }
  });
}

/**
 * `wait(idleFd)` is interrupted by SIGUSR2 every 20 ms for a few seconds. Retried with the time
 * that remains it returns after its 300 ms, having seen a handful of signals; a retry that
 * restarts the whole timeout runs until the signals stop. Counted: the signals that arrived (one
 * byte each in the wake-up pipe), not the time.
 */
async function signalsDuringWait(wait: (idleFd: number) => number): Promise<number> {
  const [wakeR, wakeW] = makePipe();
  const [idleR, idleW] = makePipe();
  let installed = false;
  try {
    assert.is(native.signalInstall(SIGUSR2, wakeW), 0);
    installed = true;
    const child = spawn('sh', ['-c', `i=0; while [ $i -lt 150 ]; do kill -USR2 ${process.pid} || exit 1; sleep 0.02; i=$((i+1)); done`], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve, reject) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', reject);
    });
    const drain = () => {
      const buf = Buffer.alloc(4096);
      let total = 0;
      for (let n = native.read(wakeR, buf, 0, buf.length); n > 0; n = native.read(wakeR, buf, 0, buf.length)) total += n;
      return total;
    };
    // Start waiting only once the signals are coming (the child may be slow to start).
    const deadline = performance.now() + 20_000;
    while (drain() === 0 && performance.now() < deadline) native.pollWait(new Int32Array([wakeR, PC.POLLIN!]) as never, 1, new Int32Array(2), 50);
    drain();
    assert.is(wait(idleR), 0);
    const during = drain();
    // Signals stay handled (not Node's default for SIGUSR2: exit) until the child is done.
    assert.is(await withTimeout(exited, 60_000, 'signal child'), 0);
    return during;
  } finally {
    if (installed) native.signalRestore(SIGUSR2, wakeW);
    for (const fd of [wakeR, wakeW, idleR, idleW]) native.close(fd);
  }
}

test('pollWait: repeated EINTR does not restart the timeout (the wait ends before the signals do)', async () => {
  const during = await signalsDuringWait((fd) => native.pollWait(new Int32Array([fd, PC.POLLIN!]) as never, 1, new Int32Array(2), 300));
  // ~300 ms / 20 ms = 15 signals at most; restarting at each EINTR would see all ~150.
  assert.ok(during < 75, `${during} signals arrived during one 300 ms wait`);
});

test('epollWait: repeated EINTR does not restart the timeout (the wait ends before the signals do)', async () => {
  if (!native.epollCreate) return;
  const ep = native.epollCreate();
  try {
    const during = await signalsDuringWait((fd) => {
      assert.is(native.epollCtl!(ep, native.epollConstants!.EPOLL_CTL_ADD!, fd, native.epollConstants!.EPOLLIN!), 0);
      return native.epollWait!(ep, new Int32Array(24), 8, 300);
    });
    assert.ok(during < 75, `${during} signals arrived during one 300 ms wait`);
  } finally {
    native.close(ep);
  }
});

test.run();
