// asyncio's StreamReader: a buffer fed by a protocol, read with promises. The semantics follow
// CPython's Lib/asyncio/streams.py (3.12): read(-1) reads to EOF in chunks of `limit`; readLine
// returns the partial last line at EOF; readUntil reports LimitOverrunError with `consumed` and
// leaves the data buffered; readExactly rejects IncompleteReadError with `partial` at EOF. The
// transport is paused while more than 2 × limit bytes wait, and resumed by any read that has to
// wait (python/asyncio#99: readExactly(n > 2 × limit) must not deadlock).
import type { Transport } from './stream-transport.js';
import { ValueError } from '../select/errors.js';
import { abortReason, onAbort, signalOf, type AbortOptions } from './abort.js';
import { IncompleteReadError, LimitOverrunError, readBusy } from './stream-errors.js';

export const DEFAULT_LIMIT = 64 * 1024;
const NEWLINE = Buffer.from('\n');
const EMPTY = Buffer.alloc(0);

export type Separator = Uint8Array | string;

/** The options' signal; rejects at once when it has already aborted (nothing is read then). */
function liveSignal(options: AbortOptions | undefined): AbortSignal | undefined {
  const signal = signalOf(options);
  if (signal?.aborted) throw abortReason(signal);
  return signal;
}

function toSeparator(sep: Separator): Buffer {
  if (typeof sep === 'string') return Buffer.from(sep);
  if (sep instanceof Uint8Array) return Buffer.from(sep.buffer, sep.byteOffset, sep.byteLength);
  throw new TypeError('separator must be a string, a Uint8Array, or an array of them');
}

export class StreamReader implements AsyncIterable<Buffer> {
  readonly limit: number;
  // Unread bytes: the chunks as fed (no copy on the way in), the first one from `head` on. A read
  // inside the first chunk is a view of it; only a search or read across chunks joins them.
  private chunks: Buffer[] = [];
  private head = 0;
  private size = 0;
  /** Where joined chunks live (see contiguous()); null until a read spans chunks. */
  private joinStore: Buffer | null = null;
  private eof = false;
  private error: Error | null = null;
  private transport: Transport | null = null;
  private paused = false;
  /** The one read waiting for data (or EOF, or an error). */
  private waiter: ((err: Error | null) => void) | null = null;

