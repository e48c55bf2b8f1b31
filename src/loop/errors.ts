import { closedError } from '../select/errors.js';

export function reactorClosed(): Error {
  return closedError('reactor');
}

/** Calling a run method while the reactor runs (from a callback, or attached). */
export function alreadyRunning(what: string): Error {
  const err = new Error(`${what}: this reactor is already running`) as Error & { code: string };
  err.code = 'ERR_REACTOR_RUNNING';
  return err;
}

export function checkCallback(cb: unknown, name = 'callback'): void {
  if (typeof cb !== 'function') throw new TypeError(`${name} must be a function, not ${cb === null ? 'null' : typeof cb}`);
}
