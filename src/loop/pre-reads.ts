// Batched reads: the Reactor's wait also reads every ready fd whose reader asked for it into the
// thread's read slab, in the same native call (cpp/batch_io.h), so a message costs no crossing of
// its own. A reader handle asks by being a PreReadHandle; its callback claims the bytes with
// reactor.takePreRead(fd). Per-fd state sits in typed arrays indexed by fd: nothing per event.
import { native } from '../select/native.js';
import type { BaseSelector, PreReadRequest } from '../selectors/index.js';
import { readSlab, readSlabOffset, releaseReadSlab, reserveReadSlab, takeBatchRead } from './read-slab.js';

/** takePreRead's answer when the wait did not read the fd (the callback reads it itself). */
export const NOT_READ: number = native.NOT_READ;

/** Slab room the batch starts with (what a plain read gets). */
const MIN_ROOM = 64 * 1024;
/**
 * Room a later read of the batch still gets: less than a plain read (a long message may come in
 * one more piece), but a batch of 4 KiB echoes no longer runs out of slab and leaves fds to plain
 * reads, each a crossing of its own (callgrind, 50 × 4 KiB echo: 21 % fewer instructions per round trip).
 */
const MIN_BATCH_ROOM = 16 * 1024;
/**
 * After a read this large the wait leaves the remaining ready fds to their callbacks: large data is
 * used (echoed) while still in cache instead of after everything else was read, and its crossing
 * is small beside its copy. (A total budget of 64 KiB per wait instead cost 50 × 4 KiB echoes half
 * their gain: callgrind, 3 106 -> 4 797 instructions per round trip.)
 */
const LARGE_READ = 16 * 1024;

/** How a marked fd is read: 1 a socket (recv), 2 anything else (read). */
export type PreReadKind = 0 | 1 | 2;

const NO_MARKS = new Uint8Array(0);
const NO_INT32S = new Int32Array(0);

export class PreReads implements PreReadRequest {
  marks = NO_MARKS;
  offsets = NO_INT32S;
  results = NO_INT32S;
  /** The slab of the last batch: its results point into it even after the slab is replaced. */
  slab: Buffer = Buffer.alloc(0);
  /** [0]: where the wait reads next in the slab (in/out); [1]: how many fds it read (out); [2]: LARGE_READ (in). */
  readonly cursor = Int32Array.of(0, 0, LARGE_READ);
  readonly minRoom = MIN_BATCH_ROOM;
  private marked = 0;
  /** Results read but neither claimed nor dropped yet. */
  private unclaimed = 0;
  private claimedAt = 0;

  /** True while some fd is marked: the reactor's wait then reads. */
  get active(): boolean {
    return this.marked > 0;
  }

  /** Marks fd to be read by the wait as `kind` (0: not read). A result not yet claimed is kept. */
  mark(fd: number, kind: PreReadKind): void {
    if (fd >= this.marks.length) {
      if (kind === 0) return;
      this.grow(fd);
    }
    const was = this.marks[fd]!;
    if ((was === 0) !== (kind === 0)) this.marked += kind === 0 ? -1 : 1;
    this.marks[fd] = kind;
  }

  /** Stops reading fd in the wait; a result it left unclaimed is dropped (the reader is gone). */
  unmark(fd: number): void {
    if (fd >= this.marks.length) return;
    this.mark(fd, 0);
    if (this.results[fd] !== NOT_READ) {
      this.results[fd] = NOT_READ;
      this.unclaimed--;
    }
  }

  /** Waits as selector.selectReady does, reading the marked ready fds into the read slab. */
  wait(selector: BaseSelector<unknown>, timeoutMs: number, maxEvents: number): number {
    const slab = readSlab(MIN_ROOM);
    const start = readSlabOffset();
    const cursor = this.cursor;
    this.slab = slab;
    cursor[0] = start;
    const n = selector.selectReadyPreRead(timeoutMs, this, maxEvents);
    this.unclaimed += cursor[1]!;
    if (cursor[0]! > start) reserveReadSlab(cursor[0]!);
    return n;
  }

  /** The wait's result for fd (bytes read, 0 at EOF, -errno) or NOT_READ; claims it. */
  take(fd: number): number {
    if (fd >= this.results.length) return NOT_READ;
    const result = this.results[fd]!;
    if (result === NOT_READ) return NOT_READ;
    this.results[fd] = NOT_READ;
    this.unclaimed--;
    this.claimedAt = this.offsets[fd]!;
    return result;
  }

  /** The n bytes of the result take() just returned, as a Buffer the caller may keep. */
  bytes(n: number): Buffer {
    return takeBatchRead(this.slab, this.claimedAt, n);
  }

  /** After the iteration's callbacks: the slab space of copied-out reads is reused; unclaimed results are dropped. */
  endIteration(): void {
    releaseReadSlab();
    if (this.unclaimed === 0) return;
    // Only a reader replaced or cancelled by hand (not through removeReader) leaves one.
    this.results.fill(NOT_READ);
    this.unclaimed = 0;
  }

  private grow(fd: number): void {
    const size = Math.max(64, 2 * (fd + 1));
    const marks = new Uint8Array(size);
    marks.set(this.marks);
    const offsets = new Int32Array(size);
    offsets.set(this.offsets);
    const results = new Int32Array(size).fill(NOT_READ);
    results.set(this.results);
    this.marks = marks;
    this.offsets = offsets;
    this.results = results;
  }
}
