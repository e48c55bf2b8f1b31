// Property tests (fast-check): the timer heap and the Reactor's scheduling against a model.
// Seeded (PROPERTY_SEED, default fixed) so a failure reproduces; fast-check prints the seed and
// the shrunk counterexample, which then becomes an ordinary test below.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { TimerHeap } from '../src/loop/timer-heap.js';
import { Reactor, type TimerHandle } from '../src/loop/index.js';
import { propertyOptions } from './helpers/property.js';

// ---- the heap against a sorted list ----------------------------------------------------------

class FakeTimer {
  cancelled = false;
  constructor(
    readonly when: number,
    readonly seq: number,
  ) {}
}

type HeapOp =
  | { op: 'push'; when: number }
  | { op: 'cancel'; pick: number }
  | { op: 'pop' }
  | { op: 'popDue'; now: number }
  | { op: 'peek' };

// Few distinct deadlines, so ties (broken by push order) are common.
const when = fc.oneof(fc.integer({ min: 0, max: 20 }), fc.double({ min: 0, max: 20, noNaN: true }));
const heapOp: fc.Arbitrary<HeapOp> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('push' as const), when }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('pop' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('popDue' as const), now: fc.integer({ min: -1, max: 21 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('peek' as const) }) },
);

/** The model: live timers; the earliest is the least (when, seq). */
function earliest(live: FakeTimer[]): FakeTimer | undefined {
  let best: FakeTimer | undefined;
  for (const t of live) if (best === undefined || t.when < best.when || (t.when === best.when && t.seq < best.seq)) best = t;
  return best;
}

function runHeapOps(ops: HeapOp[]): void {
  const heap = new TimerHeap<FakeTimer>();
  let live: FakeTimer[] = [];
  let seq = 0;
  const take = (t: FakeTimer | undefined) => {
    if (t !== undefined) live = live.filter((x) => x !== t);
  };
  for (const o of ops) {
    switch (o.op) {
      case 'push': {
        const t = new FakeTimer(o.when, seq++);
        heap.push(t);
        live.push(t);
        break;
      }
      case 'cancel': {
        if (live.length === 0) break;
        const t = live[o.pick % live.length]!;
        t.cancelled = true;
        heap.noteCancelled();
        take(t);
        break;
      }
      case 'pop': {
        const expected = earliest(live);
        assert.is(heap.pop(), expected);
        take(expected);
        break;
      }
      case 'popDue': {
        const e = earliest(live);
        const expected = e !== undefined && e.when <= o.now ? e : undefined;
        assert.is(heap.popDue(o.now), expected);
        take(expected);
        break;
      }
      case 'peek':
        assert.is(heap.peek(), earliest(live));
        break;
    }
    assert.is(heap.liveCount, live.length);
    // Compaction keeps the cancelled entries at most half the heap (or a small constant).
    const cancelled = heap.size - heap.liveCount;
    assert.ok(cancelled <= 32 || cancelled * 2 <= heap.size, `${cancelled} cancelled of ${heap.size}`);
  }
  // Draining yields the rest in (when, push order).
  const rest = [...live].sort((a, b) => a.when - b.when || a.seq - b.seq);
  for (const t of rest) assert.is(heap.pop(), t);
  assert.is(heap.pop(), undefined);
  assert.is(heap.size, 0);
}

test('TimerHeap: random push/cancel/pop/popDue/peek match a sorted model; cancelled entries stay bounded', () => {
  fc.assert(fc.property(fc.array(heapOp, { maxLength: 300 }), (ops) => runHeapOps(ops)), propertyOptions(300));
});

test('TimerHeap: long runs that cross the compaction and renumbering thresholds', () => {
  const bulk = fc.array(heapOp, { minLength: 1000, maxLength: 3000 });
  fc.assert(fc.property(bulk, (ops) => runHeapOps(ops)), propertyOptions(15));
});

