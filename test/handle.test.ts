// Handle / TimerHandle unit tests against a recording owner: what run() calls, what cancel()
// reports, and the names and inspect() forms used in error reports.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inspect } from 'node:util';
import { Handle, TimerHandle } from '../src/loop/index.js';
import { NO_ARGS, type HandleOwner } from '../src/loop/handle.js';

function recordingOwner(): HandleOwner & { events: unknown[][] } {
  const events: unknown[][] = [];
  return {
    events,
    runHandleFailed: (handle, exception) => events.push(['failed', handle, exception]),
    timerCancelled: (handle) => events.push(['timerCancelled', handle]),
  };
}

test('run() calls the callback with its arguments, each time, and nothing once cancelled', () => {
  const owner = recordingOwner();
  const calls: unknown[][] = [];
  const withArgs = new Handle((...a: unknown[]) => calls.push(['args', ...a]), [1, 'two'], owner);
  const noArgs = new Handle((...a: unknown[]) => calls.push(['none', ...a]), [], owner);
  withArgs.run();
  noArgs.run();
  withArgs.run();
  withArgs.cancel();
  withArgs.run();
  assert.equal(calls, [['args', 1, 'two'], ['none'], ['args', 1, 'two']]);
  assert.is(withArgs.cancelled, true);
  assert.is(noArgs.cancelled, false);
  assert.equal(owner.events, [], 'a plain handle does not report its cancellation');
  // Memory: a handle without arguments holds just its function (no wrapper with an args array).
  assert.is(typeof (noArgs as unknown as { call: unknown }).call, 'function');
  // The transports' reader handles share NO_ARGS: it must stay the empty array.
  assert.equal(NO_ARGS, []);
  assert.is(typeof (new Handle(() => {}, NO_ARGS, owner) as unknown as { call: unknown }).call, 'function');
});

test('an exception from the callback goes to the owner with the handle', () => {
  const owner = recordingOwner();
  const boom = new Error('boom');
  const h = new Handle(() => {
    throw boom;
  }, [], owner);
  h.run();
  const boomWithArgs = new Handle((x: unknown) => {
    throw x;
  }, [boom], owner);
  boomWithArgs.run();
  assert.equal(owner.events, [['failed', h, boom], ['failed', boomWithArgs, boom]]);
});

test('TimerHandle.cancel() tells the owner once, however often it is called', () => {
  const owner = recordingOwner();
  const t = new TimerHandle(12.5, () => {}, [], owner);
  assert.is(t.when, 12.5);
  t.cancel();
  t.cancel();
  assert.equal(owner.events, [['timerCancelled', t]]);
  assert.is(t.cancelled, true);
});

test('callbackName and inspect(): the function name, <anonymous>, or cancelled', () => {
  const owner = recordingOwner();
  function named(): void {}
  const h = new Handle(named, [], owner);
  const t = new TimerHandle(1, named, [1], owner);
  const anon = new Handle(
    (() => () => {})(),
    [],
    owner,
  );
  assert.is(h.callbackName, 'named');
  assert.is(t.callbackName, 'named');
  assert.is(anon.callbackName, '<anonymous>');
  assert.is(inspect(h), '<Handle named>');
  assert.is(inspect(t), '<TimerHandle named>');
  assert.is(inspect(anon), '<Handle <anonymous>>');
  h.cancel();
  t.cancel();
  assert.is(inspect(h), '<Handle cancelled>');
  assert.is(inspect(t), '<TimerHandle cancelled>');
  assert.is(h.callbackName, '<anonymous>');
});

test.run();
