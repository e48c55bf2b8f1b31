// One read slab per thread, shared by every socket and transport: reads land in it and are handed
// out as views, which stay valid because a slab is only ever replaced, never rewritten. An idle
// connection therefore costs no read buffer at all, and a read allocates nothing but the view.

const SLAB_SIZE = 256 * 1024;

let slab: Buffer | null = null;
let offset = 0;
const slabMemory = new WeakSet<ArrayBufferLike>();

/** A slab with at least `min` free bytes from `readSlabOffset()` on. */
export function readSlab(min: number): Buffer {
  if (slab === null || SLAB_SIZE - offset < min) {
    slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, min));
    slabMemory.add(slab.buffer);
    offset = 0;
  }
  return slab;
}

export function readSlabOffset(): number {
  return offset;
}

/** Hands out `n` bytes read at the current offset as a view the caller may keep. */
export function takeRead(n: number): Buffer {
  const view = slab!.subarray(offset, offset + n);
  offset = (offset + n + 7) & ~7; // keep views 8-byte aligned
  return view;
}

/** True for a view of slab memory: never rewritten, so a write queue may keep it without a copy. */
export function isReadSlabView(bytes: Uint8Array): boolean {
  return slabMemory.has(bytes.buffer);
}
