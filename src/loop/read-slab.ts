// One read slab per thread, shared by every socket and transport: reads land in it and are handed
// out as views, which stay valid because a slab is only ever replaced, never rewritten. An idle
// connection therefore costs no read buffer at all, and a read allocates nothing but the view.
//
// Two guards keep views safe to keep. A small read is copied out (into Node's Buffer pool, as
// Buffer.from would) so a few kept bytes never pin a whole slab: a view of the slab is always at
// least COPY_BELOW bytes, so it pins at most SLAB_SIZE / COPY_BELOW (256) times its size, and a
// copy at most the pool's 8 KiB. And the slab is marked untransferable, as Node marks its Buffer pool: a
// postMessage(buf, [buf.buffer]) cannot detach memory other connections' views share (Node 20
// copies instead, Node 21+ throws DataCloneError); a slab detached anyway (ArrayBuffer.transfer)
// reads as empty and is replaced, never read into.
import { markAsUntransferable } from 'node:worker_threads';

const SLAB_SIZE = 256 * 1024;
/**
 * Below 1 KiB a copy from Node's pool costs about what the view does (measured); larger copies
 * churn through 8 KiB pools and cost up to a third of the echo rate at 3 KiB.
 */
const COPY_BELOW = 1024;

let slab: Buffer | null = null;
let offset = 0;
/**
 * While a batched wait's reads hold [reservedFrom, offset) of the slab and no view of it was handed
 * out: the offset a finished batch returns to (its reads were copied out), else -1.
 */
let reservedFrom = -1;
const slabMemory = new WeakSet<ArrayBufferLike>();

/** A slab with at least `min` free bytes from `readSlabOffset()` on. */
export function readSlab(min: number): Buffer {
  // A detached slab has length 0, so this also replaces it.
  if (slab === null || slab.length - offset < min) {
    slab = Buffer.allocUnsafeSlow(Math.max(SLAB_SIZE, min));
    markAsUntransferable(slab.buffer);
    slabMemory.add(slab.buffer);
    offset = 0;
    reservedFrom = -1;
  }
  return slab;
}

/** The last view handed out, its slab and its offset there: a write of exactly it (an echo) needs no copy. */
let lastView: Buffer | null = null;
let lastViewSlab: Buffer | null = null;
let lastViewOffset = 0;

function handOut(from: Buffer, at: number, n: number): Buffer {
  const view = from.subarray(at, at + n);
  lastView = view;
  lastViewSlab = from;
  lastViewOffset = at;
  return view;
}

/**
 * The slab `bytes` lies in if it is the last view handed out (its offset there: lastViewOffsetIn()),
 * else null. An identity check: asking a typed array for its buffer costs more than copying a few KiB.
 */
export function slabOfLastView(bytes: Uint8Array): Buffer | null {
  return bytes === lastView ? lastViewSlab : null;
}

export function lastViewOffsetIn(): number {
  return lastViewOffset;
}

export function readSlabOffset(): number {
  return offset;
}

/** Hands out `n` bytes read at the current offset as a Buffer the caller may keep. */
export function takeRead(n: number): Buffer {
  // The slab space of a copy is not consumed: the next read reuses it.
  if (n < COPY_BELOW) return copyOut(slab!, offset, n);
  const view = handOut(slab!, offset, n);
  offset = (offset + n + 7) & ~7; // keep views 8-byte aligned
  reservedFrom = -1;
  return view;
}

/** A batched wait read into the current slab up to `end`: nothing may be read over it until releaseReadSlab(). */
export function reserveReadSlab(end: number): void {
  reservedFrom = offset;
  offset = end;
}

/** The batch is dispatched: its space is reused unless a view of it (or of a later read) was handed out. */
export function releaseReadSlab(): void {
  if (reservedFrom >= 0) offset = reservedFrom;
  reservedFrom = -1;
}

/** As takeRead, for `n` bytes a batched wait read at `at` in `batchSlab` (the slab then, maybe replaced since). */
export function takeBatchRead(batchSlab: Buffer, at: number, n: number): Buffer {
  if (n < COPY_BELOW) return copyOut(batchSlab, at, n);
  if (batchSlab === slab) reservedFrom = -1;
  return handOut(batchSlab, at, n);
}

/** Largest copy V8 keeps in the object itself (V8_TYPED_ARRAY_MAX_SIZE_IN_HEAP). */
const ON_HEAP_MAX = 64;
const sliceBytes = Uint8Array.prototype.slice as (this: Buffer, start: number, end: number) => Buffer;

/**
 * A copy of from[at, at + n) as a Buffer. Up to 64 bytes, slice() (a Buffer via Buffer's species)
 * makes an on-heap typed array: half the cost of a copy into Node's pool, measured (80 against
 * 150 ns); above that it would be a backing store of its own, which costs more.
 */
function copyOut(from: Buffer, at: number, n: number): Buffer {
  if (n <= ON_HEAP_MAX) return sliceBytes.call(from, at, at + n);
  const copy = Buffer.allocUnsafe(n);
  from.copy(copy, 0, at, at + n);
  return copy;
}

/** True for a view of slab memory: never rewritten, so a write queue may keep it without a copy. */
export function isReadSlabView(bytes: Uint8Array): boolean {
  return slabMemory.has(bytes.buffer);
}