  constructor(options: { limit?: number } = {}) {
    const limit = options.limit ?? DEFAULT_LIMIT;
    // Stryker disable next-line ConditionalExpression: the typeof test only makes the intent plain; Number.isInteger is false for every non-number
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit <= 0) throw new ValueError(`limit must be a positive integer, got ${String(limit)}`);
    this.limit = limit;
  }

  /** Bytes buffered and not yet read. */
  get bufferedBytes(): number {
    return this.size;
  }

  /** The error the connection failed with, or null. */
  exception(): Error | null {
    return this.error;
  }

  /** True once EOF was fed and every byte has been read. */
  atEof(): boolean {
    return this.eof && this.size === 0;
  }

  // ---- fed by the protocol ---------------------------------------------------------------------

  /** @internal */
  setTransport(transport: Transport): void {
    if (this.transport !== null) throw new Error('StreamReader already has a transport');
    this.transport = transport;
  }

  /** Appends data, which is kept as it is (don't change it afterwards); pauses the transport above 2 × limit unread bytes. */
  feedData(data: Uint8Array): void {
    if (this.eof) throw new Error('feedData() after feedEof()');
    if (data.length === 0) return;
    this.chunks.push(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this.size += data.length;
    this.wake(null);
    if (this.transport !== null && !this.paused && this.size > 2 * this.limit) {
      this.paused = true;
      this.transport.pauseReading();
    }
  }

  feedEof(): void {
    this.eof = true;
    this.wake(null);
  }

  /** The connection failed: the waiting read and every later one reject with err. */
  setException(err: Error): void {
    this.error = err;
    this.wake(err);
  }

  // ---- reading -------------------------------------------------------------------------------

  /**
   * Up to n bytes (at least one unless at EOF). n = -1 (the default) reads until EOF. At EOF an
   * empty Buffer. Aborting read(-1) puts back what it had collected.
   */
  async read(n = -1, options?: AbortOptions): Promise<Buffer> {
    const signal = liveSignal(options);
    // Stryker disable next-line ConditionalExpression: the typeof test only makes the intent plain; Number.isInteger is false for every non-number
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new TypeError(`n must be an integer, got ${String(n)}`);
    this.throwIfFailed();
    if (n === 0) return EMPTY;
    // Stryker disable next-line EqualityOperator: n === 0 returned just above
    if (n < 0) {
      // In chunks of limit, so the transport keeps flowing past 2 × limit (python/asyncio#168).
      const blocks: Buffer[] = [];
      try {
        for (;;) {
          const block = await this.read(this.limit, options);
          if (block.length === 0) return Buffer.concat(blocks);
          blocks.push(block);
        }
      } catch (err) {
        if (blocks.length > 0) this.unread(Buffer.concat(blocks));
        throw err;
      }
    }
    if (this.size === 0 && !this.eof) await this.waitForData('read', signal);
    return this.take(Math.min(n, this.size));
  }

  /** Through the next '\n' (included); the rest at EOF; an empty Buffer at EOF with nothing left. */
  async readLine(options?: AbortOptions): Promise<Buffer> {
    try {
      return await this.readUntil(NEWLINE, options);
    } catch (err) {
      if (err instanceof IncompleteReadError) return err.partial;
      if (err instanceof LimitOverrunError) {
        // As asyncio: the over-long line is dropped, with its separator if it had arrived.
        const view = this.contiguous();
        const newlineCame =
          // Stryker disable next-line ConditionalExpression,EqualityOperator: view[consumed] is undefined past the end, so this bound only makes the intent plain
          err.consumed < view.length &&
          view[err.consumed] === 0x0a;
        this.discard(newlineCame ? err.consumed + 1 : view.length);
        throw new ValueError(err.message);
      }
      throw err;
    }
  }

  /**
   * Through the separator (included). An array gives several separators; the earliest match wins
   * (an array, not any iterable: a Uint8Array is one separator, cpython#117722). More than `limit`
   * bytes before the separator: LimitOverrunError, data left buffered. EOF first:
   * IncompleteReadError with the rest (the buffer is then empty).
   */
  async readUntil(separator: Separator | Separator[] = NEWLINE, options?: AbortOptions): Promise<Buffer> {
    const signal = liveSignal(options);
    const seps = Array.isArray(separator) ? separator.map(toSeparator) : [toSeparator(separator)];
    if (seps.length === 0 || seps.some((s) => s.length === 0)) throw new ValueError('separator must not be empty');
    const minLen = Math.min(...seps.map((s) => s.length));
    const maxLen = Math.max(...seps.map((s) => s.length));
    this.throwIfFailed();
    // Where the next search starts, relative to `start`: a separator can straddle the boundary
    // with new data, so back off by (its length - 1) (python/asyncio#297: the +1 matters).
    let offset = 0;
    let matchAt = -1;
    let matchLen = 0;
    for (;;) {
      const buflen = this.size;
      // Stryker disable next-line ConditionalExpression,ArithmeticOperator: only skips a search that cannot match (it skips only when no byte came since the last one)
      if (buflen - offset >= minLen) {
        const view = this.contiguous();
        for (const sep of seps) {
          const i = view.indexOf(sep, offset);
          if (i !== -1 && (matchAt === -1 || i < matchAt)) {
            matchAt = i;
            matchLen = sep.length;
          }
        }
        if (matchAt !== -1) break;
        offset = Math.max(0, buflen + 1 - maxLen);
        if (offset > this.limit) throw new LimitOverrunError('Separator is not found, and chunk exceed the limit', offset);
      }
      if (this.eof) {
        throw new IncompleteReadError(this.take(this.size), null);
      }
      await this.waitForData('readUntil', signal);
    }
    if (matchAt > this.limit) throw new LimitOverrunError('Separator is found, but chunk is longer than limit', matchAt);
    return this.take(matchAt + matchLen);
  }

  /** Exactly n bytes; at EOF first, IncompleteReadError with what arrived (then the buffer is empty). */
  async readExactly(n: number, options?: AbortOptions): Promise<Buffer> {
    const signal = liveSignal(options);
    // Stryker disable next-line ConditionalExpression: the typeof test only makes the intent plain; Number.isInteger is false for every non-number
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new ValueError(`readExactly size must be a non-negative integer, got ${String(n)}`);
    this.throwIfFailed();
    // Stryker disable next-line ConditionalExpression: a shortcut: with n = 0 the loop below never waits and take(0) is EMPTY
    if (n === 0) return EMPTY;
    while (this.size < n) {
      if (this.eof) throw new IncompleteReadError(this.take(this.size), n);
      await this.waitForData('readExactly', signal);
    }
    return this.take(n);
  }

  /** Lines until EOF: `for await (const line of reader)`. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      const line = await this.readLine();
      if (line.length === 0) return;
      yield line;
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  private throwIfFailed(): void {
    if (this.error !== null) throw this.error;
  }

  private waitForData(what: string, signal: AbortSignal | undefined): Promise<void> {
    if (this.waiter !== null) return Promise.reject(readBusy(what));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    // A read that must wait resumes a paused transport, or a read longer than 2 × limit would
    // wait forever (python/asyncio#99).
    if (this.paused) {
      this.paused = false;
      this.transport?.resumeReading();
    }
    return new Promise<void>((resolve, reject) => {
      let stopListening: (() => void) | null = null;
      this.waiter = (err) => {
        this.waiter = null;
        stopListening?.();
        if (err !== null) reject(err);
        else resolve();
      };
      if (signal !== undefined) {
        stopListening = onAbort(signal, () => {
          this.waiter = null;
          reject(abortReason(signal));
        });
      }
    });
  }

  private wake(err: Error | null): void {
    this.waiter?.(err);
  }

  /**
   * The unread bytes as one Buffer. Joining goes into a store with spare room that later joins
   * append to, so a line trickling in byte by byte costs linear time, not quadratic.
   */
  private contiguous(): Buffer {
    const chunks = this.chunks;
    if (chunks.length === 0) return EMPTY;
    if (chunks.length > 1) {
      const first = chunks[0]!;
      const store = this.joinStore;
      const firstEnd = first.byteOffset + first.length;
      let joined: Buffer;
      if (store !== null && first.buffer === store.buffer && firstEnd + this.size - (first.length - this.head) <= store.byteOffset + store.length) {
        // The first chunk is the store's filled part: copy only the new chunks after it. Bytes
        // past its end were never handed out, so writing there changes no one's view.
        // Stryker disable next-line ArithmeticOperator: store.byteOffset is 0 (allocUnsafeSlow gives the store an ArrayBuffer of its own)
        let at = firstEnd - store.byteOffset;
        for (let i = 1; i < chunks.length; i++) at += chunks[i]!.copy(store, at);
        // Stryker disable next-line ArithmeticOperator: store.byteOffset is 0, as above
        const firstAt = first.byteOffset - store.byteOffset;
        joined = store.subarray(firstAt + this.head, at);
      } else {
        const fresh = Buffer.allocUnsafeSlow(Math.max(2 * this.size, 4096));
        let at = first.copy(fresh, 0, this.head);
        for (let i = 1; i < chunks.length; i++) at += chunks[i]!.copy(fresh, at);
        this.joinStore = fresh;
        joined = fresh.subarray(0, at);
      }
      this.chunks = [joined];
      this.head = 0;
    }
    return this.chunks[0]!.subarray(this.head);
  }

  /** Puts bytes back in front of the buffer (an aborted read(-1)). */
  private unread(data: Buffer): void {
    if (this.head > 0) {
      this.chunks[0] = this.chunks[0]!.subarray(this.head);
      this.head = 0;
    }
    this.chunks.unshift(data);
    this.size += data.length;
  }

  /** Removes and returns the first n buffered bytes: a view when they lie in one chunk. */
  private take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const first = this.chunks[0]!;
    const out = first.length - this.head >= n ? first.subarray(this.head, this.head + n) : this.contiguous().subarray(0, n);
    this.discard(n);
    return out;
  }

  /** Drops the first n buffered bytes. */
  private discard(n: number): void {
    this.size -= n;
    let left = n + this.head;
    let i = 0;
    while (i < this.chunks.length && left >= this.chunks[i]!.length) left -= this.chunks[i++]!.length;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: splice(0, 0) removes nothing
    if (i > 0) this.chunks.splice(0, i);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: with every chunk gone left is 0 (n <= size)
    this.head = this.chunks.length > 0 ? left : 0;
    this.maybeResume();
  }

  private maybeResume(): void {
    if (this.paused && this.size <= this.limit) {
      this.paused = false;
      this.transport?.resumeReading();
    }
  }
}
