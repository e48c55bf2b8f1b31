// Helpers shared by the tests: bounded waits and fd accounting.
import { readdirSync } from 'node:fs';
import { availableSelectors } from '../../src/selectors/index.js';

/** Number of fds this process has open (Linux /proc; -1 elsewhere). */
export function openFdCount(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

/** Selector class names usable on this machine. */
export const selectorNames = availableSelectors();

/** Multiplies the time limits of tests that start child processes (4 under `npm run test:sanitize`). */
export const timeScale = Math.max(1, Number(process.env.SELECTLOOP_TEST_TIME_SCALE) || 1);

/** Rejects after ms, so no test can hang. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms * timeScale} ms`)), ms * timeScale);
    }),
  ]);
}
