// A stream transport over a non-blocking fd (TCP, Unix socket, or one end of a pipe): asyncio's
// _SelectorSocketTransport. Reads go into the thread's shared read slab (read-slab.ts), handed to
// the protocol as views it may keep; writes go out at once when nothing is queued, otherwise queue and leave in one writev per
// writable event. Every failure takes one path (fatalError -> forceClose -> connectionLost).
import { EventEmitter } from 'eventemitter3';
import { native } from '../select/native.js';
import { osError, isWouldBlock, ERRNO, ValueError } from '../select/errors.js';
import { NOT_READ, PreReadHandle, type Reactor, type ReactorResource } from '../loop/reactor.js';
import type { PreReadKind } from '../loop/pre-reads.js';
import { reactorClosed } from '../loop/errors.js';
import { Handle, NO_ARGS } from '../loop/handle.js';
import { trackUnclosed, untrackUnclosed, warnUnclosed } from '../loop/debug.js';
import { EVENT_READ } from '../selectors/index.js';
import { SHUT_WR } from './constants.js';
import { DEFAULT_HIGH, DEFAULT_LOW, tellProtocol, waterMarks } from './write-flow.js';
import { isBufferedProtocol, type AnyProtocol, type BufferedProtocol, type Protocol } from './protocols.js';
import { toBytes } from '../select/fds.js';
import { isReadSlabView, readSlab, readSlabOffset, takeRead } from './read-slab.js';
import { TransportSocket } from './transport-socket.js';
import { writeBatch, type BatchWriter } from './write-batch.js';

const MIN_READ = 64 * 1024;
const NEG_ECONNRESET = -ERRNO.ECONNRESET;
const NEG_EPIPE = -ERRNO.EPIPE;

/** Water marks and the hard limit (bytes): a write that takes the buffer past max fails the transport. */
interface WriteLimits {
  readonly high: number;
  readonly low: number;
  readonly max: number;
}

const DEFAULT_LIMITS: WriteLimits = Object.freeze({ high: DEFAULT_HIGH, low: DEFAULT_LOW, max: Infinity });

export type TransportKind = 'socket' | 'read-pipe' | 'write-pipe';

export interface TransportExtra {
  peername?: unknown;
  sockname?: unknown;
  socket?: unknown;
  pipe?: number;
  [key: string]: unknown;
}

/** @internal The transport failed because its write buffer passed the hard limit (setWriteBufferLimits({ max })). */
export function writeBufferFull(queued: number, max: number): Error {
  const err = new Error(`write buffer of ${queued} bytes is above its limit of ${max} (the protocol kept writing after pauseWriting())`) as Error & { code: string };
  err.code = 'ERR_WRITE_BUFFER_FULL';
  return err;
}

/** Error for writing to a transport that is closing or closed. */
export function transportClosedError(what: string): Error {
  const err = new Error(`${what}: the transport is closing or closed`) as Error & { code: string };
  err.code = 'ERR_TRANSPORT_CLOSED';
  return err;
}

// Transport state bits, packed in one field: an idle connection's footprint is what matters when
// a server holds many thousands of them.
const BUFFERED = 1 << 0; // the protocol is a BufferedProtocol
const PROTOCOL_PAUSED = 1 << 1; // pauseWriting() was called, resumeWriting() not yet
const READING = 1 << 2; // the fd is watched for reading
const READ_PAUSED = 1 << 3; // pauseReading() by the user
const CLOSING = 1 << 4;
const EOF_PENDING = 1 << 5; // writeEof() waits for the buffer to drain
const EOF_SENT = 1 << 6;
const LOST_CALLED = 1 << 7; // connectionLost ran
const WATCH_READER_GONE = 1 << 8; // a FIFO write end: its read-readiness means the reader is gone
const CONNECTING = 1 << 9; // a non-blocking connect (or the name lookup before it) is under way: writes queue, nothing is sent
const MADE = 1 << 10; // connectionMade ran
const WRITE_STAGED = 1 << 11; // a write waits in the write batch (write-batch.ts) for the iteration's end
const READS_ITSELF = 1 << 12; // large reads came: the wait does not read for this transport (see readReady)

