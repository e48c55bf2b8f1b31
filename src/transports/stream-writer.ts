// asyncio's StreamWriter, and the protocol that joins a transport to a StreamReader/StreamWriter
// pair (StreamReaderProtocol + FlowControlMixin): drain() follows the transport's water marks,
// every concurrent drain() settles together (cpython#74116), and once the connection is lost
// drain() rejects at once instead of spinning (python/asyncio#263).
import type { Reactor } from '../loop/reactor.js';
import { osError, ERRNO } from '../select/errors.js';
import type { Transport } from './stream-transport.js';
import type { Protocol } from './protocols.js';
import { abortReason, onAbort, signalOf, type AbortOptions } from './abort.js';
import type { StreamReader } from './stream-reader.js';

export type ClientConnected = (reader: StreamReader, writer: StreamWriter) => void | Promise<void>;

function connectionLostError(): Error {
  // Stryker disable next-line UnaryOperator: OSError takes errno of either sign (it stores -|errno|)
  return osError(-ERRNO.ECONNRESET, 'drain', '(the connection is lost)');
}

/** @internal Feeds a StreamReader and paces a StreamWriter; one per connection. */
export class StreamProtocol implements Protocol {
  writer: StreamWriter | null = null;
  private transport: Transport | null = null;
  private paused = false;
  private lost = false;
  private lostError: Error | null = null;
  private drainWaiters: Array<(err: Error | null) => void> = [];
  private closedWaiters: Array<(err: Error | null) => void> = [];

  constructor(
    readonly reader: StreamReader,
    private readonly reactor: Reactor,
    /** startServer's callback, or openConnection's way to hear the outcome. */
    private readonly events: {
      connected?: ClientConnected;
      made?: (writer: StreamWriter) => void;
      failed?: (err: Error) => void;
    },
  ) {}

  connectionMade(transport: Transport): void {
    this.transport = transport;
    this.reader.setTransport(transport);
    const writer = (this.writer = new StreamWriter(transport, this, this.reader));
    this.events.made?.(writer);
    const cb = this.events.connected;
    if (cb === undefined) return;
    try {
      const result = cb(this.reader, writer);
      if (result !== null && typeof result === 'object' && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(undefined, (err: unknown) => this.callbackFailed(err));
      }
    } catch (err) {
      this.callbackFailed(err);
    }
  }

  dataReceived(data: Buffer): void {
    this.reader.feedData(data);
  }

  eofReceived(): boolean {
    this.reader.feedEof();
    return true; // the writer may still write (a half-close), as asyncio
  }

  connectionLost(err: Error | null): void {
    this.lost = true;
    this.lostError = err;
    if (err === null) this.reader.feedEof();
    else this.reader.setException(err);
    if (this.transport === null) this.events.failed?.(err ?? new Error('the connection closed before it was made'));
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const settle of waiters) settle(err ?? connectionLostError());
    const closed = this.closedWaiters;
    this.closedWaiters = [];
    for (const settle of closed) settle(err);
  }

  pauseWriting(): void {
    this.paused = true;
  }

  resumeWriting(): void {
    this.paused = false;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const settle of waiters) settle(null);
  }

  /** @internal StreamWriter.drain. */
  drain(signal: AbortSignal | undefined): Promise<void> {
    const failed = this.reader.exception();
    if (failed !== null) return Promise.reject(failed);
    if (this.lost) return Promise.reject(this.lostError ?? connectionLostError());
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (!this.paused) return Promise.resolve();
    return this.wait(this.drainWaiters, signal);
  }

  /** @internal StreamWriter.waitClosed. */
  waitClosed(): Promise<void> {
    if (this.lost) return this.lostError === null ? Promise.resolve() : Promise.reject(this.lostError);
    return this.wait(this.closedWaiters, undefined);
  }

  private wait(list: Array<(err: Error | null) => void>, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let stopListening: (() => void) | null = null;
      const settle = (err: Error | null): void => {
        stopListening?.();
        if (err === null) resolve();
        else reject(err);
      };
      list.push(settle);
      if (signal !== undefined) {
        stopListening = onAbort(signal, () => {
          const i = list.indexOf(settle);
          // Stryker disable next-line ConditionalExpression: settle leaves the list only by being called, which stops this listener first, so i is never -1 here
          if (i !== -1) list.splice(i, 1);
          reject(abortReason(signal));
        });
      }
    });
  }

  private callbackFailed(err: unknown): void {
    this.reactor.callExceptionHandler({ message: 'Unhandled exception in a startServer client callback', exception: err, transport: this.transport });
    // That connection only: the server and every other connection go on.
    this.transport?.close();
  }
}

/** The write half of a stream connection (asyncio's StreamWriter). */
export class StreamWriter {
  constructor(
    readonly transport: Transport,
    private readonly protocol: StreamProtocol,
    private readonly reader: StreamReader | null,
  ) {}

  write(data: Uint8Array | string): void {
    this.transport.write(data);
  }

  writeLines(chunks: Iterable<Uint8Array | string>): void {
    for (const chunk of chunks) this.transport.write(chunk);
  }

  writeEof(): void {
    this.transport.writeEof();
  }

  canWriteEof(): boolean {
    return this.transport.canWriteEof();
  }

  /**
   * Resolves at once while the write buffer is at or below its high-water mark, else once it has
   * fallen to the low one. Rejects with the connection's error (or ECONNRESET) once it is lost.
   */
  drain(options?: AbortOptions): Promise<void> {
    let signal: AbortSignal | undefined;
    try {
      signal = signalOf(options);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.protocol.drain(signal);
  }

  /** Closes after the buffered data is sent. */
  close(): void {
    this.transport.close();
  }

  isClosing(): boolean {
    return this.transport.isClosing();
  }

  /** Resolves once the connection is closed; rejects with its error if it failed. */
  waitClosed(): Promise<void> {
    return this.protocol.waitClosed();
  }

  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    return this.transport.getExtraInfo(name, defaultValue);
  }

  /** @internal */
  get streamReader(): StreamReader | null {
    return this.reader;
  }
}
