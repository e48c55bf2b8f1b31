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
const slabMemory = new WeakSet<ArrayBufferLike>();

/** A slab with at least `min` free bytes from `readSlabOffset()` on. */
export function readSlab(min: number): Buffer {
  // A detached slab has length 0, so this also replaces it.
  if (slab === null || slab.length - offset < min) {
    slab = Buffer.allocUnsafeSlow(Math.max(SLAB_SIZE, min));
    markAsUntransferable(slab.buffer);
    slabMemory.add(slab.buffer);
    offset = 0;
  }
  return slab;
}

export function readSlabOffset(): number {
  return offset;
}

/** Hands out `n` bytes read at the current offset as a Buffer the caller may keep. */
export function takeRead(n: number): Buffer {
  if (n < COPY_BELOW) {
    // The slab space is not consumed: the next read reuses it.
    const copy = Buffer.allocUnsafe(n);
    slab!.copy(copy, 0, offset, offset + n);
    return copy;
  }
  const view = slab!.subarray(offset, offset + n);
  offset = (offset + n + 7) & ~7; // keep views 8-byte aligned
  return view;
}

/** True for a view of slab memory: never rewritten, so a write queue may keep it without a copy. */
export function isReadSlabView(bytes: Uint8Array): boolean {
  return slabMemory.has(bytes.buffer);
}