/**
 * A read at least this large turns the wait's reads off for its transport until a smaller one
 * comes: the wait gives each read little slab room, and bulk data read that way cost 1.4× the CPU
 * per MB of reading it whole (paired bulk echo, 8 connections).
 */
const LARGE_READ = 16 * 1024;

/**
 * The reader handle of a transport: it holds the transport in a field, so watching a connection
 * costs no closure and no args array (a server may hold many thousands of idle ones).
 */
class ReadReadyHandle extends PreReadHandle {
  constructor(
    private readonly transport: Transport,
    owner: Reactor,
  ) {
    super(readReady, NO_ARGS, owner);
  }

  // A BufferedProtocol reads straight into its own buffer, a write pipe's "readable" means its
  // reader is gone: neither is read by the wait.
  get preReadKind(): PreReadKind {
    const t = this.transport;
    if (t.kind === 'write-pipe' || t.readsItself() || isBufferedProtocol(t.getProtocol())) return 0;
    return t.kind === 'socket' ? 1 : 2;
  }

  override run(): void {
    if (this.cancelled) return;
    try {
      this.transport['readReady']();
    } catch (err) {
      this.owner.runHandleFailed(this, err);
    }
  }
}

function readReady(): void {
  // Named for error reports; ReadReadyHandle.run does the work.
}

/** What the wait read for a transport that paused its reads before it could take it: bytes, 0 (EOF) or -errno. */
const heldReads = new WeakMap<Transport, Buffer | number>();

/**
 * A transport's write state beyond "nothing waits, default limits": made the first time a write
 * has to wait or limits are set, then kept. Most connections never need one: one field of the
 * transport instead of five.
 */
class WriteQueue {
  /** Unsent data. */
  chunks: Uint8Array[] = [];
  /** Bytes of chunks[0] already sent. */
  head = 0;
  bytes = 0;
  /** Set by setWriteBufferLimits(); null means the defaults. */
  limits: WriteLimits | null = null;
  onWritable: (() => void) | null = null;
}

export class Transport extends EventEmitter implements ReactorResource, BatchWriter {
  private fd: number;
  private protocol: AnyProtocol;
  private flags = 0;
  private out: WriteQueue | null = null;

  constructor(
    private readonly reactor: Reactor,
    fd: number,
    protocol: AnyProtocol,
    readonly kind: TransportKind,
    /** Extra info given at creation, and peername/sockname once asked for; null until then. */
    private extra: TransportExtra | null = null,
    /** Told after the close, with the fd the transport had. */
    private readonly onClose?: (t: Transport, fd: number) => void,
  ) {
    super();
    this.fd = fd;
    this.protocol = protocol;
    this.buffered = isBufferedProtocol(protocol);
    reactor.addResource(this, fd);
    // Debug mode: reported if collected unclosed, which happens with its reactor (which holds every
    // live transport) dropped without close().
    if (reactor.getDebug()) trackUnclosed(this, { description: `<Transport ${kind} fd=${fd}>`, report: warnUnclosed });
  }

  private get isSocket(): boolean {
    return this.kind === 'socket';
  }

  private get queuedBytes(): number {
    const out = this.out;
    return out === null ? 0 : out.bytes;
  }

  private get limits(): WriteLimits | null {
    const out = this.out;
    return out === null ? null : out.limits;
  }

  private writeQueue(): WriteQueue {
    return (this.out ??= new WriteQueue());
  }

  // State bits as boolean properties over `flags` (defined below the class).
  declare private buffered: boolean;
  declare private protocolPaused: boolean;
  declare private reading: boolean;
  declare private readPaused: boolean;
  declare private closing: boolean;
  declare private eofPending: boolean;
  declare private eofSent: boolean;
  declare private lostCalled: boolean;
  declare private connecting: boolean;
  declare private made: boolean;

