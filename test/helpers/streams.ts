// Shared by the stream tests: a stand-in transport for a StreamReader, and a bounded Reactor.run.
import * as assert from 'uvu/assert';
import { Reactor } from '../../src/loop/index.js';
import { StreamReader, type Transport } from '../../src/transports/index.js';
import { withTimeout } from './index.js';

/** Just enough of a Transport for a StreamReader: counts pauses and resumes. */
export class FakeTransport {
  reading = true;
  pauses = 0;
  resumes = 0;
  pauseReading(): void {
    this.reading = false;
    this.pauses++;
  }
  resumeReading(): void {
    this.reading = true;
    this.resumes++;
  }
}

export function reader(limit?: number): [StreamReader, FakeTransport] {
  const r = new StreamReader({ limit });
  const t = new FakeTransport();
  r.setTransport(t as unknown as Transport);
  return [r, t];
}

/** The reason `p` rejects with; fails the test if it resolves. */
export const rejection = <T>(p: Promise<T>): Promise<unknown> =>
  p.then(
    () => assert.unreachable('should have rejected'),
    (e: unknown) => e,
  );

export const sleep = (reactor: Reactor, ms: number): Promise<void> => new Promise((resolve) => reactor.callLater(ms, () => resolve()));

/** Reactor.run bounded at 30 s, with a few iterations after body so aborted connections' fds close before the reactor. */
export function run<T>(body: (reactor: Reactor) => Promise<T>): Promise<T> {
  return withTimeout(Reactor.run(async (reactor) => {
    const result = await body(reactor);
    await sleep(reactor, 5);
    return result;
  }), 30_000);
}