test('TimerHeap: compaction of any heap to any live subset keeps (deadline, push order)', () => {
  // 33 + k timers (k < 33) with random deadlines, exactly 33 of them cancelled in random order: the last
  // cancel compacts with every cancellation applied, so the survivors are rebuilt into a heap from
  // any arrangement (the sift-down boundaries, e.g. a smallest survivor that is the last entry).
  const scenario = fc.integer({ min: 1, max: 32 }).chain((k) =>
    fc.record({
      whens: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 33 + k, maxLength: 33 + k }),
      cancelOrder: fc.shuffledSubarray(Array.from({ length: 33 + k }, (_, i) => i), { minLength: 33, maxLength: 33 }),
    }),
  );
  fc.assert(
    fc.property(scenario, ({ whens, cancelOrder }) => {
      const heap = new TimerHeap<FakeTimer>();
      const timers = whens.map((w, i) => new FakeTimer(w, i));
      for (const t of timers) heap.push(t);
      for (const i of cancelOrder) {
        timers[i]!.cancelled = true;
        heap.noteCancelled();
      }
      const expected = timers.filter((t) => !t.cancelled).sort((a, b) => a.when - b.when || a.seq - b.seq);
      assert.is(heap.size, expected.length, 'compacted');
      for (const t of expected) assert.is(heap.pop(), t);
      assert.is(heap.pop(), undefined);
    }),
    propertyOptions(400),
  );
});

test('TimerHeap: compaction compares a parent with its right child when that child is the last entry', () => {
  // Shrunk from the property above: after compaction the array is [5, 6, 2]; the root must
  // become 2, which only the comparison with the last entry finds.
  const heap = new TimerHeap<FakeTimer>();
  const timers = [0, 1, 5, 6, 2, ...Array.from({ length: 31 }, (_, i) => 100 + i)].map((w, i) => new FakeTimer(w, i));
  for (const t of timers) heap.push(t);
  for (const t of timers) {
    if (t.when === 0 || t.when === 1 || t.when >= 100) {
      t.cancelled = true;
      heap.noteCancelled();
    }
  }
  assert.is(heap.size, 3);
  assert.equal([heap.pop()?.when, heap.pop()?.when, heap.pop()?.when], [2, 5, 6]);
});

// Regression tests from shrunk counterexamples and from the mutation run (sift-down boundaries).
test('TimerHeap: compaction re-heapifies every level (a sift-down that stops one child early breaks order)', () => {
  // 40 timers in reverse deadline order, 33 of them cancelled: compaction (more than 32 and more
  // than half cancelled) rebuilds the heap from an array that is not a heap.
  const heap = new TimerHeap<FakeTimer>();
  const timers = Array.from({ length: 40 }, (_, i) => new FakeTimer(40 - i, i));
  for (const t of timers) heap.push(t);
  for (let i = 0; i < 33; i++) {
    const t = timers[(i * 7) % 40]!;
    if (t.cancelled) continue;
    t.cancelled = true;
    heap.noteCancelled();
  }
  const live = timers.filter((t) => !t.cancelled).sort((a, b) => a.when - b.when);
  assert.ok(heap.size < 40, 'compacted');
  for (const t of live) assert.is(heap.pop(), t);
  assert.is(heap.pop(), undefined);
});

test('TimerHeap: equal deadlines pop in push order through compaction', () => {
  const heap = new TimerHeap<FakeTimer>();
  const timers = Array.from({ length: 100 }, (_, i) => new FakeTimer(i % 3, i));
  for (const t of timers) heap.push(t);
  for (let i = 0; i < 100; i += 2) {
    timers[i]!.cancelled = true;
    heap.noteCancelled();
  }
  const expected = timers.filter((t) => !t.cancelled).sort((a, b) => a.when - b.when || a.seq - b.seq);
  for (const t of expected) assert.is(heap.pop(), t);
});

// ---- the Reactor's scheduling against a model ------------------------------------------------

type ReactorOp =
  | { op: 'soon' }
  | { op: 'later'; delay: number }
  | { op: 'at'; offset: number }
  | { op: 'cancel'; pick: number }
  | { op: 'run' };