  /** @internal Starts the connection: connectionMade, then reading (next iteration, as asyncio). */
  start(): void {
    this.reactor.callSoon(() => {
      // connectionMade even if close() came first: connectionLost (queued after us) must follow it.
      if (this.lostCalled) return;
      this.made = true;
      try {
        this.protocol.connectionMade?.(this);
      } catch (err) {
        // As asyncio: reported, and the transport closes (connectionLost(err) follows).
        return this.fatalError(err, 'Fatal error: protocol.connectionMade() call failed.');
      }
      if (this.flags & WATCH_READER_GONE) {
        if (!this.closing) this.watchReadable();
      } else {
        this.startReading();
      }
    });
  }

  /** @internal A non-blocking connect is under way: write() queues until connected() (or the failure). */
  waitForConnect(): void {
    this.connecting = true;
  }

  /** @internal The connect completed: connectionMade follows, and what write() queued meanwhile goes out. */
  connected(): void {
    this.connecting = false;
    if (this.lostCalled) return;
    this.start();
    if (this.queuedBytes > 0) this.watchWritable();
    else if (this.eofPending) this.sendEof();
  }

  /** @internal While connecting (after a name lookup): use another socket of the resolved family, closing ours. */
  replaceFd(fd: number): void {
    this.reactor.removeResource(this, this.fd);
    native.close(this.fd);
    this.fd = fd;
    this.reactor.addResource(this, fd);
  }

  /** @internal For the write end of a FIFO: close as soon as its reader is gone. */
  watchForReaderGone(): void {
    this.flags |= WATCH_READER_GONE;
  }

  // The write end of a FIFO became "readable": the kernel reports an error there once no reader
  // is left. Pending data can no longer go anywhere: that is an EPIPE; otherwise a plain close.
  private readerGone(): void {
    this.reactor.removeReader(this.fd); // level-triggered: it would fire again until the close
    if (this.queuedBytes > 0) this.fatalError(osError(NEG_EPIPE, 'write'), 'Fatal write error on pipe transport');
    else this.forceClose(null);
  }

  // ---- reading -------------------------------------------------------------------------------

  // readPaused is the user's choice (pauseReading in connectionMade must stick, as in asyncio);
  // reading is whether the fd is watched.
  pauseReading(): void {
    if (this.closing || this.readPaused) return;
    this.readPaused = true;
    if (this.reading) {
      this.reading = false;
      // The wait may already have read for us this iteration: kept for resumeReading().
      const result = this.reactor.takePreRead(this.fd);
      if (result !== NOT_READ) heldReads.set(this, result > 0 ? this.reactor.preReadBytes(result) : result);
      this.reactor.removeReader(this.fd);
    }
  }

  resumeReading(): void {
    if (this.closing || !this.readPaused) return;
    this.readPaused = false;
    this.startReading();
    if (heldReads.has(this)) this.reactor.callSoon(() => this.deliverHeldRead());
  }

  /** What the wait read before pauseReading(), now that reading resumed (unless paused again or closed). */
  private deliverHeldRead(): void {
    if (!this.reading || this.closing) return;
    const held = heldReads.get(this);
    if (held === undefined) return;
    heldReads.delete(this);
    if (typeof held === 'number') this.readDone(held, null);
    else this.readDone(held.length, held);
  }

  private startReading(): void {
    if (this.closing || this.readPaused || this.reading || this.kind === 'write-pipe') return;
    this.reading = true;
    this.watchReadable();
  }

  // A selector can refuse an fd that exists (SelectSelector past FD_SETSIZE, epoll on /dev/null:
  // EPERM): the transport then fails through its one path instead of staying open unwatched.
  private watchReadable(): void {
    try {
      this.reactor.watchFd(this.fd, EVENT_READ, new ReadReadyHandle(this, this.reactor));
    } catch (err) {
      this.reading = false;
      this.fatalError(err, 'Fatal error: the selector cannot watch the transport for reading');
    }
  }

