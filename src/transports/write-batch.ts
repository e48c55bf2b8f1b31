// Writes a stream transport issues while its reactor runs an iteration's callbacks are staged
// here and sent together at the end of the iteration: one native call (sendBatch) for every
// socket, instead of one per write. Bytes are copied into a staging area, except the read slab's
// last view (an echo of what was just read): the slab is never rewritten, so it is sent from there. Only a write that would have gone out at once is staged
// (nothing queued, not connecting, default water marks, at most STAGE_MAX < DEFAULT_HIGH bytes), so the
// unsent rest of one can never pass the high-water mark: flow control sees what it saw before,
// a little later. Whatever must see such a write sent (another write, writeEof, close, abort,
// getWriteBufferSize, setWriteBufferLimits) sends it first with flushOne().
import { native } from '../select/native.js';
import type { Reactor } from '../loop/reactor.js';
import { DEFAULT_HIGH } from './write-flow.js';
import { lastViewOffsetIn, slabOfLastView } from '../loop/read-slab.js';

/** A transport whose writes can be staged. */
export interface BatchWriter {
  /** Its staged write left: `result` is the bytes sent or -errno; the rest is source[offset + max(result, 0), offset + length). */
  batchSent(result: number, source: Buffer, offset: number, length: number): void;
}

const STAGING_SIZE = 256 * 1024;
/** Larger writes go out at once, while what they send is still in cache (paired runs, bulk echo: 0.66-0.75x the CPU per MB of staging up to 64 KiB with unbounded pre-reads). */
const STAGE_MAX = Math.min(16 * 1024, DEFAULT_HIGH);
const ENTRY_INT32S = 5; // fd, source (0 staging, 1 slab), offset, length, result
const FROM_STAGING = 0;
const FROM_SLAB = 1;

const EMPTY = Buffer.alloc(0);

class WriteBatch {
  private staging: Buffer | null = null;
  /** The read slab that this batch's slab entries point into (the first one's). */
  private slab: Buffer | null = null;
  private entries = new Int32Array(64 * ENTRY_INT32S);
  private writers: (BatchWriter | null)[] = [];
  private count = 0;
  private used = 0;
  /** sendBatch ran: the entries' results are in, being handed out. */
  private sent = false;
  private readonly flushAll = (): void => this.flush();

  /** Stages bytes for socket fd, to be sent when `reactor`'s iteration ends; false if they must be sent now. */
  add(writer: BatchWriter, fd: number, bytes: Uint8Array, reactor: Reactor): boolean {
    const length = bytes.length;
    if (this.sent || length > STAGE_MAX || !reactor.isDispatching()) return false;
    // The view just read is sent from the slab (one slab per batch); anything else is copied.
    let source = FROM_STAGING;
    const slab = slabOfLastView(bytes);
    if (slab !== null && (this.slab === null || this.slab === slab)) {
      source = FROM_SLAB;
      this.slab = slab;
    } else if (this.used + length > STAGING_SIZE) {
      return false;
    }
    // The first staged write of a batch: its reactor's iteration end sends them all. (Writes of
    // another reactor nested inside that iteration ride along: they go at its end, still in order.)
    if (this.count === 0) reactor.atIterationEnd(this.flushAll);
    const i = this.count++;
    if ((i + 1) * ENTRY_INT32S > this.entries.length) {
      const bigger = new Int32Array(this.entries.length * 2);
      bigger.set(this.entries);
      this.entries = bigger;
    }
    const e = i * ENTRY_INT32S;
    const entries = this.entries;
    entries[e] = fd;
    entries[e + 1] = source;
    entries[e + 3] = length;
    if (source === FROM_SLAB) {
      entries[e + 2] = lastViewOffsetIn();
    } else {
      const staging = (this.staging ??= Buffer.allocUnsafeSlow(STAGING_SIZE));
      entries[e + 2] = this.used;
      staging.set(bytes, this.used);
      this.used += length;
    }
    this.writers[i] = writer;
    return true;
  }

  /** Sends everything staged and tells each writer how its write went. */
  flush(): void {
    const count = this.count;
    if (count === 0) return;
    const entries = this.entries;
    try {
      native.sendBatch(entries, count, this.staging ?? EMPTY, this.slab ?? EMPTY);
      this.sent = true;
      // A writer told here may close another before its turn: flushOne() then tells that one.
      for (let i = 0; i < count; i++) {
        if (entries[i * ENTRY_INT32S]! >= 0) this.report(i);
      }
    } finally {
      // A loop, not fill(): Array.prototype.fill is a C++ builtin, ~1 % of a small-message echo.
      const writers = this.writers;
      for (let i = 0; i < count; i++) writers[i] = null;
      this.slab = null;
      this.count = 0;
      this.used = 0;
      this.sent = false;
    }
  }

  /** Sends writer's staged write now (if sendBatch has not already) and tells it the outcome. */
  flushOne(writer: BatchWriter): void {
    const entries = this.entries;
    for (let i = this.count - 1; i >= 0; i--) {
      const e = i * ENTRY_INT32S;
      if (this.writers[i] !== writer || entries[e]! < 0) continue;
      if (!this.sent) entries[e + 4] = native.send(entries[e]!, this.sourceOf(e), entries[e + 2]!, entries[e + 3]!, 0);
      return this.report(i);
    }
  }

  private report(i: number): void {
    const e = i * ENTRY_INT32S;
    const entries = this.entries;
    const writer = this.writers[i]!;
    entries[e] = -1; // told: skipped from now on
    this.writers[i] = null;
    writer.batchSent(entries[e + 4]!, this.sourceOf(e), entries[e + 2]!, entries[e + 3]!);
  }

  private sourceOf(e: number): Buffer {
    return this.entries[e + 1] === FROM_SLAB ? this.slab! : this.staging!;
  }
}

/** One per thread, as the read slab: at most one reactor iteration runs at a time on it. */
export const writeBatch = new WriteBatch();
