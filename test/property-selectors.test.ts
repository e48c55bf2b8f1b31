// Property tests (fast-check): every selector class against a model. Random register / modify /
// unregister / select / close over pipes and socketpairs with writes and reads: each select(0)
// returns exactly the keys and events the model predicts. See helpers/property.ts for seeds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import * as selectors from '../src/selectors/index.js';
import { EVENT_READ, EVENT_WRITE, KeyError, type BaseSelector } from '../src/selectors/index.js';
import { native } from '../src/select/native.js';
import { AF_UNIX, SOCK_STREAM } from '../src/transports/constants.js';
import { openFdCount, selectorNames } from './helpers/index.js';
import { propertyOptions } from './helpers/property.js';

type Kind = 'pipe-r' | 'pipe-w' | 'sock';
const SLOTS: Kind[] = ['pipe-r', 'pipe-r', 'pipe-w', 'sock', 'sock', 'sock'];
/** The events a slot may be registered for: a pipe end is only ever readable or writable. */
const ALLOWED: Record<Kind, number[]> = {
  'pipe-r': [EVENT_READ],
  'pipe-w': [EVENT_WRITE],
  sock: [EVENT_READ, EVENT_WRITE, EVENT_READ | EVENT_WRITE],
};

interface Slot {
  kind: Kind;
  fd: number; // the end that gets registered
  peer: number; // the other end; -1 once closed
  pending: number; // bytes readable at fd
  events: number; // registered events, 0 if not registered
  label: string;
}

const out = new Int32Array(2);
function open(kind: Kind, label: string): Slot {
  if (kind === 'sock') assert.is(native.socketpair(AF_UNIX, SOCK_STREAM, 0, out, true), 0);
  else assert.is(native.pipe(out, true), 0);
  const [a, b] = [out[0]!, out[1]!];
  // pipe(): out[0] reads, out[1] writes.
  const fd = kind === 'pipe-w' ? b : a;
  const peer = kind === 'pipe-w' ? a : b;
  return { kind, fd, peer, pending: 0, events: 0, label };
}

type Op =
  | { op: 'register' | 'modify'; slot: number; ev: number }
  | { op: 'unregister' | 'closePeer' | 'reopen' | 'select'; slot: number }
  | { op: 'write' | 'read'; slot: number; n: number };

const slotIndex = fc.integer({ min: 0, max: SLOTS.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('register' as const), slot: slotIndex, ev: fc.nat({ max: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('modify' as const), slot: slotIndex, ev: fc.nat({ max: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('unregister' as const), slot: slotIndex }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('write' as const), slot: slotIndex, n: fc.integer({ min: 1, max: 700 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('read' as const), slot: slotIndex, n: fc.integer({ min: 1, max: 900 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('closePeer' as const), slot: slotIndex }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reopen' as const), slot: slotIndex }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('select' as const), slot: slotIndex }) },
);

function expectedReady(s: Slot): number {
  const readable = s.kind !== 'pipe-w' && (s.pending > 0 || s.peer < 0);
  const writable = s.kind !== 'pipe-r';
  return ((readable ? EVENT_READ : 0) | (writable ? EVENT_WRITE : 0)) & s.events;
}

const scratch = Buffer.alloc(1024);

function runSelectorOps(Selector: new () => BaseSelector<string>, ops: Op[]): void {
  const sel = new Selector();
  const slots = SLOTS.map((k, i) => open(k, `slot${i}`));
  let generation = 0;
  const check = () => {
    const got = new Map<number, [string, number, number]>();
    for (const [key, ev] of sel.select(0)) {
      assert.not.ok(got.has(key.fd), `fd ${key.fd} reported twice`);
      got.set(key.fd, [key.data, key.events, ev]);
    }
    const want = new Map<number, [string, number, number]>();
    for (const s of slots) {
      const ev = expectedReady(s);
      if (s.events !== 0 && ev !== 0) want.set(s.fd, [s.label, s.events, ev]);
    }
    assert.equal(Object.fromEntries(got), Object.fromEntries(want));
    assert.is(sel.getMap().size, slots.filter((s) => s.events !== 0).length);
  };
  try {
    for (const o of ops) {
      const s = slots[o.slot]!;
      switch (o.op) {
        case 'register':
        case 'modify': {
          const allowed = ALLOWED[s.kind];
          const ev = allowed[o.ev % allowed.length]!;
          if ((o.op === 'register') === (s.events !== 0)) {
            assert.throws(() => (o.op === 'register' ? sel.register(s.fd, ev, s.label) : sel.modify(s.fd, ev, s.label)), (e: Error) => e instanceof KeyError);
            break;
          }
          const key = o.op === 'register' ? sel.register(s.fd, ev, s.label) : sel.modify(s.fd, ev, s.label);
          assert.is(key.fd, s.fd);
          assert.is(key.events, ev);
          s.events = ev;
          break;
        }
        case 'unregister':
          if (s.events === 0) {
            assert.throws(() => sel.unregister(s.fd), (e: Error) => e instanceof KeyError);
          } else {
            assert.is(sel.unregister(s.fd).data, s.label);
            s.events = 0;
          }
          break;
        case 'write':
          // Into the registered end, through its peer; bounded far below any buffer size.
          if (s.kind === 'pipe-w' || s.peer < 0 || s.pending > 16_384) break;
          assert.is(native.write(s.peer, scratch, 0, Math.min(o.n, scratch.length)), Math.min(o.n, scratch.length));
          s.pending += Math.min(o.n, scratch.length);
          break;
        case 'read': {
          if (s.kind === 'pipe-w') break;
          const want = Math.min(o.n, scratch.length);
          const r = native.read(s.fd, scratch, 0, want);
          if (s.pending === 0) assert.ok(r === 0 ? s.peer < 0 : r < 0, `read ${r} with nothing pending`);
          else assert.is(r, Math.min(want, s.pending));
          if (r > 0) s.pending -= r;
          break;
        }
        case 'closePeer':
          if (s.peer >= 0) {
            assert.is(native.close(s.peer), 0);
            s.peer = -1;
          }
          break;
        case 'reopen': {
          // Close first, unregister after (cpython#83420): the bookkeeping must still be purged,
          // so the new pair, which likely reuses the numbers, registers cleanly.
          assert.is(native.close(s.fd), 0);
          if (s.peer >= 0) assert.is(native.close(s.peer), 0);
          if (s.events !== 0) sel.unregister(s.fd);
          slots[o.slot] = open(s.kind, `slot${o.slot}.${++generation}`);
          break;
        }
        case 'select':
          check();
          break;
      }
    }
    check();
  } finally {
    sel.close();
    for (const s of slots) {
      native.close(s.fd);
      if (s.peer >= 0) native.close(s.peer);
    }
  }
}

for (const name of selectorNames) {
  const Selector = (selectors as unknown as Record<string, new () => BaseSelector<string>>)[name]!;
  test(`${name}: random register/modify/unregister/write/read/close/select match the model`, () => {
    const before = openFdCount();
    fc.assert(fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => runSelectorOps(Selector, ops)), propertyOptions(120));
    assert.is(openFdCount(), before, 'fd leak');
  });
}

test.run();
