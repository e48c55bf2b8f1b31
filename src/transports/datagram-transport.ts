// A datagram transport over a non-blocking UDP or Unix datagram socket: asyncio's
// _SelectorDatagramTransport, reading and writing in batches (recvmmsg/sendmmsg, cpp/datagrams.cc).
//
// Reading: each readable event takes up to READ_BATCHES batches (datagram-receive.ts); each
// datagram is its own Buffer, in kernel order, and one the kernel truncated never reaches
// datagramReceived. Replies sent while a batch is delivered leave together at its end.
//
// Errors (as asyncio and the issue have them): an ICMP report or EMSGSIZE goes to errorReceived
// and the endpoint keeps running (python/cpython#91227, MagicStack/uvloop#545); would-block and
// ENOBUFS wait for the next writable event (libuv's uv__udp_sendmsg); anything else is fatal and
// reaches connectionLost(err) exactly once. Reading the socket is what clears a pending socket
// error (sk_err), so an EPOLLERR is consumed by the next recv and never spins the loop.
import { native } from '../select/native.js';
import { osError, isWouldBlock, ERRNO, ValueError, type OSError } from '../select/errors.js';
import { toBytes } from '../select/fds.js';
import type { Reactor } from '../loop/reactor.js';
import { Handle, NO_ARGS } from '../loop/handle.js';
import { EVENT_READ } from '../selectors/index.js';
import { AF_UNIX, SOCK_DGRAM } from './constants.js';
import { toSockaddr, type Address } from './address.js';
import { datagramNative } from './datagram-native.js';
import type { DatagramProtocol } from './datagram-protocol.js';
import { isReadSlabView } from './read-slab.js';
import { BATCH, datagramAt, knownSockaddr, receiveBatch, senderAt } from './datagram-receive.js';
import { transportClosedError } from './stream-transport.js';
import { TransportSocket } from './transport-socket.js';
import { DEFAULT_HIGH, DEFAULT_LOW, tellProtocol, waterMarks } from './write-flow.js';
import { reactorClosed } from '../loop/errors.js';
import type { ReactorResource } from '../loop/reactor.js';

const dn = datagramNative;
/** Batches per readable event: a bound, so one busy endpoint cannot starve the others. */
const READ_BATCHES = 4;
/** Batches per writable event. */
const WRITE_BATCHES = 16;
/**
 * Bytes counted per queued datagram on top of its payload (its queue entries and address), so a
 * flood of empty datagrams reaches the high-water mark too (python/cpython#113812). The same
 * amount is added and subtracted, so the count returns to exactly 0 (python/cpython#135444).
 */
export const DATAGRAM_OVERHEAD = 32;
/** The send queue's cap in counted bytes: past it a datagram is dropped with errorReceived(ENOBUFS). */
export const DATAGRAM_QUEUE_CAP = 16 * 1024 * 1024;

const NEG_ENOBUFS = -ERRNO.ENOBUFS;
const NEG_ECONNREFUSED = -ERRNO.ECONNREFUSED;
const NEG_EHOSTUNREACH = -ERRNO.EHOSTUNREACH;
const NEG_ENETUNREACH = -ERRNO.ENETUNREACH;
/** Errors that leave the endpoint open (reported with errorReceived). */
const SOFT_ERRORS = new Set(
  ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'EMSGSIZE', 'EACCES', 'EPERM']
    .map((name) => (ERRNO as Record<string, number | undefined>)[name])
    .filter((e): e is number => e !== undefined)
    .map((e) => -e),
);

/** A send error that a pending ICMP report from an earlier datagram can cause (not EMSGSIZE, EACCES, ...). */
function mayBeEarlierError(result: number): boolean {
  return result === NEG_ECONNREFUSED || result === NEG_EHOSTUNREACH || result === NEG_ENETUNREACH;
}

function isSendRetry(result: number): boolean {
  return isWouldBlock(result) || result === NEG_ENOBUFS;
}

