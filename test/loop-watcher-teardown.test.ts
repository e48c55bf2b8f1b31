// The LoopWatcher (attached Reactor) when its environment goes away (issue #13, point 2):
// - a worker_thread that exits or is terminated while only it had loaded the addon must not take
//   the process down (the uv_close callbacks are addon code: it must stay loaded until they ran);
// - process.exit() or worker.terminate() inside an attached reactor's callback must end the
//   thread as asked, without "FATAL ERROR" (no Napi::Error may be built on a terminating isolate).
// Each scenario runs in a child process, because the failure mode kills the process.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { addonPath as addon, distModule, runChild, type ChildResult } from './helpers/child.js';

const test = suite('loop-watcher-teardown');

const loopModule = distModule('src/loop/index.js');

/**
 * A child whose main thread never loads the addon: it starts one worker running `workerBody`
 * (CommonJS, with `Reactor`, `native` and `parentPort` in scope), terminates it when the worker
 * posts 'terminate-me', and prints "worker exit <code>".
 */
function workerScenario(workerBody: string): string {
  const workerSource = `
const { parentPort } = require('node:worker_threads');
const native = require(${JSON.stringify(addon)});
import(${JSON.stringify(loopModule)}).then(({ Reactor }) => {
${workerBody}
});`;
  return `
import { Worker } from 'node:worker_threads';
const worker = new Worker(${JSON.stringify(workerSource)}, { eval: true, execArgv: [] });
worker.on('message', (m) => { if (m === 'terminate-me') worker.terminate(); });
worker.on('error', (e) => { console.log('worker error ' + e.message); });
worker.on('exit', (code) => console.log('worker exit ' + code));
`;
}

function assertClean(r: ChildResult, what: string, expectedCode = 0): void {
  const detail = `${what}: code ${r.code} signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  assert.is(r.signal, null, detail);
  assert.is(r.code, expectedCode, detail);
  assert.not.match(r.stderr, /FATAL ERROR|Segmentation|Aborted|Assertion/, detail);
}

const workerCases: Array<[string, string, number]> = [
  ['exits with an attached, unref()ed reactor', `
    const r = new Reactor(); r.attach(); r.callLater(1e6, () => {}); r.unref();`, 0],
  ['exits with a LoopWatcher never started (timer only)', `
    new native.LoopWatcher(-1, () => {});`, 0],
  ['exits with a LoopWatcher never started on an fd', `
    const p = new Int32Array(2); native.pipe(p, true);
    new native.LoopWatcher(p[0], () => {});`, 0],
  ['exits right after detach() (closes still pending in libuv)', `
    const r = new Reactor(); r.attach(); r.detach(); r.attach(); r.detach();`, 0],
  ['is terminated with an attached reactor that has work', `
    const r = new Reactor(); r.attach(); r.callLater(1e6, () => {});
    r.callSoon(() => parentPort.postMessage('terminate-me'));`, 1],
  ['is terminated while blocked inside an attached reactor callback', `
    const r = new Reactor(); r.attach();
    r.callLater(1, () => { parentPort.postMessage('terminate-me'); for (;;) {} });`, 1],
  ['calls process.exit(5) inside an attached reactor callback', `
    const r = new Reactor(); r.attach(); r.callLater(1, () => process.exit(5));`, 5],
  ['calls process.exit(6) inside an fd callback of an attached reactor', `
    const r = new Reactor(); r.attach();
    const p = new Int32Array(2); native.pipe(p, true);
    r.addReader(p[0], () => process.exit(6));
    native.write(p[1], Buffer.from('x'), 0, 1);`, 6],
];

for (const [what, body, workerCode] of workerCases) {
  test(`a worker that alone loaded the addon ${what}: the process survives`, async () => {
    // Several rounds: the crash depended on when libuv ran the close callbacks.
    const rounds = await Promise.all([0, 1].map(() => runChild(workerScenario(body))));
    for (const r of rounds) {
      assertClean(r, what);
      assert.is(r.stdout.trim(), `worker exit ${workerCode}`, r.stderr);
    }
  });
}

test('process.exit(7) inside an attached reactor callback on the main thread exits with 7', async () => {
  const r = await runChild(`
import { Reactor } from ${JSON.stringify(loopModule)};
const reactor = new Reactor(); reactor.attach(); reactor.callLater(1, () => process.exit(7));`);
  assertClean(r, 'main-thread process.exit', 7);
});

test.run();
