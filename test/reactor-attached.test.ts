// The Reactor driven by Node's own loop (attach): coexistence with node:http, fetch, setTimeout
// and fs promises; keeping the process alive and unref(); signals in attached mode.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Reactor } from '../src/loop/index.js';
import { pipe, write, read, closeFd } from '../src/select/fds.js';
import { openFdCount, settledFdCount, withTimeout } from './helpers/index.js';

const loopUrl = new URL('../src/loop/index.js', import.meta.url).href;

/** Runs an ES module snippet in a child node; resolves with its exit code/signal and output. */
function runChild(code: string, ms = 20_000): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  let child: ReturnType<typeof spawn> | undefined;
  return withTimeout(
    new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve, reject) => {
      child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d) => (stdout += d));
      child.stderr!.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (c, s) => resolve({ code: c, signal: s, stdout, stderr }));
    }),
    ms,
    'child process',
  ).catch((err) => {
    child?.kill('SIGKILL'); // our own child, by its handle
    throw err;
  });
}

const a = suite<{ fds: number }>('reactor-attached');

a.before((ctx) => {
  ctx.fds = openFdCount();
});


a('attach/detach state; run methods throw while attached', () => {
  const reactor = new Reactor();
  assert.is(reactor.isAttached(), false);
  reactor.attach();
  reactor.attach(); // idempotent
  assert.ok(reactor.isAttached());
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as { code?: string }).code;
    }
    return 'no throw';
  };
  assert.is(code(() => reactor.runForever()), 'ERR_REACTOR_RUNNING');
  assert.is(code(() => reactor.runOnce(0)), 'ERR_REACTOR_RUNNING');
  reactor.detach();
  assert.is(reactor.isAttached(), false);
  reactor.runOnce(0);
  reactor.attach();
  reactor.close(); // detaches
  assert.is(reactor.isAttached(), false);
});

a('attached: callSoon, timers (never early) and readers run from Node\'s loop', async () => {
  const reactor = new Reactor();
  reactor.attach();
  const early: string[] = [];
  const order: string[] = [];
  await withTimeout(
    new Promise<void>((resolve) => {
      let fired = 0;
      const N = 50;
      // Done when every timer fired and soon3 ran: on a loaded machine all the timers can fall
      // due in the first iteration, before the one that runs soon3.
      const doneIfAll = () => {
        if (fired === N && order.length === 3) resolve();
      };
      for (let i = 0; i < N; i++) {
        const h = reactor.callLater([0.3, 1.7, 0.05, 2.25][i % 4]! + i * 0.13, () => {
          if (reactor.time() < h.when) early.push(`timer ${i}: ${reactor.time()} < ${h.when}`);
          fired++;
          doneIfAll();
        });
      }
      reactor.callSoon(() => order.push('soon1'));
      reactor.callSoon(() => {
        order.push('soon2');
        reactor.callSoon(() => {
          order.push('soon3');
          doneIfAll();
        });
      });
    }),
    10_000,
    'attached timers',
  );
  assert.equal(early, []);
  assert.equal(order, ['soon1', 'soon2', 'soon3']);
  reactor.close();
});

