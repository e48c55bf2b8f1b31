// The read slab lives in the loop layer, whose batched wait reads into it (loop/pre-reads.ts).
export { isReadSlabView, readSlab, readSlabOffset, takeRead } from '../loop/read-slab.js';
