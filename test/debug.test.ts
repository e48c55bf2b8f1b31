// Debug mode: the switch (option, setDebug, SELECTLOOP_DEBUG), slow-callback reports, reports of
// transports and Sockets collected without close(), and reactor.stats().
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Reactor, Socket, type Transport } from '../src/index.js';
import { pipe, write, closeFd } from '../src/select/fds.js';
import { openFdCount, selectorNames, withTimeout } from './helpers/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects garbage until `done()` or 50 rounds; FinalizationRegistry callbacks run between them. */
async function collectUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !done(); i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('debug is off by default, on with { debug: true }, switched by setDebug, and off after close()', () => {
  const saved = process.env.SELECTLOOP_DEBUG;
  delete process.env.SELECTLOOP_DEBUG;
  try {
    const plain = new Reactor();
    assert.is(plain.getDebug(), false);
    plain.setDebug(true);
    assert.is(plain.getDebug(), true);
    plain.setDebug(false);
    assert.is(plain.getDebug(), false);
    assert.throws(() => plain.setDebug(1 as unknown as boolean), (e: Error) => e instanceof TypeError);
    plain.close();

    const debug = new Reactor({ debug: true });
    assert.is(debug.getDebug(), true);
    debug.close();
    assert.is(debug.getDebug(), false);
    debug.setDebug(true); // a closed reactor stays out of debug mode
    assert.is(debug.getDebug(), false);
    assert.is(new Reactor().slowCallbackDuration, 100);
  } finally {
    if (saved !== undefined) process.env.SELECTLOOP_DEBUG = saved;
  }
});

test('SELECTLOOP_DEBUG=1 turns debug mode on for new reactors; 0 and empty do not; the option wins', () => {
  const saved = process.env.SELECTLOOP_DEBUG;
  try {
    for (const [value, expected] of [['1', true], ['yes', true], ['0', false], ['', false]] as const) {
      process.env.SELECTLOOP_DEBUG = value;
      const reactor = new Reactor();
      assert.is(reactor.getDebug(), expected, `SELECTLOOP_DEBUG=${JSON.stringify(value)}`);
      reactor.close();
    }
    process.env.SELECTLOOP_DEBUG = '1';
    const off = new Reactor({ debug: false });
    assert.is(off.getDebug(), false);
    off.close();
  } finally {
    if (saved === undefined) delete process.env.SELECTLOOP_DEBUG;
    else process.env.SELECTLOOP_DEBUG = saved;
  }
});

test('a callback at least slowCallbackDuration long is reported with its name and duration', () => {
  const reactor = new Reactor({ debug: true });
  const reports: Array<{ message: string; name: string; durationMs: number }> = [];
  reactor.on('slowCallback', (info) => reports.push(info));
  // Duration 0: every callback is "slow", so no test depends on how long anything takes.
  reactor.slowCallbackDuration = 0;
  reactor.callSoon(function parseRequest() {});
  reactor.callLater(0, function onDeadline() {});
  const cancelled = reactor.callSoon(function neverRuns() {});
  cancelled.cancel();
  reactor.runOnce(0);
  reactor.runOnce(0);
  assert.equal(reports.map((r) => r.name).sort(), ['onDeadline', 'parseRequest']);
  for (const r of reports) {
    assert.ok(r.durationMs >= 0);
    assert.match(r.message, new RegExp(`^Executing <(Timer)?Handle ${r.name}> took \\d+\\.\\d{3} seconds$`));
  }
  // Above any possible duration: nothing is reported; and nothing with debug off.
  reports.length = 0;
  reactor.slowCallbackDuration = Infinity;
  reactor.callSoon(function quick() {});
  reactor.runOnce(0);
  reactor.setDebug(false);
  reactor.slowCallbackDuration = 0;
  reactor.callSoon(function notTimed() {});
  reactor.runOnce(0);
  assert.equal(reports, []);
  reactor.close();
});

test('without a slowCallback listener the report goes to stderr', () => {
  const reactor = new Reactor({ debug: true });
  reactor.slowCallbackDuration = 0;
  const written: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    reactor.callSoon(function renderPage() {});
    reactor.runOnce(0);
  } finally {
    process.stderr.write = original;
  }
  assert.is(written.length, 1);
  assert.match(written[0]!, /^selectloop: Executing <Handle renderPage> took \d+\.\d{3} seconds\n$/);
  reactor.close();
});