  private watchWritable(): boolean {
    try {
      const out = this.writeQueue();
      this.reactor.addWriter(this.fd, (out.onWritable ??= (): void => this.writeReady()));
      return true;
    } catch (err) {
      this.fatalError(err, 'Fatal error: the selector cannot watch the transport for writing');
      return false;
    }
  }

  isReading(): boolean {
    return this.kind !== 'write-pipe' && !this.readPaused && !this.closing;
  }

  /** @internal The wait does not read for this transport (large reads came; see LARGE_READ). */
  readsItself(): boolean {
    return (this.flags & READS_ITSELF) !== 0;
  }

  private readReady(): void {
    if (this.kind === 'write-pipe') return this.readerGone();
    const result = this.reactor.takePreRead(this.fd);
    if (result !== NOT_READ) {
      if (result >= LARGE_READ) {
        this.flags |= READS_ITSELF;
        this.reactor.setPreRead(this.fd, 0);
      }
      return this.readDone(result, result > 0 ? this.reactor.preReadBytes(result) : null);
    }
    if (this.buffered) return this.readIntoProtocol(this.protocol as BufferedProtocol);
    const slab = readSlab(MIN_READ);
    const start = readSlabOffset();
    const n = this.isSocket
      ? native.recv(this.fd, slab, start, slab.length - start, 0)
      : native.read(this.fd, slab, start, slab.length - start);
    if (n < LARGE_READ && this.flags & READS_ITSELF) {
      this.flags &= ~READS_ITSELF;
      this.reactor.setPreRead(this.fd, this.isSocket ? 1 : 2);
    }
    this.readDone(n, n > 0 ? takeRead(n) : null);
  }

  /** The outcome of a read, ours or the wait's: n bytes (`data`), 0 at EOF, or -errno. */
  private readDone(n: number, data: Buffer | null): void {
    if (n > 0) {
      if (this.buffered) return this.copyIntoProtocol(this.protocol as BufferedProtocol, data!);
      try {
        (this.protocol as Protocol).dataReceived?.(data!);
      } catch (err) {
        return this.fatalError(err, 'Fatal error: protocol.dataReceived() call failed.');
      }
      if (this.hasDataListener()) this.emit('data', data);
    } else if (n === 0) {
      this.readEof();
    } else if (!isWouldBlock(n)) {
      this.fatalError(osError(n, this.isSocket ? 'recv' : 'read'), 'Fatal read error on transport');
    }
  }

  /** Bytes read before the protocol became a BufferedProtocol (setProtocol), through its buffers. */
  private copyIntoProtocol(protocol: BufferedProtocol, data: Buffer): void {
    for (let at = 0; at < data.length; ) {
      let n: number;
      try {
        const buf = protocol.getBuffer(data.length - at);
        if (!(buf instanceof Uint8Array) || buf.length === 0) throw new ValueError('getBuffer() returned an empty or non-Uint8Array buffer');
        n = Math.min(buf.length, data.length - at);
        buf.set(data.subarray(at, at + n));
      } catch (err) {
        return this.fatalError(err, 'Fatal error: protocol.getBuffer() call failed.');
      }
      try {
        protocol.bufferUpdated(n);
      } catch (err) {
        return this.fatalError(err, 'Fatal error: protocol.bufferUpdated() call failed.');
      }
      at += n;
    }
    if (this.hasDataListener()) this.emit('data', data);
  }

  /**
   * listenerCount('data') > 0, without its lookup by event name when nothing listens to anything
   * (nearly always): that lookup is shared by every event name and emitter, so V8 makes it a
   * megamorphic keyed load, ~2 % of an echo server's CPU when done per message. eventemitter3
   * keeps _eventsCount, the number of event names with listeners.
   */
  protected hasDataListener(): boolean {
    return (this as unknown as { _eventsCount: number })._eventsCount > 0 && this.listenerCount('data') > 0;
  }