class ReadReadyHandle extends Handle {
  constructor(
    private readonly transport: DatagramTransport,
    owner: Reactor,
  ) {
    super(datagramReadReady, NO_ARGS, owner);
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

function datagramReadReady(): void {
  // Named for error reports; ReadReadyHandle.run does the work.
}

export interface DatagramTransportInit {
  family: number;
  /** The peer of a connected endpoint. */
  peer: Address | null;
  peerSockaddr: Buffer | null;
}

export class DatagramTransport implements ReactorResource {
  private fd: number;
  private protocol: DatagramProtocol;
  readonly family: number;
  private readonly peer: Address | null;
  private readonly peerSockaddr: Buffer | null;
  private closing = false;
  private lostScheduled = false;
  private lostCalled = false;
  private made = false; // connectionMade ran
  private reading = false;
  private readPaused = false;
  private protocolPaused = false;
  private writing = false; // the fd is watched for writing
  private corked = false; // delivering a received batch: sends wait for its end
  /** Datagrams already taken from the kernel when pauseReading() came mid-batch: [data | error, addr]. */
  private held: Array<[Buffer | OSError, Address | null]> | null = null;
  // The send queue: parallel arrays from `head` on (each datagram with its sockaddr, or null for
  // the connected peer), so sendDatagrams takes them as they are.
  private queueData: Uint8Array[] = [];
  private queueAddr: Array<Uint8Array | null> = [];
  private head = 0;
  private queuedBytes = 0;
  private high = DEFAULT_HIGH;
  private low = DEFAULT_LOW;
  private onWritable: (() => void) | null = null;
  private extra: Record<string, unknown> | null = null;
  // The last address given to sendto() and its sockaddr (a client replying to one peer).
  private lastSendAddr: unknown = undefined;
  private lastSendHost = '';
  private lastSendPort = -1;
  private lastSendSockaddr: Buffer | null = null;

  /** @internal Made by reactor.createDatagramEndpoint(). */
  constructor(
    private readonly reactor: Reactor,
    fd: number,
    protocol: DatagramProtocol,
    init: DatagramTransportInit,
  ) {
    this.fd = fd;
    this.protocol = protocol;
    this.family = init.family;
    this.peer = init.peer;
    this.peerSockaddr = init.peerSockaddr;
    reactor.addResource(this);
  }

  /** @internal connectionMade in the next iteration, then reading. */
  start(): void {
    this.reactor.callSoon(() => {
      if (this.lostCalled) return;
      this.made = true;
      try {
        this.protocol.connectionMade?.(this);
      } catch (err) {
        // As asyncio (and the stream transports): reported, and the endpoint closes.
        return this.fatalError(err, 'Fatal error: protocol.connectionMade() call failed.');
      }
      this.startReading();
    });
  }

  // ---- reading -------------------------------------------------------------------------------

  pauseReading(): void {
    if (this.closing || this.readPaused) return;
    this.readPaused = true;
    this.stopReading();
  }

  resumeReading(): void {
    if (this.closing || !this.readPaused) return;
    this.readPaused = false;
    if (this.held !== null) {
      // Deliver what was already received first, in order, then read again.
      this.reactor.callSoon(() => this.deliverHeld());
      return;
    }
    this.startReading();
  }

  isReading(): boolean {
    return !this.readPaused && !this.closing;
  }

  private startReading(): void {
    if (this.closing || this.readPaused || this.reading) return;
    this.reading = true;
    // A selector can refuse an fd (SelectSelector past FD_SETSIZE): then the endpoint fails
    // through its one path instead of staying open unwatched.
    try {
      this.reactor.watchFd(this.fd, EVENT_READ, new ReadReadyHandle(this, this.reactor));
    } catch (err) {
      this.reading = false;
      this.fatalError(err, 'Fatal error: the selector cannot watch the datagram transport for reading');
    }
  }

  private stopReading(): void {
    if (!this.reading) return;
    this.reading = false;
    this.reactor.removeReader(this.fd);
  }

  private deliverHeld(): void {
    const held = this.held;
    if (held === null || this.closing || this.readPaused) return;
    this.held = null;
    for (let i = 0; i < held.length; i++) {
      if (this.closing) return;
      if (this.readPaused) {
        this.held = held.slice(i);
        return;
      }
      const [item, addr] = held[i]!;
      if (!this.deliver(item, addr)) return;
    }
    this.startReading();
  }

  /** Hands one datagram (or a truncation error) to the protocol; false after a fatal error. */
  private deliver(item: Buffer | OSError, addr: Address | null): boolean {
    if (item instanceof Error) {
      this.reportError(item);
      return !this.lostScheduled;
    }
    try {
      this.protocol.datagramReceived?.(item, addr);
    } catch (err) {
      this.fatalError(err, 'Fatal error: protocol.datagramReceived() call failed.');
      return false;
    }
    return true;
  }

  private readReady(): void {
    this.corked = true;
    try {
      this.readBatches();
    } finally {
      this.uncork();
    }
  }

  private readBatches(): void {
    for (let batch = 0; batch < READ_BATCHES; batch++) {
      if (!this.reading) return;
      const n = receiveBatch(this.fd, this.peer);
      if (n < 0) {
        if (isWouldBlock(n)) return;
        if (SOFT_ERRORS.has(n)) {
          this.reportError(osError(n, 'recvmsg'));
          continue; // the error is consumed; more datagrams may be waiting
        }
        return this.fatalError(osError(n, 'recvmsg'), 'Fatal read error on datagram transport');
      }
      for (let i = 0; i < n; i++) {
        const item = datagramAt(i);
        if (this.closing) return;
        if (this.readPaused) {
          (this.held ??= []).push([item, senderAt(i)]);
          continue;
        }
        if (!this.deliver(item, senderAt(i))) return;
      }
      if (n < BATCH) return;
    }
  }

  // ---- writing -------------------------------------------------------------------------------

  /**
   * Sends one datagram (never split or merged) to `addr`, or to the peer of a connected endpoint.
   * It goes at once when nothing is queued; otherwise it queues and leaves in order. Your own
   * buffers are copied if they must wait, so you may reuse them.
   * @throws code ERR_TRANSPORT_CLOSED once close()/abort() was called; TypeError/ValueError for bad
   * data or addresses (and nothing is sent or queued).
   */
  sendto(data: Uint8Array | string, addr?: Address | null): void {
    const bytes = toBytes(data, 'data');
    if (this.closing) throw transportClosedError('sendto()');
    const sockaddr = this.destination(addr);
    if (this.queuedBytes === 0 && !this.corked) {
      let r = this.sendNow(bytes, sockaddr);
      if (r < 0 && mayBeEarlierError(r)) {
        // A pending ICMP error from an earlier datagram fails this send (and is consumed by it):
        // report it, then try this datagram once more rather than drop it for someone else's fault.
        this.reportError(osError(r, sockaddr === null ? 'send' : 'sendto'));
        if (this.closing) return;
        r = this.sendNow(bytes, sockaddr);
      }
      if (r >= 0) return;
      if (!isSendRetry(r)) {
        if (SOFT_ERRORS.has(r)) return this.reportError(osError(r, sockaddr === null ? 'send' : 'sendto'));
        return this.fatalError(osError(r, sockaddr === null ? 'send' : 'sendto'), 'Fatal write error on datagram transport');
      }
    }
    const cost = bytes.length + DATAGRAM_OVERHEAD;
    if (this.queuedBytes + cost > DATAGRAM_QUEUE_CAP) {
      return this.reportError(osError(NEG_ENOBUFS, 'sendto', '(the send queue is full)'));
    }
    // A read-slab view is never rewritten: an echo queues the received datagram without a copy.
    this.queueData.push(isReadSlabView(bytes) ? bytes : Uint8Array.prototype.slice.call(bytes));
    this.queueAddr.push(sockaddr);
    this.queuedBytes += cost;
    if (!this.corked) this.watchWritable();
    // A corked batch of replies never pauses the protocol by itself: it leaves early instead.
    else if (!this.writing && this.queuedBytes > this.high >> 1) this.writeReady();
    this.maybePauseProtocol();
  }

  /** The sockaddr to send to: null for the connected peer. Throws for a wrong or missing address. */
  private destination(addr: Address | null | undefined): Buffer | null {
    if (addr === undefined || addr === null) {
      if (this.peer === null) throw new ValueError('sendto() needs an address: this endpoint is not connected');
      return null;
    }
    if (typeof addr === 'object' && addr === this.lastSendAddr) return this.checkPeer(this.lastSendSockaddr!, addr);
    let sockaddr = typeof addr === 'object' && addr !== null ? knownSockaddr(addr) : undefined;
    if (sockaddr !== undefined) {
      // A sender's address from another endpoint may be of another family.
      if (native.sockaddrFamily(sockaddr) !== this.family) throw new ValueError(`sendto() address ${JSON.stringify(addr)} is not of this endpoint's family`);
      this.lastSendHost = '';
      this.lastSendPort = -1;
    } else if (this.family !== AF_UNIX && Array.isArray(addr) && addr[0] === this.lastSendHost && addr[1] === this.lastSendPort && this.lastSendSockaddr !== null) {
      sockaddr = this.lastSendSockaddr; // the same [host, port] again, in a new array
    } else {
      if (this.family !== AF_UNIX && Array.isArray(addr) && addr[1] === 0) throw new ValueError('cannot send to port 0');
      sockaddr = toSockaddr(this.family, addr, SOCK_DGRAM);
      const literal = this.family !== AF_UNIX && Array.isArray(addr);
      this.lastSendHost = literal ? addr[0] : '';
      this.lastSendPort = literal ? addr[1] : -1;
    }
    this.lastSendAddr = addr;
    this.lastSendSockaddr = sockaddr;
    return this.checkPeer(sockaddr, addr);
  }

  private checkPeer(sockaddr: Buffer, addr: unknown): Buffer | null {
    if (this.peerSockaddr === null) return sockaddr;
    if (!this.peerSockaddr.equals(sockaddr)) {
      throw new ValueError(`sendto() address ${JSON.stringify(addr)} is not this connected endpoint's peer ${JSON.stringify(this.peer)}`);
    }
    return null;
  }

  private watchWritable(): void {
    if (this.writing || this.lostScheduled) return;
    try {
      this.reactor.addWriter(this.fd, (this.onWritable ??= (): void => this.writeReady()));
      this.writing = true;
    } catch (err) {
      this.fatalError(err, 'Fatal error: the selector cannot watch the datagram transport for writing');
    }
  }

  // Replies sent while a received batch is being delivered leave together, in one sendmmsg at the
  // end of the batch (still before control returns to the loop), instead of one sendto each.
  private uncork(): void {
    this.corked = false;
    if (this.queuedBytes === 0 || this.writing || this.lostScheduled) return;
    this.writeReady();
    if (this.queuedBytes > 0) this.watchWritable();
  }

  private sendNow(bytes: Uint8Array, sockaddr: Buffer | null): number {
    return sockaddr === null ? native.send(this.fd, bytes, 0, bytes.length, 0) : native.sendto(this.fd, bytes, 0, bytes.length, 0, sockaddr);
  }

  private writeReady(): void {
    let headRetried = false;
    for (let batch = 0; batch < WRITE_BATCHES && this.head < this.queueData.length; batch++) {
      const count = Math.min(this.queueData.length - this.head, BATCH);
      const n = dn.sendDatagrams(this.fd, this.queueData, this.queueAddr, this.head, count);
      if (n < 0) {
        if (isSendRetry(n)) break;
        const err = osError(n, 'sendmsg');
        if (!SOFT_ERRORS.has(n)) return this.fatalError(err, 'Fatal write error on datagram transport');
        // An error that may be an earlier datagram's (a pending ICMP report) gets the head one more
        // try; one that is the head's own (too big), or a second failure, drops it.
        if (mayBeEarlierError(n) && !headRetried) headRetried = true;
        else {
          this.dequeue(1);
          headRetried = false;
        }
        this.reportError(err);
        if (this.lostScheduled) return;
        continue;
      }
      headRetried = false;
      this.dequeue(n);
    }
    this.maybeResumeProtocol();
    if (this.head < this.queueData.length || this.lostScheduled) return;
    if (this.writing) {
      this.writing = false;
      this.reactor.removeWriter(this.fd);
    }
    if (this.closing) this.scheduleConnectionLost(null);
  }

  private dequeue(n: number): void {
    const data = this.queueData;
    for (let i = this.head; i < this.head + n; i++) {
      this.queuedBytes -= data[i]!.length + DATAGRAM_OVERHEAD;
    }
    this.head += n;
    if (this.head === data.length) {
      this.queueData = [];
      this.queueAddr = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= data.length) {
      this.queueData = data.slice(this.head);
      this.queueAddr = this.queueAddr.slice(this.head);
      this.head = 0;
    }
  }

  /** Counted bytes waiting to be sent: payloads plus DATAGRAM_OVERHEAD per datagram. */
  getWriteBufferSize(): number {
    return this.queuedBytes;
  }

  /** Sets the water marks (bytes); high defaults to 4 × low, low to high / 4. Re-evaluated at once. */
  setWriteBufferLimits({ high, low }: { high?: number; low?: number } = {}): void {
    const marks = waterMarks(high, low);
    this.high = marks.high;
    this.low = marks.low;
    this.maybePauseProtocol();
    this.maybeResumeProtocol();
  }

  getWriteBufferLimits(): { high: number; low: number } {
    return { high: this.high, low: this.low };
  }

  private maybePauseProtocol(): void {
    if (this.protocolPaused || this.queuedBytes <= this.high) return;
    this.protocolPaused = true;
    tellProtocol(this.reactor, this, this.protocol, 'pauseWriting');
  }

  private maybeResumeProtocol(): void {
    if (!this.protocolPaused || this.queuedBytes > this.low) return;
    this.protocolPaused = false;
    tellProtocol(this.reactor, this, this.protocol, 'resumeWriting');
  }

  // ---- closing -------------------------------------------------------------------------------

  /** Stops receiving, sends what is queued, then closes; connectionLost(null) follows. Idempotent. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.held = null;
    this.stopReading();
    if (this.queuedBytes === 0) this.scheduleConnectionLost(null);
  }

  /** Closes now and drops the queue; connectionLost(null) follows. */
  abort(): void {
    this.forceClose(null);
  }

  isClosing(): boolean {
    return this.closing;
  }

  /**
   * 'peername' (a connected endpoint's peer), 'sockname', 'socket' (a Socket view; the transport
   * keeps owning the fd), or `defaultValue`.
   */
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    if (this.extra !== null && name in this.extra) return this.extra[name];
    if (name === 'peername') return this.peer ?? defaultValue;
    if (this.fd < 0) return defaultValue;
    let value: unknown;
    if (name === 'socket') value = TransportSocket.view(this);
    else if (name === 'sockname') {
      const r = native.getsockname(this.fd);
      if (typeof r === 'number' || r === null) return defaultValue;
      value = r;
    } else return defaultValue;
    (this.extra ??= {})[name] = value;
    return value;
  }

  getProtocol(): DatagramProtocol {
    return this.protocol;
  }

  setProtocol(protocol: DatagramProtocol): void {
    if (protocol === null || typeof protocol !== 'object') throw new TypeError('protocol must be an object');
    this.protocol = protocol;
  }

  /** @internal The fd, or -1 once closed. */
  fileno(): number {
    return this.fd;
  }

  private reportError(err: OSError): void {
    try {
      this.protocol.errorReceived?.(err);
    } catch (e) {
      this.fatalError(e, 'Fatal error: protocol.errorReceived() call failed.');
    }
  }

  private fatalError(err: unknown, message: string): void {
    this.reactor.callExceptionHandler({ message, exception: err, transport: this, protocol: this.protocol });
    this.forceClose(err instanceof Error ? err : new Error(String(err)));
  }

  private forceClose(err: Error | null): void {
    if (this.lostScheduled) return;
    if (this.queuedBytes > 0) {
      this.queueData = [];
      this.queueAddr = [];
      this.head = 0;
      this.queuedBytes = 0;
    }
    if (this.writing) {
      this.writing = false;
      this.reactor.removeWriter(this.fd);
    }
    this.closing = true;
    this.held = null;
    this.stopReading();
    this.scheduleConnectionLost(err);
  }

  private scheduleConnectionLost(err: Error | null): void {
    if (this.lostScheduled) return;
    this.lostScheduled = true;
    this.reactor.callSoon(() => this.callConnectionLost(err));
  }

  private callConnectionLost(err: Error | null): void {
    if (this.lostCalled) return;
    this.lostCalled = true;
    try {
      this.protocol.connectionLost?.(err);
    } finally {
      this.release();
    }
  }

  private release(): void {
    this.reactor.removeReader(this.fd);
    this.reactor.removeWriter(this.fd);
    native.close(this.fd);
    this.fd = -1;
    this.reactor.removeResource(this);
  }

  /**
   * @internal reactor.close() with this endpoint still open: the fd is freed now. A protocol whose
   * connectionMade ran gets connectionLost once: null if its close() had nothing left to send,
   * else an error with code 'ERR_REACTOR_CLOSED'; one whose connectionMade never ran hears nothing.
   */
  closeWithReactor(): void {
    if (this.lostCalled) return;
    const err = this.closing && this.queuedBytes === 0 ? null : reactorClosed();
    this.queueData = [];
    this.queueAddr = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.closing = true;
    this.reading = false;
    this.writing = false;
    this.held = null;
    if (!this.made) {
      this.lostCalled = true;
      return this.release();
    }
    this.callConnectionLost(err);
  }
}
