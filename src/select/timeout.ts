// Timeouts in milliseconds, validated once at the public API and passed to native code as a
// number: -1 blocks, 0 polls, > 0 waits (native code rounds up to its kernel's resolution).
import { ValueError } from './errors.js';

/** The selectors rule: null/undefined block, <= 0 polls, > 0 waits at most that long. */
export function selectorTimeout(timeout: unknown): number {
  if (timeout === null || timeout === undefined) return -1;
  if (typeof timeout !== 'number') throw new TypeError(`timeout must be a number, null or undefined, not ${typeof timeout}`);
  if (Number.isNaN(timeout)) throw new ValueError('timeout must not be NaN');
  if (timeout === Infinity) return -1;
  return timeout <= 0 ? 0 : timeout;
}

/** The poll/epoll rule (Python's select.poll/epoll): null/undefined or negative block. */
export function pollTimeout(timeout: unknown): number {
  if (timeout === null || timeout === undefined) return -1;
  if (typeof timeout !== 'number') throw new TypeError(`timeout must be a number, null or undefined, not ${typeof timeout}`);
  if (Number.isNaN(timeout)) throw new ValueError('timeout must not be NaN');
  if (timeout < 0 || timeout === Infinity) return -1;
  return timeout;
}
