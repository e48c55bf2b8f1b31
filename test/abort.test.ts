// AbortSignal plumbing shared by the promise APIs (src/transports/abort.ts): option checks with
// exact messages, one call per abort, disposers that really stop listening.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { signalOf, onAbort, abortReason } from '../src/transports/abort.js';

test('signalOf: no options or no signal is undefined; anything else but an AbortSignal is named', () => {
  const ac = new AbortController();
  assert.is(signalOf(undefined), undefined);
  assert.is(signalOf(null as never), undefined);
  assert.is(signalOf({}), undefined);
  assert.is(signalOf({ signal: undefined }), undefined);
  assert.is(signalOf({ signal: ac.signal }), ac.signal);
  const typeError = (options: unknown): string => {
    try {
      signalOf(options as never);
    } catch (err) {
      assert.is((err as Error).constructor, TypeError);
      return (err as Error).message;
    }
    throw new Error('signalOf did not throw');
  };
  assert.is(typeError('x'), 'options must be an object, not string');
  assert.is(typeError(5), 'options must be an object, not number');
  assert.is(typeError({ signal: null }), 'options.signal must be an AbortSignal');
  assert.is(typeError({ signal: {} }), 'options.signal must be an AbortSignal');
});

test('onAbort: the listener runs once on abort; after the disposer, not at all', () => {
  const calls: string[] = [];
  const ac = new AbortController();
  const stop = onAbort(ac.signal, () => calls.push('a'));
  const ac2 = new AbortController();
  const stop2 = onAbort(ac2.signal, () => calls.push('b'));
  stop2();
  stop2(); // idempotent
  ac.abort();
  ac2.abort();
  ac.signal.dispatchEvent(new Event('abort'));
  stop();
  assert.equal(calls, ['a']);
  // Still called when an earlier listener stops propagation (nodejs/node#48596).
  const ac3 = new AbortController();
  ac3.signal.addEventListener('abort', (e) => e.stopImmediatePropagation());
  onAbort(ac3.signal, () => calls.push('c'));
  ac3.abort();
  assert.equal(calls, ['a', 'c']);
});

test('abortReason: the signal reason, given or the default AbortError', () => {
  const ac = new AbortController();
  const reason = new Error('stop');
  ac.abort(reason);
  assert.is(abortReason(ac.signal), reason);
  const plain = new AbortController();
  plain.abort();
  const err = abortReason(plain.signal) as DOMException;
  assert.is(err.name, 'AbortError');
  assert.is(err.message, 'This operation was aborted');
  const never = new AbortController();
  const fallback = abortReason(never.signal) as DOMException;
  assert.is(fallback.name, 'AbortError');
  assert.is(fallback.message, 'This operation was aborted');
});

test.run();
