// TimerHeap unit tests: (when, seq) order, lazy cancellation and compaction.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TimerHeap } from '../src/loop/index.js';
import { prng } from './helpers/reactor.js';

interface T {
  when: number;
  seq: number;
  cancelled: boolean;
}


function byWhenSeq(a: T, b: T): number {
  return a.when - b.when || a.seq - b.seq;
}

const heap = suite('timer-heap');

heap('empty heap: peek/pop undefined, size 0', () => {
  const h = new TimerHeap<T>();
  assert.is(h.peek(), undefined);
  assert.is(h.pop(), undefined);
  assert.is(h.size, 0);
  assert.is(h.liveCount, 0);
});

heap('pops 10 000 random timers in (when, seq) order, ties by seq', () => {
  const rnd = prng(42);
  const h = new TimerHeap<T>();
  const all: T[] = [];
  for (let i = 0; i < 10_000; i++) {
    // Coarse deadlines so there are many ties.
    const t = { when: Math.floor(rnd() * 500), seq: i, cancelled: false };
    all.push(t);
    h.push(t);
  }
  assert.is(h.size, 10_000);
  const out: T[] = [];
  for (let t = h.pop(); t !== undefined; t = h.pop()) out.push(t);
  assert.is(out.length, 10_000);
  const expected = [...all].sort(byWhenSeq);
  for (let i = 0; i < out.length; i++) assert.ok(out[i] === expected[i], `position ${i}`);
});

heap('equal deadlines come out in scheduling order', () => {
  const h = new TimerHeap<T>();
  for (let i = 0; i < 100; i++) h.push({ when: 5, seq: i, cancelled: false });
  for (let i = 0; i < 100; i++) assert.is(h.pop()!.seq, i);
});

heap('cancelled timers are skipped by peek and pop', () => {
  const h = new TimerHeap<T>();
  const ts = Array.from({ length: 10 }, (_, i) => ({ when: i, seq: i, cancelled: false }));
  for (const t of ts) h.push(t);
  for (const i of [0, 1, 4, 9]) {
    ts[i]!.cancelled = true;
    h.noteCancelled();
  }
  assert.is(h.liveCount, 6);
  assert.is(h.peek()!.seq, 2);
  const out: number[] = [];
  for (let t = h.pop(); t !== undefined; t = h.pop()) out.push(t.seq);
  assert.equal(out, [2, 3, 5, 6, 7, 8]);
  assert.is(h.size, 0);
  assert.is(h.liveCount, 0);
});

heap('compaction: 100 000 scheduled, all but 10 cancelled -> size < 1000 before any fires', () => {
  const rnd = prng(7);
  const h = new TimerHeap<T>();
  const ts: T[] = [];
  for (let i = 0; i < 100_000; i++) {
    const t = { when: rnd() * 1000, seq: i, cancelled: false };
    ts.push(t);
    h.push(t);
  }
  const keep = new Set<number>();
  for (let i = 0; i < 10; i++) keep.add(Math.floor(rnd() * 100_000));
  for (const t of ts) {
    if (keep.has(t.seq)) continue;
    t.cancelled = true;
    h.noteCancelled();
  }
  assert.ok(h.size < 1000, `heap still holds ${h.size} entries`);
  assert.is(h.liveCount, keep.size);
  const out: T[] = [];
  for (let t = h.pop(); t !== undefined; t = h.pop()) out.push(t);
  assert.equal(out.map((t) => t.seq), ts.filter((t) => keep.has(t.seq)).sort(byWhenSeq).map((t) => t.seq));
});

heap('interleaved push/pop/cancel over 200 000 timers keeps (when, push order), through renumbering and compaction', () => {
  // A steady state that issues far more ids than are ever live at once: fired ids become holes
  // and are renumbered, cancellations trigger compactions, and coarse deadlines make many ties.
  const rnd = prng(99);
  const h = new TimerHeap<T>();
  const live: T[] = [];
  let seq = 0;
  let now = 0;
  let popped = 0;
  for (let round = 0; round < 2000; round++) {
    for (let i = 0; i < 100; i++) {
      const t = { when: now + Math.floor(rnd() * 20), seq: seq++, cancelled: false };
      h.push(t);
      live.push(t);
      if (rnd() < 0.3) {
        const victim = live[Math.floor(rnd() * live.length)]!;
        if (!victim.cancelled) {
          victim.cancelled = true;
          h.noteCancelled();
        }
      }
    }
    now += 5;
    const due = live.filter((t) => !t.cancelled && t.when <= now).sort(byWhenSeq);
    for (const expected of due) {
      const got = h.popDue(now);
      assert.ok(got === expected, `round ${round}: expected seq ${expected.seq}, got ${got?.seq}`);
      popped++;
    }
    assert.is(h.popDue(now), undefined);
    for (let i = live.length - 1; i >= 0; i--) if (live[i]!.cancelled || live[i]!.when <= now) live.splice(i, 1);
    assert.is(h.liveCount, live.length);
  }
  assert.ok(popped > 100_000, `only ${popped} fired`);
});