const reactorOp: fc.Arbitrary<ReactorOp> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('soon' as const) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('later' as const), delay: fc.oneof(fc.constant(0), fc.double({ min: -1, max: 3, noNaN: true })) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('at' as const), offset: fc.double({ min: -2, max: 3, noNaN: true }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('run' as const) }) },
);

interface Scheduled {
  id: number;
  kind: 'soon' | 'timer';
  when: number; // for timers
  handle: { cancel(): void };
  cancelled: boolean;
  /** Iteration in which it ran; -1 if it did not (yet). */
  ranAt: number;
  order: number;
}

function runReactorOps(ops: ReactorOp[]): void {
  const reactor = new Reactor();
  const all: Scheduled[] = [];
  let iteration = 0;
  let order = 0;
  let early: string | null = null;
  const schedule = (kind: 'soon' | 'timer', make: (cb: () => void) => { cancel(): void; when?: number }) => {
    const entry = { id: all.length, kind, when: 0, cancelled: false, ranAt: -1, order: -1 } as Scheduled;
    entry.handle = make(() => {
      if (entry.ranAt !== -1) early ??= `${entry.id} ran twice`;
      entry.ranAt = iteration;
      entry.order = order++;
      if (kind === 'timer' && reactor.time() < entry.when) early ??= `timer ${entry.id} ran at ${reactor.time()} < ${entry.when}`;
    });
    if (kind === 'timer') entry.when = (entry.handle as TimerHandle).when;
    all.push(entry);
  };
  try {
    for (const o of ops) {
      switch (o.op) {
        case 'soon':
          schedule('soon', (cb) => reactor.callSoon(cb));
          break;
        case 'later':
          schedule('timer', (cb) => reactor.callLater(o.delay, cb));
          break;
        case 'at':
          schedule('timer', (cb) => reactor.callAt(reactor.time() + o.offset, cb));
          break;
        case 'cancel': {
          if (all.length === 0) break;
          const e = all[o.pick % all.length]!;
          e.handle.cancel();
          if (e.ranAt === -1) e.cancelled = true;
          break;
        }
        case 'run':
          iteration++;
          reactor.runOnce(0);
          break;
      }
    }
    // Run until everything still pending has run (bounded: the longest delay is 3 ms).
    const deadline = reactor.time() + 10_000;
    while (all.some((e) => !e.cancelled && e.ranAt === -1) && reactor.time() < deadline) {
      iteration++;
      reactor.runOnce(5);
    }
  } finally {
    reactor.close();
  }
  assert.is(early, null);
  for (const e of all) {
    if (e.cancelled) assert.is(e.ranAt, -1, `cancelled ${e.id} ran`);
    else assert.ok(e.ranAt !== -1, `${e.id} never ran`);
  }
  // callSoon callbacks run in the order they were scheduled, each in the first iteration after.
  const soon = all.filter((e) => e.kind === 'soon' && !e.cancelled);
  for (let i = 1; i < soon.length; i++) assert.ok(soon[i - 1]!.order < soon[i]!.order, 'callSoon FIFO');
  // Timers run in (deadline, scheduling) order.
  const timers = all.filter((e) => e.kind === 'timer' && !e.cancelled).sort((a, b) => a.order - b.order);
  for (let i = 1; i < timers.length; i++) {
    const a = timers[i - 1]!;
    const b = timers[i]!;
    // b ran after a; had b been due first and already scheduled when a ran, it should have run first.
    if (b.id < a.id || b.ranAt === a.ranAt) {
      assert.ok(a.when < b.when || (a.when === b.when && a.id < b.id), `timer ${a.id} (${a.when}) ran before ${b.id} (${b.when})`);
    }
  }
}

test('Reactor: random callSoon/callLater/callAt/cancel/runOnce: FIFO, deadline order, never early, cancelled never run', () => {
  fc.assert(fc.property(fc.array(reactorOp, { maxLength: 60 }), (ops) => runReactorOps(ops)), propertyOptions(150));
});

test.run();
