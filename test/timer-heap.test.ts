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

heap.run();