  private readIntoProtocol(protocol: BufferedProtocol): void {
    let buf: Uint8Array;
    try {
      buf = protocol.getBuffer(-1);
      if (!(buf instanceof Uint8Array) || buf.length === 0) throw new ValueError('getBuffer() returned an empty or non-Uint8Array buffer');
    } catch (err) {
      return this.fatalError(err, 'Fatal error: protocol.getBuffer() call failed.');
    }
    const n = this.isSocket ? native.recv(this.fd, buf, 0, buf.length, 0) : native.read(this.fd, buf, 0, buf.length);
    if (n > 0) {
      try {
        protocol.bufferUpdated(n);
      } catch (err) {
        return this.fatalError(err, 'Fatal error: protocol.bufferUpdated() call failed.');
      }
      if (this.hasDataListener()) this.emit('data', Buffer.from(buf.buffer, buf.byteOffset, n));
    } else if (n === 0) {
      this.readEof();
    } else if (!isWouldBlock(n)) {
      this.fatalError(osError(n, this.isSocket ? 'recv' : 'read'), 'Fatal read error on transport');
    }
  }

  private readEof(): void {
    this.pauseReading();
    let keepOpen: boolean | void = false;
    try {
      keepOpen = this.protocol.eofReceived?.();
    } catch (err) {
      return this.fatalError(err, 'Fatal error: protocol.eofReceived() call failed.');
    }
    this.emit('end');
    // A read pipe has no write side to keep.
    if (!keepOpen || this.kind === 'read-pipe') this.close();
  }

  // ---- writing -------------------------------------------------------------------------------

  /**
   * Queues data; it goes out at once when the socket can take it. Your own buffers are copied if
   * they must wait, so you may reuse them; Buffers from dataReceived are queued as they are.
   * @throws code ERR_TRANSPORT_CLOSED after close() / writeEof().
   */
  write(data: Uint8Array | string): void {
    const bytes = toBytes(data, 'data');
    // A write staged earlier in this iteration goes first (what it meets, an error, too).
    if (this.flags & WRITE_STAGED) writeBatch.flushOne(this);
    if (this.kind === 'read-pipe') throw new TypeError('write() on a read pipe transport');
    if (this.eofPending || this.eofSent) throw transportClosedError('write() after writeEof()');
    if (this.closing) throw transportClosedError('write()');
    if (bytes.length === 0) return;
    const wasEmpty = this.queuedBytes === 0;
    let sent = 0;
    // While connecting, the connect's completion owns the fd's writer: data only queues.
    if (wasEmpty && !this.connecting) {
      // Inside an iteration, a socket's write joins the others sent at its end (write-batch.ts).
      if (this.kind === 'socket' && this.limits === null && writeBatch.add(this, this.fd, bytes, this.reactor)) {
        this.flags |= WRITE_STAGED;
        return;
      }
      const n = this.isSocket ? native.send(this.fd, bytes, 0, bytes.length, 0) : native.write(this.fd, bytes, 0, bytes.length);
      if (n === bytes.length) return;
      if (n < 0 && !isWouldBlock(n)) return this.fatalError(osError(n, this.isSocket ? 'send' : 'write'), 'Fatal write error on transport');
      if (n > 0) sent = n;
    }
    // The caller may reuse its buffer after write() returns: keep a copy of the rest, unless it
    // is read-slab memory (an echo of received data), which is never rewritten.
    const rest = isReadSlabView(bytes) ? (sent === 0 ? bytes : bytes.subarray(sent)) : Uint8Array.prototype.slice.call(bytes, sent);
    this.enqueue(rest, wasEmpty);
  }

  /** Keeps bytes a write could not send (the caller's copy if it may be reused) until the socket takes them. */
  private enqueue(rest: Uint8Array, wasEmpty: boolean): void {
    const out = this.writeQueue();
    out.chunks.push(rest);
    out.bytes += rest.length;
    // Unbounded by default, as asyncio (pauseWriting is the signal); a hard limit fails the
    // transport, not the process. Not reported to the exception handler: a slow peer is ordinary.
    if (this.limits !== null && this.queuedBytes > this.limits.max) return this.forceClose(writeBufferFull(this.queuedBytes, this.limits.max));
    if (wasEmpty && !this.connecting && !this.watchWritable()) return;
    this.maybePauseProtocol();
  }

