// AbortSignal plumbing shared by every promise API: validate the option, listen once, and always
// hand back a disposer for `finally` (a signal reused across many operations must not collect
// listeners: nodejs/node#47449, sindresorhus/p-retry#71).
import * as events from 'node:events';

export interface AbortOptions {
  signal?: AbortSignal;
}

/** The signal in `options`, checked: undefined when none was given. */
export function signalOf(options: AbortOptions | undefined): AbortSignal | undefined {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object') throw new TypeError(`options must be an object, not ${typeof options}`);
  const signal = options.signal;
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) throw new TypeError('options.signal must be an AbortSignal');
  return signal;
}

type AddAbortListener = (signal: AbortSignal, listener: (event: Event) => void) => Disposable;
const addAbortListener = (events as unknown as { addAbortListener?: AddAbortListener }).addAbortListener;

/**
 * Calls onAbort once when signal aborts; the returned function stops listening (idempotent).
 * Uses events.addAbortListener where Node has it: it still fires after another listener called
 * stopImmediatePropagation() (nodejs/node#48596).
 */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  if (addAbortListener !== undefined) {
    const disposable = addAbortListener(signal, listener);
    return () => disposable[Symbol.dispose]();
  }
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/** The rejection for an operation whose signal had already aborted. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
