// Closing the selector of an attached Reactor (issue #13, point 2): libuv was left polling the
// closed epoll fd and aborted; closed from a callback, every later wake threw. Now the reactor
// detaches before the fd closes and reports it once. Child processes: the failure mode aborts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { describeChild, distModule, runChild } from './helpers/child.js';
import { Reactor } from '../src/loop/index.js';
import { DefaultSelector } from '../src/selectors/index.js';
import type { FdHandles } from '../src/loop/reactor.js';

const test = suite('selector-close-attached');

const prelude = `
import { Reactor } from ${JSON.stringify(distModule('src/loop/index.js'))};
import { DefaultSelector } from ${JSON.stringify(distModule('src/selectors/index.js'))};
const selector = new DefaultSelector();
const reactor = new Reactor({ selector });
const reports = [];
reactor.setExceptionHandler((_r, ctx) => reports.push(ctx.message));
reactor.attach();
const done = () => {
  console.log(JSON.stringify({ attached: reactor.isAttached(), reports }));
  reactor.close();
};
`;

function parse(stdout: string): { attached: boolean; reports: string[] } {
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

test('selector.close() outside any callback: the reactor detaches, Node keeps running', async () => {
  const r = await runChild(`${prelude}
reactor.callLater(30, () => console.log('timer ran on a closed selector'));
selector.close();
setTimeout(done, 80);`);
  assert.is(r.code, 0, describeChild(r));
  assert.is(r.signal, null, describeChild(r));
  const out = parse(r.stdout);
  assert.is(out.attached, false);
  assert.is(out.reports.length, 1, describeChild(r));
  assert.match(out.reports[0]!, /selector of an attached reactor was closed/);
  assert.not.match(r.stdout, /timer ran/);
});

test('selector.close() from a reactor callback: reported once, later wakes do not throw', async () => {
  const r = await runChild(`${prelude}
reactor.callLater(1, () => selector.close());
// Work scheduled after the close must neither throw nor run.
setTimeout(() => { try { reactor.callSoon(() => console.log('ran')); reactor.callLater(1, () => {}); } catch (e) { console.log('threw ' + e.code); } }, 20);
setTimeout(done, 80);`);
  assert.is(r.code, 0, describeChild(r));
  const out = parse(r.stdout);
  assert.is(out.attached, false);
  assert.equal(out.reports.length, 1, describeChild(r));
  assert.not.match(r.stdout, /ran|threw/);
  assert.not.match(r.stderr, /ERR_SELECTOR_CLOSED|Error/);
});

test('reactor.close() of an attached reactor closes its selector without a report', () => {
  const selector = new DefaultSelector<FdHandles>();
  const reactor = new Reactor({ selector });
  const reports: string[] = [];
  reactor.setExceptionHandler((_r, ctx) => reports.push(ctx.message));
  reactor.attach();
  reactor.close();
  assert.ok(selector.closed);
  assert.equal(reports, []);
});

test('a detached reactor is not told about its selector closing', () => {
  const selector = new DefaultSelector<FdHandles>();
  const reactor = new Reactor({ selector });
  const reports: string[] = [];
  reactor.setExceptionHandler((_r, ctx) => reports.push(ctx.message));
  reactor.attach();
  reactor.detach();
  selector.close();
  assert.equal(reports, []);
  reactor.close();
});

test.run();