  /** @internal The write staged in the write batch was sent (`result`: bytes or -errno) as write() would have. */
  batchSent(result: number, source: Buffer, offset: number, length: number): void {
    this.flags &= ~WRITE_STAGED;
    if (result === length || this.fd < 0 || this.reactor.isClosed()) return;
    if (result < 0 && !isWouldBlock(result)) return this.fatalError(osError(result, 'send'), 'Fatal write error on transport');
    // A slab view is kept as it is; the staging area is reused, so the rest is copied out of it.
    const start = offset + Math.max(result, 0);
    const rest = isReadSlabView(source) ? source.subarray(start, offset + length) : Uint8Array.prototype.slice.call(source, start, offset + length);
    this.enqueue(rest, this.queuedBytes === 0);
  }

  /** Closes the write side once the buffer has drained (a half-close). */
  writeEof(): void {
    if (this.flags & WRITE_STAGED) writeBatch.flushOne(this);
    if (this.closing || this.eofPending || this.eofSent) return;
    if (!this.canWriteEof()) throw new TypeError('writeEof() is not supported on this transport');
    this.eofPending = true;
    if (this.queuedBytes === 0 && !this.connecting) this.sendEof();
  }

  canWriteEof(): boolean {
    return this.kind !== 'read-pipe';
  }

  getWriteBufferSize(): number {
    if (this.flags & WRITE_STAGED) writeBatch.flushOne(this);
    return this.queuedBytes;
  }

  /**
   * Sets the water marks (bytes); high defaults to 4 × low, low to high / 4. Re-evaluated at once.
   * `max` (default Infinity, as asyncio: unbounded) is a hard limit: a write that takes the
   * buffer past it fails the transport, connectionLost(err) with code 'ERR_WRITE_BUFFER_FULL',
   * so a protocol that ignores pauseWriting() cannot grow memory without bound. Omitted, the
   * current max is kept.
   */
  setWriteBufferLimits({ high, low, max }: { high?: number; low?: number; max?: number } = {}): void {
    if (max !== undefined && (typeof max !== 'number' || !(Number.isInteger(max) || max === Infinity) || max < 0)) throw new ValueError(`max must be a non-negative integer or Infinity, got ${String(max)}`);
    const { high: h, low: l } = waterMarks(high, low);
    if (this.flags & WRITE_STAGED) writeBatch.flushOne(this);
    const m = max ?? this.limits?.max ?? Infinity;
    if (m < h) throw new ValueError(`max (${m}) must be >= high (${h})`);
    this.writeQueue().limits = { high: h, low: l, max: m };
    if (this.queuedBytes > m) return this.forceClose(writeBufferFull(this.queuedBytes, m));
    this.maybePauseProtocol();
    this.maybeResumeProtocol();
  }

  getWriteBufferLimits(): { high: number; low: number; max: number } {
    return { ...(this.limits ?? DEFAULT_LIMITS) };
  }

  private writeReady(): void {
    const out = this.out;
    if (out === null || out.bytes === 0) return;
    const count = Math.min(out.chunks.length, 1024);
    const n = native.writev(this.fd, out.chunks, out.head, count, this.isSocket);
    if (n < 0) {
      if (isWouldBlock(n)) return;
      return this.fatalError(osError(n, this.isSocket ? 'sendmsg' : 'writev'), 'Fatal write error on transport');
    }
    this.consume(n);
    this.maybeResumeProtocol();
    if (this.queuedBytes > 0) return;
    this.reactor.removeWriter(this.fd);
    if (this.listenerCount('drain') > 0) this.emit('drain');
    if (this.closing) this.reactor.callSoon(() => this.callConnectionLost(null));
    else if (this.eofPending) this.sendEof();
  }

