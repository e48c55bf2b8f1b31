// Signal handlers that coexist (issue #13, point 2): several reactors on one signal each get it and
// closing one leaves the others working; Node's own listeners (libuv) and child_process (SIGCHLD)
// keep working while reactors handle the same signal and after they stop; a disposition found
// before us (SIGPIPE ignored) comes back. Each scenario runs in a child process: the failure
// mode is a signal killing the process, or children that never report 'exit'.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { platform } from 'node:os';
import { Worker } from 'node:worker_threads';
import { addonPath, describeChild, distModule, runChild } from './helpers/child.js';
import { withTimeout } from './helpers/index.js';

const test = suite('signals-coexist');

const prelude = `
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { Reactor } from ${JSON.stringify(distModule('src/loop/index.js'))};
import { native } from ${JSON.stringify(distModule('src/select/native.js'))};
const got = [];
const tick = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));
// raise() delivers synchronously to this thread: the wake bytes are in the pipes on return.
const raise = (name) => native.raise(constants.signals[name]);
`;

const withSignals = (body: string) => `${prelude}\n${body}\nconsole.log(JSON.stringify(got));`;

async function run(body: string): Promise<string[]> {
  const r = await runChild(withSignals(body));
  assert.is(r.signal, null, describeChild(r));
  assert.is(r.code, 0, describeChild(r));
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('two reactors handling one signal both get it; after one closes the other still does', async () => {
  const got = await run(`
const a = new Reactor();
const b = new Reactor();
a.addSignalHandler('SIGUSR2', () => got.push('a'));
b.addSignalHandler('SIGUSR2', () => got.push('b'));
raise('SIGUSR2');
a.runOnce(0); b.runOnce(0);
a.close();
raise('SIGUSR2');
b.runOnce(0);
b.removeSignalHandler('SIGUSR2');
b.close();`);
  assert.equal(got, ['a', 'b', 'b']);
});

test('a reactor and process.on() share a signal, in either order; removing ours leaves Node\'s', async () => {
  const got = await run(`
const r = new Reactor();
r.addSignalHandler('SIGUSR2', () => got.push('reactor'));
const onNode = () => got.push('node');
process.on('SIGUSR2', onNode);            // libuv installs after us
raise('SIGUSR2');
r.runOnce(0);
await tick();
assert(r.removeSignalHandler('SIGUSR2'));
raise('SIGUSR2');                         // must reach Node, not SIG_DFL
await tick();
r.addSignalHandler('SIGUSR2', () => got.push('reactor again'));  // now libuv was first
raise('SIGUSR2');
r.runOnce(0);
await tick();
r.close();
process.off('SIGUSR2', onNode);
function assert(x) { if (!x) throw new Error('assertion'); }`);
  assert.equal(got, ['reactor', 'node', 'node', 'reactor again', 'node']);
});

test('child_process keeps reporting exit while a reactor handles SIGCHLD and after it closes', async () => {
  if (platform() === 'win32') return;
  const got = await run(`
const exitOf = (cmd) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(cmd + ': no exit event (zombie)')), 5000);
  spawn(cmd, [], { stdio: 'ignore' }).on('exit', (code) => { clearTimeout(timer); resolve(code); });
});
const r = new Reactor();
r.addSignalHandler('SIGCHLD', () => got.push('reactor'));
got.push('exit ' + await exitOf('true'));   // libuv's SIGCHLD handling starts after ours
r.runOnce(0);
r.close();
got.push('exit ' + await exitOf('true'));   // after the reactor let go
const r2 = new Reactor();
r2.addSignalHandler('SIGCHLD', () => got.push('reactor2'));   // now libuv's was first
got.push('exit ' + await exitOf('false'));
r2.runOnce(0);
r2.close();
got.push('exit ' + await exitOf('true'));`);
  assert.equal(got, ['exit 0', 'reactor', 'exit 0', 'exit 1', 'reactor2', 'exit 0']);
});

test('a signal Node ignores (SIGPIPE) is ignored again after a reactor handled it', async () => {
  const got = await run(`
const r = new Reactor();
r.addSignalHandler('SIGPIPE', () => got.push('reactor'));
raise('SIGPIPE');
r.runOnce(0);
r.close();
raise('SIGPIPE');   // SIG_DFL would kill the process
got.push('alive');`);
  assert.equal(got, ['reactor', 'alive']);
});

test('signalInstall validates the wake-up fd: INT_MAX is a RangeError, a closed fd EBADF', async () => {
  const got = await run(`
try { native.signalInstall(constants.signals.SIGUSR2, 2147483647); got.push('no error'); } catch (e) { got.push(e.constructor.name); }
got.push(String(native.signalInstall(constants.signals.SIGUSR2, 1000000 - 1)));
got.push(String(-constants.errno.EBADF));`);
  assert.is(got[0], 'RangeError');
  assert.is(got[1], got[2]);
});

test('signalInstall from a worker_thread throws instead of touching process-wide state', async () => {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const native = require(workerData.addon);
     const p = new Int32Array(2); native.pipe(p, true);
     let outcome = 'installed';
     try { native.signalInstall(require('node:os').constants.signals.SIGUSR2, p[1]); } catch (e) { outcome = e.message; }
     native.close(p[0]); native.close(p[1]);
     parentPort.postMessage(outcome);`,
    { eval: true, workerData: { addon: addonPath } },
  );
  try {
    const outcome = await withTimeout(new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    }), 10_000, 'worker');
    assert.match(String(outcome), /main thread/);
  } finally {
    await worker.terminate();
  }
});

test.run();
