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

/**
 * The fd count once asynchronous closes have finished (a child's stdio, libuv handles closing in
 * the next loop turn): waits up to 2 s for it to fall to `expected`, then returns it, so a real
 * leak still fails while a close that is merely late does not.
 */
export async function settledFdCount(expected: number): Promise<number> {
  for (let i = 0; i < 100 && openFdCount() > expected; i++) await new Promise((r) => setTimeout(r, 20));
  return openFdCount();
}

/**
 * libuv opens one signal pipe pair per loop at its first signal watcher and keeps it for good; a
 * suite whose tests start the first one (a reactor's signal handler, a child process's SIGCHLD)
 * would count it as a leak. Call before taking the baseline fd count.
 */
export function openLibuvSignalPipe(): void {
  const noop = (): void => {};
  process.on('SIGWINCH', noop);
  process.off('SIGWINCH', noop);
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
