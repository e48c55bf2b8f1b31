// Driving a Reactor from tests: always bounded in time.
import type { Reactor } from '../../src/loop/index.js';
import { timeScale } from './index.js';

/** Runs the reactor until stop() or limitMs; returns true if the limit was hit. */
export function runBounded(reactor: Reactor, limitMs = 10_000): boolean {
  let hit = false;
  const t = reactor.callLater(limitMs * timeScale, () => {
    hit = true;
    reactor.stop();
  });
  reactor.runForever();
  t.cancel();
  return hit;
}

/** Lets pending callbacks (connectionLost, closes) run for ms. */
/** The fds a reactor watches (its own, keyless, and any with a key in its selector). */
export function watchedFdCount(reactor: Reactor): number {
  const internals = reactor as unknown as { watchedFds: number; selector: { getMap(): Map<unknown, unknown> } };
  return internals.watchedFds + internals.selector.getMap().size;
}

export function settle(reactor: Reactor, ms = 20): void {
  reactor.callLater(ms, () => reactor.stop());
  reactor.runForever();
}

/** mulberry32: a small fixed-seed PRNG so failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
