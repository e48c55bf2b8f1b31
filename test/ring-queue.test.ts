// RingQueue unit tests: FIFO order across growth and wrap-around, empty shifts, clear(), capacity.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RingQueue } from '../src/loop/index.js';

const ring = suite('ring-queue');

/** The backing array, to check what the queue keeps alive and how much it preallocates. */
function slots<T>(q: RingQueue<T>): Array<T | undefined> {
  return (q as unknown as { items: Array<T | undefined> }).items;
}

ring('FIFO across wrap-around and growth; length follows', () => {
  const q = new RingQueue<number>(16);
  const out: number[] = [];
  let next = 0;
  // Push 3, shift 2, repeatedly: head walks around the ring and growth happens with head != 0.
  for (let round = 0; round < 40; round++) {
    for (let k = 0; k < 3; k++) q.push(next++);
    for (let k = 0; k < 2; k++) out.push(q.shift()!);
  }
  assert.is(q.length, 40);
  while (q.length > 0) out.push(q.shift()!);
  assert.equal(out, Array.from({ length: 120 }, (_, i) => i));
});

ring('shift() on an empty queue returns undefined and leaves it empty and usable', () => {
  const q = new RingQueue<string>();
  assert.is(q.shift(), undefined);
  assert.is(q.shift(), undefined);
  assert.is(q.length, 0);
  q.push('a');
  q.push('b');
  assert.is(q.length, 2);
  assert.is(q.shift(), 'a');
  assert.is(q.shift(), 'b');
  assert.is(q.shift(), undefined);
  assert.is(q.length, 0);
});

ring('clear() empties the queue and drops every reference', () => {
  const q = new RingQueue<object>(16);
  for (let i = 0; i < 20; i++) q.push({ i });
  q.shift();
  q.clear();
  assert.is(q.length, 0);
  assert.is(q.shift(), undefined);
  assert.ok(slots(q).every((item) => item === undefined), 'a cleared queue keeps nothing alive');
  q.push({ i: 99 });
  assert.equal(q.shift(), { i: 99 });
});

ring('capacity: rounded up to a power of two, at least 16; holds that many before growing', () => {
  assert.is(slots(new RingQueue<number>()).length, 64);
  assert.is(slots(new RingQueue<number>(1)).length, 16);
  assert.is(slots(new RingQueue<number>(16)).length, 16);
  assert.is(slots(new RingQueue<number>(17)).length, 32);
  assert.is(slots(new RingQueue<number>(100)).length, 128);
  const q = new RingQueue<number>(32);
  for (let i = 0; i < 32; i++) q.push(i);
  assert.is(slots(q).length, 32);
  q.push(32);
  assert.is(slots(q).length, 64);
});

ring.run();