  private consume(n: number): void {
    const out = this.out!;
    const queue = out.chunks;
    out.bytes -= n;
    let i = 0;
    let head = out.head + n;
    while (i < queue.length && head >= queue[i]!.length) {
      head -= queue[i]!.length;
      i++;
    }
    if (i > 0) queue.splice(0, i);
    out.head = queue.length > 0 ? head : 0;
  }

  private sendEof(): void {
    this.eofPending = false;
    this.eofSent = true;
    if (this.isSocket) native.shutdown(this.fd, SHUT_WR);
    else this.close(); // a write pipe's EOF is its close
  }

  // Every path that grows the buffer ends here (cpython gh-127655).
  private maybePauseProtocol(): void {
    if (this.protocolPaused || this.queuedBytes <= (this.limits ?? DEFAULT_LIMITS).high) return;
    this.protocolPaused = true;
    tellProtocol(this.reactor, this, this.protocol, 'pauseWriting');
  }

  private maybeResumeProtocol(): void {
    if (!this.protocolPaused || this.queuedBytes > (this.limits ?? DEFAULT_LIMITS).low) return;
    this.protocolPaused = false;
    tellProtocol(this.reactor, this, this.protocol, 'resumeWriting');
  }

  // ---- closing -------------------------------------------------------------------------------

  /** Closes after the buffer is flushed; connectionLost(null) follows. Idempotent. */
  close(): void {
    if (this.flags & WRITE_STAGED) writeBatch.flushOne(this);
    if (this.closing) return;
    this.closing = true;
    if (this.reading) {
      this.reading = false;
      this.reactor.removeReader(this.fd);
    }
    if (this.queuedBytes === 0) this.reactor.callSoon(() => this.callConnectionLost(null));
  }

  /** Closes now and drops the buffer. */
  abort(): void {
    this.forceClose(null);
  }

  isClosing(): boolean {
    return this.closing;
  }

  /**
   * 'peername' / 'sockname' (addresses), 'socket' (a TransportSocket: a Socket view of the fd whose
   * close, recv*, send*, accept and setBlocking throw, as asyncio's TransportSocket), 'pipe' (pipe
   * transports), or anything given at creation; `defaultValue` when unknown or no longer available.
   */
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    if (this.extra !== null && name in this.extra) return this.extra[name];
    if (this.kind !== 'socket' || this.fd < 0) return defaultValue;
    // Made on first use and kept: the view follows the transport's fd (-1 once it is closed).
    if (name === 'socket') return ((this.extra ??= {}).socket = TransportSocket.view(this));
    if (name !== 'peername' && name !== 'sockname') return defaultValue;
    // Resolved on first use (most connections never ask) and kept, so the answer stays right
    // after close, when the fd number may belong to another connection.
    const r = name === 'peername' ? native.getpeername(this.fd) : native.getsockname(this.fd);
    if (typeof r === 'number' || r === null) return defaultValue;
    (this.extra ??= {})[name] = r;
    return r;
  }

  getProtocol(): AnyProtocol {
    return this.protocol;
  }

  setProtocol(protocol: AnyProtocol): void {
    this.protocol = protocol;
    this.buffered = isBufferedProtocol(protocol);
  }

  /** @internal The fd, or -1 once closed. */
  fileno(): number {
    return this.fd;
  }

  private fatalError(err: unknown, message: string): void {
    const errno = typeof err === 'object' && err !== null ? (err as { errno?: number }).errno : undefined;
    // A peer that resets or goes away is ordinary: it reaches connectionLost(err) but is not logged.
    if (errno !== NEG_ECONNRESET && errno !== NEG_EPIPE) {
      this.reactor.callExceptionHandler({ message, exception: err, transport: this, protocol: this.protocol });
    }
    this.forceClose(err instanceof Error ? err : new Error(String(err)));
  }

  private forceClose(err: Error | null): void {
    if (this.lostCalled || this.fd < 0) return;
    // Sent as it would have been at write() time; only what the socket does not take is dropped.
    if (this.flags & WRITE_STAGED) writeBatch.flushOne(this);
    if (this.queuedBytes > 0) {
      this.dropQueue();
      this.reactor.removeWriter(this.fd);
    }
    if (!this.closing) {
      this.closing = true;
      if (this.reading) {
        this.reading = false;
        this.reactor.removeReader(this.fd);
      }
    }
    this.reactor.callSoon(() => this.callConnectionLost(err));
  }

  /** Unsent data is dropped (the transport is closing at once). */
  private dropQueue(): void {
    const out = this.out;
    if (out === null) return;
    out.chunks = [];
    out.head = 0;
    out.bytes = 0;
  }

  private callConnectionLost(err: Error | null): void {
    if (this.lostCalled) return;
    this.lostCalled = true;
    try {
      this.protocol.connectionLost?.(err);
    } finally {
      this.release(err);
    }
  }

  private release(err: Error | null): void {
    if (this.flags & WRITE_STAGED) writeBatch.flushOne(this);
    const fd = this.fd;
    this.reactor.removeReader(fd);
    this.reactor.removeWriter(fd);
    native.close(fd);
    this.fd = -1;
    untrackUnclosed(this);
    this.reactor.removeResource(this, fd);
    this.onClose?.(this, fd);
    if (err !== null && this.listenerCount('error') > 0) this.emit('error', err);
    this.emit('close', err);
  }

  /**
   * @internal reactor.close() with this transport still open: the fd is freed now. A protocol
   * whose connectionMade ran, or whose connect was under way, gets connectionLost once: null if
   * its close() had nothing left to send, else an error with code 'ERR_REACTOR_CLOSED'. One
   * whose connectionMade never ran hears nothing (as asyncio, which drops the pending call).
   */
  closeWithReactor(): void {
    if (this.lostCalled) return;
    if (this.flags & WRITE_STAGED) writeBatch.flushOne(this);
    const err = this.closing && this.queuedBytes === 0 ? null : reactorClosed();
    this.dropQueue();
    this.closing = true;
    this.reading = false;
    if (!this.made && !this.connecting) {
      this.lostCalled = true;
      return this.release(null);
    }
    this.callConnectionLost(err); // a throw reaches the reactor's exception handler
  }
}