heap('markDue: timers pushed after it are not due until unmarkDue, then keep (when, push order)', () => {
  const h = new TimerHeap<T>();
  const t = (when: number, seq: number): T => ({ when, seq, cancelled: false });
  h.push(t(5, 0));
  h.push(t(5, 1));
  h.push(t(50, 2));
  h.markDue();
  // Scheduled "by a callback of this iteration", deadlines already past: set aside, not popped.
  h.push(t(1, 3));
  h.push(t(5, 4));
  assert.is(h.popDue(10)!.seq, 0);
  h.push(t(0, 5));
  assert.is(h.popDue(10)!.seq, 1);
  assert.is(h.popDue(10), undefined);
  assert.is(h.size, 1); // only seq 2 is left in the heap while 3, 4, 5 are set aside
  h.unmarkDue();
  assert.is(h.size, 4);
  h.push(t(5, 6)); // same deadline as seq 4, pushed later: after it
  const out: number[] = [];
  for (let x = h.popDue(100); x !== undefined; x = h.popDue(100)) out.push(x.seq);
  assert.equal(out, [5, 3, 4, 6, 2]);
  // Draining completely while some are set aside keeps their ids valid.
  h.push(t(1, 7));
  h.markDue();
  h.push(t(0, 8));
  assert.is(h.popDue(10)!.seq, 7);
  assert.is(h.popDue(10), undefined);
  h.unmarkDue();
  assert.is(h.pop()!.seq, 8);
  assert.is(h.size, 0);
});

heap('clear empties the heap', () => {
  const h = new TimerHeap<T>();
  for (let i = 0; i < 50; i++) h.push({ when: i, seq: i, cancelled: false });
  h.clear();
  assert.is(h.size, 0);
  assert.is(h.pop(), undefined);
});

// ---- memory: what the public API cannot see, read from the heap's own fields ----
// Capacity and id space are invisible to callers by design, so these tests read them directly:
// a heap that never shrinks or never renumbers still pops in the right order.

interface HeapInternals {
  entries: Float64Array;
  byId: unknown[];
}
const internals = (h: TimerHeap<T>) => h as unknown as HeapInternals;
const capacity = (h: TimerHeap<T>) => internals(h).entries.length / 2;
const t = (when: number, seq: number): T => ({ when, seq, cancelled: false });

heap('capacity doubles from 16 as timers are pushed, exactly when full', () => {
  const h = new TimerHeap<T>();
  const seen: number[] = [capacity(h)];
  for (let i = 0; i < 100; i++) {
    h.push(t(100 - i, i));
    if (capacity(h) !== seen[seen.length - 1]) seen.push(capacity(h));
    if (i === 15) assert.is(capacity(h), 16, 'sixteen fit in the initial 16');
    if (i === 16) assert.is(capacity(h), 32, 'the seventeenth doubles it');
  }
  assert.equal(seen, [16, 32, 64, 128]);
  for (let i = 99; i >= 0; i--) assert.is(h.pop()!.seq, i);
});

heap('draining a big heap gives memory back in steps to four times what is left, down to 16 entries', () => {
  const h = new TimerHeap<T>();
  for (let i = 0; i < 5000; i++) h.push(t(i, i));
  assert.is(capacity(h), 8192);
  const steps: Array<[number, number]> = []; // (size after the pop, new capacity)
  let last = capacity(h);
  for (let i = 0; i < 5000; i++) {
    assert.is(h.pop()!.seq, i);
    if (capacity(h) !== last) {
      last = capacity(h);
      steps.push([h.size, last]);
    }
  }
  // Shrinks once below a sixteenth of a capacity above 256: 8192 -> (511 left) 2044 -> (126) 504
  // -> (30) 120, then no more (120 is not above 256).
  assert.equal(steps, [
    [511, 2044],
    [126, 504],
    [30, 120],
  ]);
  assert.is(h.size, 0);
});