a('attached alongside node:http, fetch/await in a callback, setTimeout and fs promises', async () => {
  const server: Server = createServer((req, res) => {
    res.setHeader('connection', 'close');
    res.end(`hello ${req.url}`);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  const reactor = new Reactor();
  reactor.attach();
  const [rd, wr] = pipe();
  const events: string[] = [];
  let ticks = 0;
  const tick = () => {
    ticks++;
    if (ticks < 20) reactor.callLater(2, tick);
  };
  reactor.callLater(2, tick);
  let readerCalls = 0;
  reactor.addReader(rd, () => {
    readerCalls++;
    read(rd, 100);
  });
  const nodeTimer = setInterval(() => write(wr, 'n'), 3);
  try {
    const result = await withTimeout(
      new Promise<string>((resolve, reject) => {
        reactor.callSoon(async () => {
          try {
            events.push('callback start');
            const resp = await fetch(`http://127.0.0.1:${port}/reactor`);
            const body = await resp.text();
            events.push('fetched');
            const self = await readFile(fileURLToPath(import.meta.url), 'utf8');
            events.push(`read ${self.length > 0}`);
            await new Promise((r) => setTimeout(r, 10));
            events.push('slept');
            // Back into the reactor from an async continuation.
            reactor.callSoon(() => resolve(body));
          } catch (err) {
            reject(err);
          }
        });
      }),
      15_000,
      'http + fetch in an attached reactor',
    );
    assert.is(result, 'hello /reactor');
    assert.equal(events, ['callback start', 'fetched', 'read true', 'slept']);
    await withTimeout(
      new Promise<void>((res) => {
        const check = () => (ticks >= 20 && readerCalls > 0 ? res() : setTimeout(check, 5));
        check();
      }),
      10_000,
      'reactor timers and reader',
    );
    assert.ok(ticks >= 20);
    assert.ok(readerCalls > 0);
  } finally {
    clearInterval(nodeTimer);
    reactor.close();
    closeFd(rd);
    closeFd(wr);
    server.closeAllConnections();
    await new Promise((res) => server.close(res));
  }
});

a('a throwing callback in attached mode goes to the exception handler; the loop continues', async () => {
  const reactor = new Reactor();
  reactor.attach();
  const seen: string[] = [];
  reactor.setExceptionHandler((_r, ctx) => seen.push(String((ctx.exception as Error).message)));
  await withTimeout(
    new Promise<void>((resolve) => {
      reactor.callSoon(() => {
        throw new Error('attached boom');
      });
      reactor.callLater(1, () => {
        seen.push('later');
        resolve();
      });
    }),
    10_000,
  );
  assert.equal(seen, ['attached boom', 'later']);
  reactor.close();
});

a('signals in attached mode: process.kill(process.pid, SIGUSR2)', async () => {
  const reactor = new Reactor();
  reactor.attach();
  const got: unknown[] = [];
  await withTimeout(
    new Promise<void>((resolve) => {
      reactor.addSignalHandler('SIGUSR2', (x: number) => {
        got.push(x);
        resolve();
      }, 7);
      process.kill(process.pid, 'SIGUSR2');
    }),
    10_000,
    'SIGUSR2 in attached mode',
  );
  assert.equal(got, [7]);
  // A replacement handler gets the next one.
  await withTimeout(
    new Promise<void>((resolve) => {
      reactor.addSignalHandler('SIGUSR2', () => {
        got.push('second');
        resolve();
      });
      process.kill(process.pid, 'SIGUSR2');
    }),
    10_000,
  );
  assert.equal(got, [7, 'second']);
  assert.ok(reactor.removeSignalHandler('SIGUSR2'));
  reactor.close();
});

a('removeSignalHandler restores the default disposition (child dies of SIGUSR2)', async () => {
  const res = await runChild(`
    import { Reactor } from ${JSON.stringify(loopUrl)};
    const r = new Reactor();
    r.addSignalHandler('SIGUSR2', () => console.log('handled'));
    if (r.removeSignalHandler('SIGUSR2') !== true) console.log('remove returned false');
    if (r.removeSignalHandler('SIGUSR2') !== false) console.log('second remove returned true');
    process.kill(process.pid, 'SIGUSR2');
    setTimeout(() => console.log('survived'), 500);
  `);
  assert.is(res.signal, 'SIGUSR2', `code ${res.code} stdout ${res.stdout} stderr ${res.stderr}`);
  assert.is(res.stdout, '');
});

a('close() restores signal dispositions too', async () => {
  const res = await runChild(`
    import { Reactor } from ${JSON.stringify(loopUrl)};
    const r = new Reactor();
    r.addSignalHandler('SIGUSR2', () => console.log('handled'));
    r.close();
    process.kill(process.pid, 'SIGUSR2');
    setTimeout(() => console.log('survived'), 500);
  `);
  assert.is(res.signal, 'SIGUSR2', `code ${res.code} stdout ${res.stdout} stderr ${res.stderr}`);
});

a('an attached reactor with a pending timer keeps the process alive, then lets it exit', async () => {
  const res = await runChild(`
    import { Reactor } from ${JSON.stringify(loopUrl)};
    const r = new Reactor();
    r.attach();
    const t0 = r.time();
    r.callLater(100, () => console.log('fired after', Math.round(r.time() - t0)));
  `);
  assert.is(res.code, 0, res.stderr);
  const m = /fired after (\d+)/.exec(res.stdout);
  assert.ok(m, `stdout: ${res.stdout} stderr: ${res.stderr}`);
  assert.ok(Number(m![1]) >= 100);
});

a('an attached reactor with a reader keeps the process alive until it is removed', async () => {
  const res = await runChild(`
    import { Reactor } from ${JSON.stringify(loopUrl)};
    import { pipe, write, read } from ${JSON.stringify(new URL('../src/select/fds.js', import.meta.url).href)};
    const r = new Reactor();
    r.attach();
    const [rd, wr] = pipe();
    r.addReader(rd, () => { console.log('read', read(rd, 10).toString()); r.removeReader(rd); });
    // Nothing in Node keeps the process alive except the reactor: the timer that writes is unref'd.
    setTimeout(() => write(wr, 'x'), 100).unref();
  `);
  assert.is(res.code, 0, res.stderr);
  assert.match(res.stdout, /read x/);
});

a('reactor.unref() lets the process exit with a timer still pending; ref() keeps it', async () => {
  const res = await runChild(`
    import { Reactor } from ${JSON.stringify(loopUrl)};
    const r = new Reactor();
    r.attach();
    r.callLater(60000, () => console.log('fired'));
    r.unref();
    process.on('exit', () => console.log('exiting'));
  `);
  assert.is(res.code, 0, res.stderr);
  assert.is(res.stdout.trim(), 'exiting');
  const res2 = await runChild(`
    import { Reactor } from ${JSON.stringify(loopUrl)};
    const r = new Reactor();
    r.attach();
    r.unref();
    r.ref();
    const t0 = r.time();
    r.callLater(50, () => console.log('fired', r.time() - t0 >= 50));
  `);
  assert.is(res2.code, 0, res2.stderr);
  assert.is(res2.stdout.trim(), 'fired true');
});

a('detach() lets the process exit; a detached reactor keeps its timers', async () => {
  const res = await runChild(`
    import { Reactor } from ${JSON.stringify(loopUrl)};
    const r = new Reactor();
    r.attach();
    r.callLater(60000, () => console.log('fired'));
    r.detach();
    console.log('timeout', r.backendTimeout() > 0);
  `);
  assert.is(res.code, 0, res.stderr);
  assert.is(res.stdout.trim(), 'timeout true');
});

a('no fd leaked by the tests above', async (ctx) => {
  // Child-process stdio pipes close asynchronously; give them a moment (lower bound only).
  assert.is(await settledFdCount(ctx.fds), ctx.fds, 'fd leak');
});

a.run();