// eventemitter3 gives every emitter its own event table at construction (24 B, and a field);
// a connection nobody listens to never needs one. The table is made on first use instead: the
// constructor's (and any later) assignment of an empty one while there is none is dropped.
const eventsPrototype = Object.getPrototypeOf((new EventEmitter() as unknown as { _events: object })._events) as object;
Object.defineProperty(Transport.prototype, '_events', {
  get(this: Transport): object {
    const events = Object.create(eventsPrototype) as object;
    Object.defineProperty(this, '_events', { value: events, writable: true, enumerable: true, configurable: true });
    return events;
  },
  set(): void {},
});
// Its count of event names with listeners likewise: 0 (the constructor's assignment is dropped)
// until the first listener, which makes it a field of that transport.
Object.defineProperty(Transport.prototype, '_eventsCount', {
  get(): number {
    return 0;
  },
  set(this: Transport, count: number): void {
    if (count !== 0) Object.defineProperty(this, '_eventsCount', { value: count, writable: true, enumerable: true, configurable: true });
  },
});

// One instance field (flags) holds the state; the code reads and writes it by name.
const FLAG_PROPERTIES: Record<string, number> = {
  buffered: BUFFERED,
  protocolPaused: PROTOCOL_PAUSED,
  reading: READING,
  readPaused: READ_PAUSED,
  closing: CLOSING,
  eofPending: EOF_PENDING,
  eofSent: EOF_SENT,
  lostCalled: LOST_CALLED,
  connecting: CONNECTING,
  made: MADE,
};
for (const [name, bit] of Object.entries(FLAG_PROPERTIES)) {
  Object.defineProperty(Transport.prototype, name, {
    get(this: { flags: number }): boolean {
      return (this.flags & bit) !== 0;
    },
    set(this: { flags: number }, on: boolean): void {
      this.flags = on ? this.flags | bit : this.flags & ~bit;
    },
  });
}