heap('a heap compacted to almost nothing shrinks at its next pop, to no fewer than 16 entries', () => {
  const h = new TimerHeap<T>();
  const ts = Array.from({ length: 4990 }, (_, i) => t(i, i));
  for (const x of ts) h.push(x);
  for (let i = 1; i < 4989; i++) {
    ts[i]!.cancelled = true;
    h.noteCancelled();
  }
  // Compactions left the two live timers and the last two cancelled (too few to compact).
  assert.is(h.size, 4);
  assert.is(capacity(h), 8192, 'compaction itself allocates nothing');
  assert.is(h.pop()!.seq, 0); // 3 left: four times that is below the minimum
  assert.is(capacity(h), 16);
  for (let i = 0; i < 40; i++) h.push(t(40 - i, i));
  assert.is(capacity(h), 64);
  for (let i = 39; i >= 0; i--) assert.is(h.pop()!.seq, i);
  assert.is(h.pop()!.seq, 4989);
});

heap('unmarkDue puts back more set-aside timers than the heap has room for, in (when, push order)', () => {
  const h = new TimerHeap<T>();
  for (let i = 0; i < 10; i++) h.push(t(i, i));
  h.markDue();
  for (let i = 0; i < 40; i++) h.push(t(i % 4, 10 + i)); // all past due, pushed after markDue
  const first: number[] = [];
  for (let x = h.popDue(100); x !== undefined; x = h.popDue(100)) first.push(x.seq);
  assert.equal(first, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.is(h.size, 0);
  h.unmarkDue();
  assert.is(h.size, 40);
  const out: number[] = [];
  for (let x = h.popDue(100); x !== undefined; x = h.popDue(100)) out.push(x.seq);
  const expected = Array.from({ length: 40 }, (_, i) => i).sort((a, b) => (a % 4) - (b % 4) || a - b).map((i) => 10 + i);
  assert.equal(out, expected);
});

heap('compaction runs once more than 32 entries and more than half of the heap are cancelled', () => {
  // 32 cancelled of 40: not yet (needs more than 32).
  let h = new TimerHeap<T>();
  let ts = Array.from({ length: 40 }, (_, i) => t(i, i));
  for (const x of ts) h.push(x);
  for (let i = 0; i < 32; i++) {
    ts[i]!.cancelled = true;
    h.noteCancelled();
  }
  assert.is(h.size, 40);
  ts[32]!.cancelled = true;
  h.noteCancelled();
  assert.is(h.size, 7);
  assert.equal([h.pop()!.seq, h.pop()!.seq], [33, 34]);

  // 33 cancelled of 66: exactly half, not yet (needs more than half).
  h = new TimerHeap<T>();
  ts = Array.from({ length: 66 }, (_, i) => t(i, i));
  for (const x of ts) h.push(x);
  for (let i = 0; i < 33; i++) {
    ts[i]!.cancelled = true;
    h.noteCancelled();
  }
  assert.is(h.size, 66);
  ts[33]!.cancelled = true;
  h.noteCancelled();
  assert.is(h.size, 32);
  assert.is(h.liveCount, 32);
});

heap('firing live timers counts toward compaction too', () => {
  // 40 cancelled of 100 (no compaction: 80 <= 100), then each fired timer shrinks the heap.
  const h = new TimerHeap<T>();
  const ts = Array.from({ length: 100 }, (_, i) => t(i, i));
  for (const x of ts) h.push(x);
  for (let i = 60; i < 100; i++) {
    ts[i]!.cancelled = true;
    h.noteCancelled();
  }
  assert.is(h.size, 100);
  // After 20 pops, 40 * 2 > 80 - 1: the pop that leaves 79 compacts away the 40 cancelled.
  for (let i = 0; i < 20; i++) assert.is(h.pop()!.seq, i);
  assert.is(h.size, 80);
  assert.is(h.pop()!.seq, 20);
  assert.is(h.size, 39);
});

heap('cancelled timers dropped from the top lower the count that triggers compaction', () => {
  // 40 timers cancelled and dropped at the top by peek() must not count toward a later compaction.
  const h = new TimerHeap<T>();
  const ts = Array.from({ length: 200 }, (_, i) => t(i, i));
  for (const x of ts) h.push(x);
  for (let i = 0; i < 40; i++) {
    ts[i]!.cancelled = true;
    h.noteCancelled();
  }
  assert.is(h.peek()!.seq, 40); // drops the 40 at the top
  assert.is(h.size, 160);
  // 60 more cancelled at the bottom: 60 * 2 <= 160, no compaction (a stale count of 100 would).
  for (let i = 140; i < 200; i++) {
    ts[i]!.cancelled = true;
    h.noteCancelled();
  }
  assert.is(h.size, 160);
  assert.is(h.liveCount, 100);
});

heap('a heap that never drains renumbers its ids: the id space stays bounded and the order kept', () => {
  const h = new TimerHeap<T>();
  h.push(t(1e9, -1)); // long-lived: the heap never drains, so ids are never simply forgotten
  let maxIds = 0;
  for (let i = 0; i < 5000; i++) {
    h.push(t(i, 2 * i));
    h.push(t(i, 2 * i + 1));
    assert.is(h.pop()!.seq, 2 * i);
    assert.is(h.pop()!.seq, 2 * i + 1);
    maxIds = Math.max(maxIds, internals(h).byId.length);
  }
  // A push that finds 1024 ids issued and more than three quarters of them gone renumbers first.
  assert.is(maxIds, 1023);
  assert.ok(internals(h).byId.length <= 1024);
  assert.is(h.pop()!.seq, -1);
});

heap('ids are not renumbered between markDue and unmarkDue (timers pushed after the mark stay set aside)', () => {
  const h = new TimerHeap<T>();
  for (let i = 0; i < 1200; i++) h.push(t(i + 1, i));
  for (let i = 0; i < 1000; i++) assert.is(h.popDue(1000)!.seq, i);
  assert.is(h.size, 200); // 1200 ids issued, 200 live: a push would renumber but for the mark
  h.markDue();
  h.push(t(0, 9999));
  assert.is(h.popDue(2000)!.seq, 1000, 'the timer pushed after markDue is not due before unmarkDue');
  h.unmarkDue();
  assert.is(h.popDue(2000)!.seq, 9999);
});

heap('ids are not renumbered by a compaction between markDue and unmarkDue', () => {
  const h = new TimerHeap<T>();
  const ts = Array.from({ length: 1200 }, (_, i) => t(i + 1, i));
  for (const x of ts) h.push(x);
  h.markDue();
  h.push(t(0, 9999));
  for (let i = 100; i < 1200; i++) {
    ts[i]!.cancelled = true;
    h.noteCancelled();
  }
  assert.ok(h.size < 200, `compacted to ${h.size}`);
  assert.is(h.popDue(2000)!.seq, 0, 'the timer pushed after markDue is not due before unmarkDue');
  h.unmarkDue();
  assert.is(h.popDue(2000)!.seq, 9999);
});

heap('compaction restores (when, push order) among many equal deadlines', () => {
  const h = new TimerHeap<T>();
  const rnd = prng(5);
  const ts = Array.from({ length: 300 }, (_, i) => t(Math.floor(rnd() * 3), i));
  for (const x of ts) h.push(x);
  for (const x of ts) if (x.seq % 3 !== 0) {
    x.cancelled = true;
    h.noteCancelled();
  }
  assert.ok(h.size <= 150, `compacted to ${h.size}`);
  const out: number[] = [];
  for (let x = h.pop(); x !== undefined; x = h.pop()) out.push(x.seq);
  assert.equal(out, ts.filter((x) => x.seq % 3 === 0).sort(byWhenSeq).map((x) => x.seq));
});

heap('capacity shrinks only from above 256 entries', () => {
  const h = new TimerHeap<T>();
  for (let i = 0; i < 200; i++) h.push(t(i, i));
  assert.is(capacity(h), 256);
  for (let i = 0; i < 190; i++) assert.is(h.pop()!.seq, i);
  assert.is(capacity(h), 256, '10 left of 256: small enough not to bother');
});

heap('unmarkDue grows the heap when the set-aside timers do not fit', () => {
  const h = new TimerHeap<T>();
  h.markDue();
  for (let i = 0; i < 40; i++) h.push(t(i % 4, i)); // past due, pushed after the mark
  assert.is(h.popDue(100), undefined);
  for (let i = 0; i < 64; i++) h.push(t(1000 + i, 40 + i));
  assert.is(h.size, 64);
  assert.is(capacity(h), 64);
  h.unmarkDue();
  assert.is(h.size, 104);
  assert.is(capacity(h), 128);
  const out: number[] = [];
  for (let x = h.pop(); x !== undefined; x = h.pop()) out.push(x.seq);
  const early = Array.from({ length: 40 }, (_, i) => i).sort((a, b) => (a % 4) - (b % 4) || a - b);
  assert.equal(out, [...early, ...Array.from({ length: 64 }, (_, i) => 40 + i)]);
});

heap('a drained heap forgets the ids it issued, and the cancellations it counted', () => {
  const h = new TimerHeap<T>();
  const a = t(1, 0);
  h.push(a);
  h.push(t(2, 1));
  assert.is(h.pop(), a);
  a.cancelled = true; // cancelled after it fired: counted, though no longer in the heap
  h.noteCancelled();
  assert.is(h.pop()!.seq, 1);
  assert.is(internals(h).byId.length, 0);
  // 32 cancellations of 40: no compaction (a count still holding the one above would compact).
  const ts = Array.from({ length: 40 }, (_, i) => t(i, 10 + i));
  for (const x of ts) h.push(x);
  for (let i = 0; i < 32; i++) {
    ts[i]!.cancelled = true;
    h.noteCancelled();
  }
  assert.is(h.size, 40);
});

heap('a heap drained by peek() dropping its last cancelled timer counts no cancellation below zero', () => {
  const h = new TimerHeap<T>();
  const a = t(1, 0);
  h.push(a);
  a.cancelled = true;
  h.noteCancelled();
  assert.is(h.peek(), undefined);
  assert.is(h.size, 0);
  // 33 cancellations of 40 compact (a count of -1 would reach only 32).
  const ts = Array.from({ length: 40 }, (_, i) => t(i, 10 + i));
  for (const x of ts) h.push(x);
  for (let i = 0; i < 33; i++) {
    ts[i]!.cancelled = true;
    h.noteCancelled();
  }
  assert.is(h.size, 7);
});

heap('a push renumbers only when more than three quarters of at least 1024 ids are gone', () => {
  const h = new TimerHeap<T>();
  for (let i = 0; i < 1024; i++) h.push(t(i, i));
  for (let i = 0; i < 768; i++) h.pop();
  assert.is(h.size, 256);
  h.push(t(5000, 5000)); // 1024 ids, 256 live: exactly three quarters gone, not more
  assert.is(internals(h).byId.length, 1025);
  h.pop();
  h.push(t(5001, 5001)); // 1025 ids, 256 live
  assert.is(internals(h).byId.length, 257);
  for (let i = 769; i < 1024; i++) assert.is(h.pop()!.seq, i);
  assert.equal([h.pop()!.seq, h.pop()!.seq, h.pop()], [5000, 5001, undefined]);
});

heap('a compaction renumbers when more than three quarters of at least 1024 ids are gone', () => {
  // 1024 ids, 211 live after compaction: renumbered to 211 ids.
  let h = new TimerHeap<T>();
  let ts = Array.from({ length: 1024 }, (_, i) => t(i, i));
  for (const x of ts) h.push(x);
  for (let i = 0; i < 600; i++) h.pop();
  for (let i = 600; i < 813; i++) {
    ts[i]!.cancelled = true;
    h.noteCancelled();
  }
  assert.is(h.size, 211);
  assert.is(internals(h).byId.length, 211);
  const out: number[] = [];
  for (let x = h.pop(); x !== undefined; x = h.pop()) out.push(x.seq);
  assert.equal(out, Array.from({ length: 211 }, (_, i) => 813 + i));

  // Fewer than 1024 ids: never renumbered, however many are gone.
  h = new TimerHeap<T>();
  ts = Array.from({ length: 100 }, (_, i) => t(i, i));
  for (const x of ts) h.push(x);
  for (let i = 0; i < 90; i++) {
    ts[i]!.cancelled = true;
    h.noteCancelled();
  }
  assert.is(h.size, 16);
  assert.is(internals(h).byId.length, 100);

  // 1024 ids, 256 live after compaction: exactly three quarters gone, not renumbered.
  h = new TimerHeap<T>();
  ts = Array.from({ length: 1024 }, (_, i) => t(i, i));
  for (const x of ts) h.push(x);
  for (let i = 0; i < 510; i++) h.pop();
  for (let i = 510; i < 768; i++) {
    ts[i]!.cancelled = true;
    h.noteCancelled();
  }
  assert.is(h.size, 256);
  assert.is(internals(h).byId.length, 1024);
  assert.is(h.pop()!.seq, 768);
});

heap.run();