test('stats(): exact counts of iterations, callbacks, fd events and timers; idle/busy only in debug mode', () => {
  const reactor = new Reactor();
  const [r, w] = pipe();
  try {
    assert.equal(reactor.stats(), { iterations: 0, callbacksRun: 0, fdEvents: 0, timersFired: 0, idleMs: 0, busyMs: 0 });
    write(w, Buffer.from('x'));
    reactor.addReader(r, () => {});
    reactor.callSoon(() => {});
    reactor.callSoon(() => {}).cancel();
    reactor.callAt(-1, () => {});
    reactor.callAt(-1, () => {}).cancel();
    reactor.runOnce(0); // reader + callSoon + timer
    reactor.removeReader(r);
    reactor.runOnce(0); // nothing
    let s = reactor.stats();
    assert.equal(s, { iterations: 2, callbacksRun: 3, fdEvents: 1, timersFired: 1, idleMs: 0, busyMs: 0 });
    reactor.setDebug(true);
    reactor.addReader(r, () => {});
    reactor.callAt(-1, () => {});
    reactor.runOnce(0);
    s = reactor.stats();
    assert.is(s.iterations, 3);
    assert.is(s.callbacksRun, 5);
    assert.is(s.fdEvents, 2);
    assert.is(s.timersFired, 2);
    assert.ok(Number.isFinite(s.idleMs) && s.idleMs >= 0);
    assert.ok(Number.isFinite(s.busyMs) && s.busyMs >= 0);
    // A snapshot, not a live view.
    reactor.runOnce(0);
    assert.is(s.iterations, 3);
  } finally {
    reactor.close();
    closeFd(r);
    closeFd(w);
  }
});

test('debug mode: a reactor dropped without close() and its unclosed transport are ResourceWarnings; a closed one is not', async () => {
  const fdsBefore = openFdCount();
  const warnings: string[] = [];
  const onWarning = (w: Error) => {
    if (w.name === 'ResourceWarning') warnings.push(w.message);
  };
  process.on('warning', onWarning);
  const [r1, w1] = pipe();
  const [r2, w2] = pipe();
  let backendFd = -1;
  try {
    (() => {
      // The reactor holds its live transports (it closes them in close()), so they can only be
      // collected with it: both dropped here without close().
      const reactor = new Reactor({ debug: true });
      backendFd = reactor.backendFd() ?? -1;
      const pausing = () => ({ connectionMade: (t: Transport) => t.pauseReading() });
      reactor.connectReadPipe(pausing, r1);
      const closed = reactor.connectReadPipe(pausing, r2)[0];
      reactor.runOnce(0);
      closed.close();
      reactor.runOnce(0);
      reactor.runOnce(0);
    })();
    await withTimeout(collectUntil(() => warnings.length >= 2), 10_000, 'finalization');
    await new Promise((resolve) => setTimeout(resolve, 20)); // warnings are emitted on the next tick
    assert.equal(warnings.sort(), [`unclosed <Reactor ${selectorNames[0]}>`, `unclosed <Transport read-pipe fd=${r1}>`]);
  } finally {
    process.off('warning', onWarning);
    // What the dropped reactor and transport leaked: closed here, since nobody else can.
    closeFd(r1);
    if (backendFd >= 0) closeFd(backendFd);
    closeFd(w1);
    closeFd(w2);
  }
  assert.is(openFdCount(), fdsBefore);
});

test('debug mode: a Socket collected without close() is a ResourceWarning; closed or detached ones are not', async () => {
  const reactor = new Reactor({ debug: true }); // any reactor in debug mode enables Socket tracking
  const warnings: string[] = [];
  const onWarning = (w: Error) => {
    if (w.name === 'ResourceWarning') warnings.push(w.message);
  };
  process.on('warning', onWarning);
  let leakedFd = -1;
  let detachedFd = -1;
  try {
    (() => {
      const leaked = new Socket();
      leakedFd = leaked.fileno();
      new Socket().close();
      detachedFd = new Socket().detach();
    })();
    await withTimeout(collectUntil(() => warnings.length > 0), 10_000, 'finalization');
    // Warnings are emitted on the next tick: give them one more turn.
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(warnings, [`unclosed <Socket fd=${leakedFd} family=2 type=1>`]);
  } finally {
    process.off('warning', onWarning);
    reactor.close();
    if (leakedFd >= 0) closeFd(leakedFd);
    if (detachedFd >= 0) closeFd(detachedFd);
  }
});

test('debug off: Sockets and transports are not tracked (no report when collected unclosed)', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => {
    if (w.name === 'ResourceWarning') warnings.push(w.message);
  };
  process.on('warning', onWarning);
  let fd = -1;
  try {
    (() => {
      fd = new Socket().fileno();
    })();
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(warnings, []);
  } finally {
    process.off('warning', onWarning);
    if (fd >= 0) closeFd(fd);
  }
});

test.run();
