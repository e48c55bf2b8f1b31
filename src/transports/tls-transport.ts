// TLS over a stream transport (asyncio's sslproto.SSLProtocol + _SSLProtocolTransport), built on
// Node's own TLS, a tls.TLSSocket. The raw transport always reads the socket and hands the
// ciphertext to the TLS engine, so it sees every FIN (one without close_notify is truncation).
// What the engine writes takes the first of three paths that is available:
//   - the wire (wireOver): a libuv handle on a duplicate of the raw fd, written by the engine in
//     C++ as node:tls writes its own socket; reads go in with the engine's receive();
//   - the engine handle (engineHandleOf): Node's JSStream under a TLSSocket over our Duplex,
//     answered directly, records going into the raw transport (one write in flight, held while
//     it is above its high-water mark); used when there is no wire, e.g. startTls on a transport
//     that still has bytes to send;
//   - the Duplex itself, where that handle is not found.
// The application sees a TlsTransport: the same Transport interface, with connectionMade after
// the handshake.
//
//   app protocol <-> TlsTransport <-> tls.TLSSocket (OpenSSL) --records--> wire | Duplex -> raw Transport (fd)
//                                                     ^---ciphertext---- RawSide <- raw Transport
//
// Two state machines, as CPython's sslproto: the TLS layer's (UNWRAPPED -> DO_HANDSHAKE -> WRAPPED
// -> FLUSHING -> SHUTDOWN -> CLOSED, transitions checked) and the application protocol's (INIT ->
// CON_MADE -> EOF -> CON_LOST), which guards its callbacks: connectionLost only follows
// connectionMade (or, for createConnection/createServer, reports a failed handshake), and exactly once.
import type { Duplex } from 'node:stream';
import type { Socket as NetSocket } from 'node:net';
import type * as NodeTls from 'node:tls';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import type { Reactor } from '../loop/reactor.js';
import type { TimerHandle } from '../loop/handle.js';
import { toBytes } from '../select/fds.js';
import { native } from '../select/native.js';
import { Transport, transportClosedError, writeBufferFull } from './stream-transport.js';
import { isBufferedProtocol, type AnyProtocol, type BufferedProtocol, type Protocol } from './protocols.js';
import { isReadSlabView } from './read-slab.js';
import { nodeTls, type TlsConfig } from './tls-options.js';
import { tellProtocol } from './write-flow.js';

const requireBuiltin = createRequire(import.meta.url);

/** The TLS layer's states (CPython's SSLProtocolState, plus CLOSED once the raw side is let go). */
export const TlsState = { UNWRAPPED: 0, DO_HANDSHAKE: 1, WRAPPED: 2, FLUSHING: 3, SHUTDOWN: 4, CLOSED: 5 } as const;
export type TlsState = (typeof TlsState)[keyof typeof TlsState];
const STATE_NAMES = ['UNWRAPPED', 'DO_HANDSHAKE', 'WRAPPED', 'FLUSHING', 'SHUTDOWN', 'CLOSED'];
const { UNWRAPPED, DO_HANDSHAKE, WRAPPED, FLUSHING, SHUTDOWN, CLOSED } = TlsState;
/** Allowed transitions; anything else is a bug and throws. */
const NEXT_STATES: readonly (readonly TlsState[])[] = [
  [DO_HANDSHAKE, CLOSED], // UNWRAPPED
  [WRAPPED, CLOSED], // DO_HANDSHAKE
  [FLUSHING, CLOSED], // WRAPPED
  [SHUTDOWN, CLOSED], // FLUSHING
  [CLOSED], // SHUTDOWN
  [], // CLOSED
];

// The application protocol's states (CPython's AppProtocolState).
const APP_INIT = 0;
const APP_CON_MADE = 1;
const APP_EOF = 2;
const APP_CON_LOST = 3;

/**
 * Decrypted bytes the application has not taken (it paused reading) beyond which the raw socket
 * stops being read: asyncio's incoming high-water mark. Below it TLS-internal records (tickets,
 * KeyUpdate) are still read while the application is paused.
 */
const READ_BACKLOG_LIMIT = 256 * 1024;

function codedError(message: string, code: string): Error {
  const err = new Error(message) as Error & { code: string };
  err.code = code;
  return err;
}

/** Node's error for a peer that goes away before the handshake completes. */
function resetDuringHandshake(): Error {
  return codedError('Client network socket disconnected before secure TLS connection was established', 'ECONNRESET');
}

const OWNER = Symbol('TlsTransport');
type RawDuplex = Duplex & { [OWNER]: TlsTransport };

// The Duplex under the TLSSocket: plain functions (no closures per connection) reaching their
// TlsTransport through a symbol-keyed field.
function duplexRead(this: Duplex): void {
  (this as RawDuplex)[OWNER]['onDuplexRead']();
}
function duplexWrite(this: Duplex, chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
  (this as RawDuplex)[OWNER]['writeToRaw'](chunk, cb);
}
function duplexWritev(this: Duplex, chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
  (this as RawDuplex)[OWNER]['writeToRaw'](chunks.map((c) => c.chunk), cb);
}
function duplexFinal(this: Duplex, cb: (err?: Error | null) => void): void {
  (this as RawDuplex)[OWNER]['onCloseNotifySent']();
  cb();
}
function duplexDestroy(this: Duplex, err: Error | null, cb: (err: Error | null) => void): void {
  cb(err);
}

/**
 * The stream handle a TLSSocket over a JS stream reads from and writes to (Node's JSStream, made
 * by its JSStreamSocket around our Duplex). Its callbacks are ours to answer when we can reach
 * it: ciphertext then goes straight between the TLS engine and the raw transport, skipping the
 * Duplex's and JSStreamSocket's stream machinery on every record (about a tenth of the CPU per
 * message). Found and checked by engineHandleOf; without it the Duplex carries everything.
 */
interface EngineHandle {
  readBuffer(data: Uint8Array): void;
  finishWrite(req: object, status: number): void;
  finishShutdown(req: object, status: number): void;
  onwrite: (this: EngineHandle, req: object, bufs: Buffer[]) => number;
  onshutdown: (this: EngineHandle, req: object) => number;
  onreadstart: (this: EngineHandle) => number;
  onreadstop: (this: EngineHandle) => number;
  close: (this: EngineHandle, cb: () => void) => void;
  [OWNER]: TlsTransport;
  [CLOSE_HANDLE]: (this: EngineHandle, cb: () => void) => void; // JSStreamSocket's own close
}
const CLOSE_HANDLE = Symbol('JSStreamSocket close');

function engineHandleOf(socket: NodeTls.TLSSocket, duplex: Duplex): EngineHandle | null {
  const tlsWrap = (socket as unknown as { _handle?: { _parent?: unknown; _parentWrap?: { stream?: unknown; _handle?: unknown } } })._handle;
  const handle = tlsWrap?._parent as Partial<EngineHandle> | undefined;
  if (handle === undefined || tlsWrap?._parentWrap?.stream !== duplex || tlsWrap._parentWrap._handle !== handle) return null;
  const fns = [handle.readBuffer, handle.finishWrite, handle.finishShutdown, handle.onwrite, handle.onshutdown, handle.onreadstart, handle.onreadstop, handle.close];
  return fns.every((f) => typeof f === 'function') ? (handle as EngineHandle) : null;
}

function engineWrite(this: EngineHandle, req: object, bufs: Buffer[]): number {
  this[OWNER]['onEngineWrite'](req, bufs);
  return 0;
}
function engineShutdown(this: EngineHandle, req: object): number {
  this[OWNER]['onEngineShutdown'](req);
  return 0;
}
function engineReadStart(this: EngineHandle): number {
  this[OWNER]['setEngineReading'](true);
  return 0;
}
function engineReadStop(this: EngineHandle): number {
  this[OWNER]['setEngineReading'](false);
  return 0;
}
function engineClose(this: EngineHandle, cb: () => void): void {
  this[OWNER]['cancelEngineRequests']();
  this[CLOSE_HANDLE](cb);
}
function finishEngineWrite(tls: TlsTransport): void {
  tls['completeEngineWrite']();
}
const UV_ECANCELED = -(osConstants.errno.ECANCELED ?? 125);

/** Node's TLSWrap as reached through TLSSocket._handle: receive() feeds it ciphertext. */
interface TlsWrapHandle {
  receive(data: Uint8Array): void;
  readStart: () => number;
  readStop: () => number;
  [OWNER]?: TlsTransport;
}

/**
 * The wire under the TLS engine when it can have one: a net.Socket (a libuv handle) on a
 * duplicate of the raw transport's fd, to which the engine writes its records directly, as
 * node:tls does (no request object, call into JS, copy or deferred completion per record). It
 * never reads: the raw transport keeps reading, so a FIN without close_notify is still ours to
 * see, and hands the ciphertext to the engine with receive(). Null where there is no socket fd,
 * or where the raw transport still holds bytes to send (they must leave first); the engine then
 * writes through the raw transport. Each side closes its own descriptor, so neither can close a
 * number the other, or another thread, has reused.
 */
function wireOver(raw: Transport): NetSocket | null {
  const fd = raw.fileno();
  if (raw.kind !== 'socket' || fd < 0 || raw.getWriteBufferSize() > 0) return null;
  const copy = native.dup(fd);
  if (copy < 0) return null; // EMFILE, say: the engine writes through the raw transport instead
  try {
    const net = requireBuiltin('node:net') as typeof import('node:net');
    // manualStart: the handle never starts reading (Node's own option for sockets TLS wraps).
    const wire = new net.Socket({ fd: copy, readable: true, writable: true, allowHalfOpen: true, manualStart: true } as import('node:net').SocketConstructorOpts);
    if ((wire as unknown as { _handle: { reading?: boolean } | null })._handle?.reading === true) {
      // A Node that no longer honours manualStart: libuv would read our bytes. Not this path.
      wire.destroy();
      return null;
    }
    return wire;
  } catch {
    native.close(copy);
    return null;
  }
}
function wireReadStart(this: TlsWrapHandle): number {
  this[OWNER]!['setEngineReading'](true);
  return 0;
}
function wireReadStop(this: TlsWrapHandle): number {
  this[OWNER]!['setEngineReading'](false);
  return 0;
}

/** The protocol on the raw transport: hands its events to the TlsTransport. */
class RawSide implements Protocol {
  constructor(private readonly tls: TlsTransport) {}
  connectionMade(raw: Transport): void {
    this.tls['onRawConnected'](raw);
  }
  dataReceived(data: Buffer): void {
    this.tls['onRawData'](data);
  }
  eofReceived(): boolean {
    this.tls['onRawEof']();
    return true; // the TLS layer decides when the socket closes
  }
  connectionLost(err: Error | null): void {
    this.tls['onRawLost'](err);
  }
  pauseWriting(): void {
    // Writes into the raw transport are held by writeToRaw itself while it is above high-water.
  }
  resumeWriting(): void {
    this.tls['onRawWritable']();
  }
}

/**
 * A TLS connection with the Transport interface (a Transport, as asyncio's _SSLProtocolTransport
 * is a transports.Transport): write, close (close_notify after the buffered data), abort,
 * pause/resumeReading, water marks, getExtraInfo('peercert' | 'cipher' | 'tlsProtocol' |
 * 'alpnProtocol' | 'tlsSocket', and the raw transport's 'peername', 'sockname', 'socket').
 * It has no fd of its own: every method goes through the TLS layer to the raw transport.
 * canWriteEof() is false: TLS has no half-close.
 */
export class TlsTransport extends Transport {
  /** @internal The protocol to give the raw transport (createConnection). */
  readonly rawProtocol: RawSide = new RawSide(this);
  private raw: Transport | null = null;
  private app: AnyProtocol;
  private appIsBuffered: boolean;
  private appState = APP_INIT;
  private tlsState: TlsState = UNWRAPPED;
  private socket: NodeTls.TLSSocket | null = null;
  private duplex: RawDuplex | null = null;
  private timer: TimerHandle | null = null;
  private failure: Error | null = null;
  private closeRequested = false;
  private finalized = false;
  private rawGone = false;
  private rawEofSeen = false;
  private peerClosed = false; // the peer's close_notify was read
  // Reading: decrypted data the application has not taken yet.
  private backlog: Buffer[] = [];
  private backlogBytes = 0;
  private appReadPaused = false;
  private holdDelivery = false; // startTls: until the awaiting code has the transport
  private deliveryScheduled = false;
  private pendingPeerEof = false;
  private duplexFull = false; // the Duplex's buffer, or the engine's handle, takes no more for now
  private rawReadHeld = false;
  private engine: EngineHandle | null = null;
  private wireWrap: TlsWrapHandle | null = null; // the engine, when it writes to a wire (wireOver)
  private engineBacklog: Buffer[] | null = null; // ciphertext read while the engine stopped reading
  // Writing.
  private earlyWrites: Uint8Array[] | null = null; // before the TLSSocket exists
  private earlyBytes = 0;
  private heldWriteCallback: ((err?: Error | null) => void) | null = null;
  private writesInFlight = 0;
  private engineWriteReq: object | null = null; // the engine's one write in flight (engine handle)
  private engineShutdownReq: object | null = null; // its shutdown, waiting for that write
  private inEngineWrite = false;
  private readonly onEngineWriteDone = (): void => {
    // Never completed inside the engine's own call (it cannot take that: Node defers it too).
    if (this.inEngineWrite) setImmediate(finishEngineWrite, this);
    else this.completeEngineWrite();
  };
  private highWater: number;
  private lowWater: number;
  private maxBuffered = Infinity;
  private appWritePaused = false;
  private drainOwed = false;
  private upgradeSettle: { resolve: (t: TlsTransport) => void; reject: (err: Error) => void } | null = null;
  private readonly onAppWriteDone = (): void => this.checkWriteResume();
  private readonly onRawDrain = (): void => this.checkWriteResume();
  /** @internal For tests: the most writes ever in flight into the raw transport (must stay 1). */
  maxWritesInFlight = 0;
  /** @internal For tests: false makes new connections carry ciphertext through the Duplex only. */
  static useEngineHandle = true;
  /** @internal For tests: false makes new connections write ciphertext through the raw transport. */
  static useWire = true;

  /** @internal Use createConnection/createServer with `tls`, or reactor.startTls(). */
  constructor(
    private readonly tlsReactor: Reactor,
    protocol: AnyProtocol,
    private readonly config: TlsConfig,
    private readonly closeCallback?: (t: Transport, fd: number) => void,
  ) {
    super(tlsReactor, -1, protocol, 'socket');
    // The raw transport underneath is what reactor.close() frees; its connectionLost reaches us.
    tlsReactor.removeResource(this);
    this.app = protocol;
    this.appIsBuffered = isBufferedProtocol(protocol);
    const limits = super.getWriteBufferLimits();
    this.highWater = limits.high;
    this.lowWater = limits.low;
  }

  /** @internal A TLS transport over a new raw transport on `fd` (an accepted connection); start() starts it. */
  static overFd(reactor: Reactor, fd: number, protocol: AnyProtocol, config: TlsConfig, onClose?: (t: Transport, fd: number) => void): TlsTransport {
    const tls = new TlsTransport(reactor, protocol, config, onClose);
    tls.raw = new Transport(reactor, fd, tls.rawProtocol, 'socket');
    tls.acceptedFd = fd;
    return tls;
  }

  /** @internal Binds the raw transport made with `rawProtocol` (createConnection). */
  over(raw: Transport): this {
    this.raw = raw;
    return this;
  }

  /** @internal startTls: takes over a connected transport; resolves after the handshake. */
  upgrade(raw: Transport, readAhead: Uint8Array | undefined): Promise<TlsTransport> {
    return new Promise<TlsTransport>((resolve, reject) => {
      this.upgradeSettle = { resolve, reject };
      this.raw = raw;
      raw.setProtocol(this.rawProtocol);
      raw.resumeReading();
      this.beginHandshake(raw, readAhead);
    });
  }

  /** @internal */
  override start(): void {
    this.raw?.start();
  }

  // ---- state ---------------------------------------------------------------------------------

  private setTlsState(next: TlsState): void {
    if (!NEXT_STATES[this.tlsState]!.includes(next)) {
      throw new Error(`TLS transport: invalid state transition ${STATE_NAMES[this.tlsState]} -> ${STATE_NAMES[next]}`);
    }
    this.tlsState = next;
  }

  /** @internal For tests: whether ciphertext goes straight to and from Node's TLS engine handle. */
  get usesEngineHandle(): boolean {
    return this.engine !== null;
  }

  /** @internal For tests: whether the TLS engine writes its records to a wire of its own (wireOver). */
  get usesWire(): boolean {
    return this.wireWrap !== null;
  }

  /** @internal The TLS layer's state name (for tests and debugging). */
  get state(): string {
    return STATE_NAMES[this.tlsState]!;
  }

  private startTimer(ms: number, onExpiry: () => void): void {
    this.timer?.cancel();
    this.timer = this.tlsReactor.callLater(ms, onExpiry);
  }

  private stopTimer(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  // ---- handshake -----------------------------------------------------------------------------

  private onRawConnected(raw: Transport): void {
    // startTls on a transport that had not connected yet: the handshake already started.
    if (this.tlsState !== UNWRAPPED) return;
    this.beginHandshake(raw, undefined);
  }

  // Starts the handshake in this very call, so a ClientHello read in the same tick as the
  // connection is never missed (bpo-33674); bytes already read ahead go in first (cpython#142352).
  private beginHandshake(raw: Transport, readAhead: Uint8Array | undefined): void {
    this.raw = raw;
    this.setTlsState(DO_HANDSHAKE);
    if (!this.tlsReactor.isAttached()) {
      // Detached after the call that checked: fail rather than wait for a loop that never runs.
      return this.fail(codedError("TLS needs the reactor attached to Node's loop (reactor.attach() or Reactor.run)", 'ERR_TLS_NEEDS_ATTACH'), 'abort');
    }
    this.startTimer(this.config.handshakeTimeout, this.onHandshakeTimeout);
    raw.on('drain', this.onRawDrain);
    const wire = TlsTransport.useWire ? wireOver(raw) : null;
    let duplex: RawDuplex | null = null;
    if (wire === null) {
      const { Duplex } = requireBuiltin('node:stream') as typeof import('node:stream');
      duplex = new Duplex({ allowHalfOpen: true, read: duplexRead, write: duplexWrite, writev: duplexWritev, final: duplexFinal, destroy: duplexDestroy }) as RawDuplex;
      duplex[OWNER] = this;
      this.duplex = duplex;
    }
    const carrier = (wire ?? duplex)!;
    const tls = nodeTls();
    const { config } = this;
    const options = config.options;
    let socket: NodeTls.TLSSocket;
    try {
      if (config.isServer) {
        socket = new tls.TLSSocket(carrier, {
          isServer: true,
          secureContext: config.secureContext,
          requestCert: options.requestCert === true,
          rejectUnauthorized: options.rejectUnauthorized !== false,
          ALPNProtocols: options.ALPNProtocols,
          SNICallback: options.SNICallback,
        } as NodeTls.TLSSocketOptions);
        // Client-initiated renegotiation is a DoS and deadlock hazard (nodejs#4024, curio#198):
        // refused, the connection fails with ERR_TLS_RENEGOTIATION_DISABLED. (TLS 1.3 has none.)
        socket.disableRenegotiation();
        socket.on('secure', this.onServerSecure);
      } else {
        socket = tls.connect({
          ...options,
          socket: carrier,
          secureContext: config.secureContext,
          host: config.verifyHost,
          servername: config.servername,
          rejectUnauthorized: options.rejectUnauthorized !== false,
        } as NodeTls.ConnectionOptions);
        socket.on('secureConnect', this.onHandshakeDone);
      }
    } catch (err) {
      wire?.destroy();
      return this.fail(err instanceof Error ? err : new Error(String(err)), 'close');
    }
    this.socket = socket;
    if (wire !== null) {
      const wrap = (socket as unknown as { _handle: TlsWrapHandle })._handle;
      wrap[OWNER] = this;
      wrap.readStart = wireReadStart;
      wrap.readStop = wireReadStop;
      this.wireWrap = wrap;
      this.duplexFull = true; // until the engine's first readStart
      socket.on('finish', this.onWireFinish);
    }
    const engine = TlsTransport.useEngineHandle && duplex !== null ? engineHandleOf(socket, duplex) : null;
    if (engine !== null) {
      engine[OWNER] = this;
      engine.onwrite = engineWrite;
      engine.onshutdown = engineShutdown;
      engine.onreadstart = engineReadStart;
      engine.onreadstop = engineReadStop;
      engine[CLOSE_HANDLE] = engine.close;
      engine.close = engineClose;
      this.engine = engine;
      this.duplexFull = duplex!.readableFlowing !== true; // JSStreamSocket pauses it until the engine reads
    }
    socket.on('data', this.onTlsData);
    socket.on('end', this.onTlsEnd);
    socket.on('error', this.onTlsError);
    // A TLSSocket made with `new` (our server side) keeps "control" (tls.Server releases it): its
    // errors after the handshake (renegotiation refused, bad records) come only as '_tlsError'.
    socket.on('_tlsError', this.onTlsError);
    socket.on('close', this.onTlsClose);
    if (readAhead !== undefined && readAhead.length > 0) this.onRawData(Buffer.from(readAhead));
    const early = this.earlyWrites;
    if (early !== null) {
      this.earlyWrites = null;
      this.earlyBytes = 0;
      for (const chunk of early) socket.write(chunk, this.onAppWriteDone);
    }
  }

  private readonly onServerSecure = (): void => {
    const socket = this.socket!;
    const options = this.config.options;
    if (options.requestCert === true && options.rejectUnauthorized !== false) {
      // A client certificate OpenSSL accepted provisionally: as tls.Server, refuse it unless verified.
      const verifyError = (socket as unknown as { ssl: { verifyError(): Error | null } }).ssl.verifyError();
      if (verifyError) return this.fail(verifyError, 'close');
    }
    this.onHandshakeDone();
  };

  private readonly onHandshakeDone = (): void => {
    if (this.tlsState !== DO_HANDSHAKE) return;
    this.stopTimer();
    this.setTlsState(WRAPPED);
    this.appState = APP_CON_MADE;
    const settle = this.upgradeSettle;
    if (settle !== null) {
      // startTls: the awaiting code gets the transport before any data reaches the protocol
      // (asyncio does not call connection_made here either: the caller holds the transport).
      this.upgradeSettle = null;
      this.holdDelivery = true;
      settle.resolve(this);
      this.tlsReactor.callSoon(() => {
        this.holdDelivery = false;
        this.deliverBacklog();
      });
      return;
    }
    try {
      this.app.connectionMade?.(this);
    } catch (err) {
      this.reportAndFail(err, 'Fatal error: protocol.connectionMade() call failed.');
    }
  };

  private readonly onHandshakeTimeout = (): void => {
    this.timer = null;
    if (this.tlsState === DO_HANDSHAKE || this.tlsState === UNWRAPPED) {
      this.fail(codedError(`TLS handshake did not complete within ${this.config.handshakeTimeout} ms`, 'ERR_TLS_HANDSHAKE_TIMEOUT'), 'abort');
    }
  };

  // ---- reading -------------------------------------------------------------------------------

  private onRawData(data: Buffer): void {
    if (this.tlsState === CLOSED) return;
    const wrap = this.wireWrap;
    if (wrap !== null) {
      // Raw reads are views of slab memory, never rewritten: safe to keep while the engine waits.
      if (this.duplexFull) (this.engineBacklog ??= []).push(data);
      else wrap.receive(data);
      return;
    }
    const duplex = this.duplex;
    if (duplex === null) return;
    const engine = this.engine;
    if (engine !== null) {
      // Raw reads are views of slab memory, never rewritten: safe to keep while the engine waits.
      if (this.duplexFull) (this.engineBacklog ??= []).push(data);
      else engine.readBuffer(data);
      return;
    }
    if (!duplex.push(data)) {
      this.duplexFull = true;
      this.updateRawReading();
    }
  }

  // The engine's readStart/readStop (its own buffer of plaintext is full, or drained).
  private setEngineReading(reading: boolean): void {
    if (this.duplexFull !== reading) return;
    this.duplexFull = !reading;
    if (reading && this.engineBacklog !== null) process.nextTick(() => this.feedEngineBacklog());
    this.updateRawReading();
  }

  private feedEngineBacklog(): void {
    const backlog = this.engineBacklog;
    while (backlog !== null && backlog.length > 0 && !this.duplexFull && this.tlsState !== CLOSED) {
      const data = backlog.shift()!;
      if (this.wireWrap !== null) this.wireWrap.receive(data);
      else this.engine!.readBuffer(data);
    }
    if (backlog !== null && backlog.length === 0) this.engineBacklog = null;
  }

  private onDuplexRead(): void {
    if (!this.duplexFull) return;
    this.duplexFull = false;
    this.updateRawReading();
  }

  // The raw socket is read while the TLS engine takes bytes and the application's backlog is small.
  private updateRawReading(): void {
    const raw = this.raw;
    if (raw === null || this.rawGone) return;
    const hold = this.duplexFull || this.backlogBytes >= READ_BACKLOG_LIMIT;
    if (hold && !this.rawReadHeld) {
      this.rawReadHeld = true;
      raw.pauseReading();
    } else if (!hold && this.rawReadHeld) {
      this.rawReadHeld = false;
      raw.resumeReading();
    }
  }

  private readonly onTlsData = (chunk: Buffer): void => {
    // After close() incoming data is discarded (the shutdown drains it); after EOF there is none.
    if (this.tlsState !== WRAPPED || this.appState !== APP_CON_MADE || this.closeRequested) return;
    if (this.appReadPaused || this.holdDelivery || this.backlogBytes > 0) {
      this.backlog.push(chunk);
      this.backlogBytes += chunk.length;
      if (this.backlogBytes >= READ_BACKLOG_LIMIT) this.updateRawReading();
      return;
    }
    this.deliver(chunk);
  };

  private deliver(chunk: Buffer): void {
    const app = this.app;
    try {
      if (this.appIsBuffered) {
        // The protocol's own buffer, filled with exactly the decrypted bytes (cpython#156275).
        const protocol = app as BufferedProtocol;
        for (let offset = 0; offset < chunk.length; ) {
          const buf = protocol.getBuffer(chunk.length - offset);
          if (!(buf instanceof Uint8Array) || buf.length === 0) throw new TypeError('getBuffer() returned an empty or non-Uint8Array buffer');
          const n = Math.min(buf.length, chunk.length - offset);
          buf.set(chunk.subarray(offset, offset + n));
          offset += n;
          protocol.bufferUpdated(n);
        }
      } else {
        (app as Protocol).dataReceived?.(chunk);
      }
    } catch (err) {
      return this.reportAndFail(err, `Fatal error: protocol.${this.appIsBuffered ? 'getBuffer()/bufferUpdated()' : 'dataReceived()'} call failed.`);
    }
    if (this.hasDataListener()) this.emit('data', chunk);
  }

  private scheduleDelivery(): void {
    if (this.deliveryScheduled) return;
    this.deliveryScheduled = true;
    this.tlsReactor.callSoon(() => {
      this.deliveryScheduled = false;
      this.deliverBacklog();
    });
  }

  // Data already decrypted is delivered on resume with no new network traffic (envoy#13234).
  private deliverBacklog(force = false): void {
    const backlog = this.backlog;
    while (backlog.length > 0 && (force || (!this.appReadPaused && !this.holdDelivery && this.tlsState === WRAPPED && !this.closeRequested))) {
      const chunk = backlog.shift()!;
      this.backlogBytes -= chunk.length;
      if (this.appState === APP_CON_MADE) this.deliver(chunk);
    }
    if (backlog.length === 0 && this.pendingPeerEof && !this.appReadPaused && !force) {
      this.pendingPeerEof = false;
      this.peerEof();
    }
    this.updateRawReading();
  }

  override pauseReading(): void {
    if (this.isClosing() || this.appReadPaused) return;
    this.appReadPaused = true;
  }

  override resumeReading(): void {
    if (this.isClosing() || !this.appReadPaused) return;
    this.appReadPaused = false;
    if (this.backlogBytes > 0 || this.pendingPeerEof) this.scheduleDelivery();
  }

  override isReading(): boolean {
    return !this.appReadPaused && !this.isClosing();
  }

  // The peer's close_notify: the application's EOF (its wish to keep writing cannot be honoured:
  // a TLS transport that receives close_notify sends its own, twisted#5118), then our shutdown.
  private readonly onTlsEnd = (): void => {
    this.peerClosed = true;
    if (this.tlsState !== WRAPPED || this.rawEofSeen) return;
    if (this.backlogBytes > 0 || this.appReadPaused || this.holdDelivery) {
      this.pendingPeerEof = true;
      return;
    }
    this.peerEof();
  };

  private peerEof(): void {
    if (this.appState !== APP_CON_MADE || this.tlsState !== WRAPPED) return;
    this.appState = APP_EOF;
    try {
      this.app.eofReceived?.();
    } catch (err) {
      return this.reportAndFail(err, 'Fatal error: protocol.eofReceived() call failed.');
    }
    this.emit('end');
    this.close();
  }

  // A TCP FIN: after the peer's close_notify it ends our shutdown; without one it is a possible
  // truncation, reported as an error, never as a clean EOF (uvloop#385).
  private onRawEof(): void {
    this.rawEofSeen = true;
    switch (this.tlsState) {
      case UNWRAPPED:
      case DO_HANDSHAKE:
        return this.fail(resetDuringHandshake(), 'close');
      case WRAPPED:
        // A close_notify read just before is reported by the TLSSocket on a next tick: look after it.
        process.nextTick(() => {
          if (this.tlsState === WRAPPED && !this.peerClosed) {
            this.fail(codedError('the peer closed the connection without a TLS close_notify: the data may be truncated', 'ERR_SSL_UNEXPECTED_EOF_WHILE_READING'), 'close');
          }
        });
        return;
      case SHUTDOWN:
        return this.finishShutdown();
      default:
        // FLUSHING: our data is still going out; the shutdown ends once close_notify is sent.
        return;
    }
  }

  private onRawLost(err: Error | null): void {
    this.rawGone = true;
    this.raw?.off('drain', this.onRawDrain);
    if (this.tlsState !== CLOSED) {
      const handshaking = this.tlsState === UNWRAPPED || this.tlsState === DO_HANDSHAKE;
      this.failure ??= err ?? (handshaking ? resetDuringHandshake() : null);
      this.setTlsState(CLOSED);
      this.stopTimer();
      this.socket?.destroy();
    }
    this.finalize();
  }

  // ---- writing -------------------------------------------------------------------------------

  /**
   * Encrypts and sends `data` (before the handshake completes it waits for it). Your buffers are
   * copied when they must wait, so you may reuse them.
   * @throws code ERR_TRANSPORT_CLOSED after close().
   */
  override write(data: Uint8Array | string): void {
    const bytes = toBytes(data, 'data');
    if (this.closeRequested || this.tlsState >= FLUSHING) throw transportClosedError('write()');
    if (bytes.length === 0) return;
    const socket = this.socket;
    if (socket === null) {
      (this.earlyWrites ??= []).push(Uint8Array.prototype.slice.call(bytes));
      this.earlyBytes += bytes.length;
    } else {
      // The TLSSocket keeps a reference to what it cannot encrypt at once.
      const mustCopy = (this.tlsState !== WRAPPED || socket.writableLength > 0) && !isReadSlabView(bytes);
      socket.write(mustCopy ? Uint8Array.prototype.slice.call(bytes) : bytes, this.onAppWriteDone);
    }
    if (this.maxBuffered !== Infinity && this.failIfOverMax()) return;
    this.checkWritePause();
  }

  // The hard limit, as on a plain transport: a protocol that ignores pauseWriting() fails its
  // connection (connectionLost with ERR_WRITE_BUFFER_FULL) instead of growing memory without bound.
  private failIfOverMax(): boolean {
    const size = this.getWriteBufferSize();
    if (size <= this.maxBuffered) return false;
    this.fail(writeBufferFull(size, this.maxBuffered), 'abort');
    return true;
  }

  /** @throws TypeError: TLS has no half-close (twisted#5341); use close(). */
  override writeEof(): void {
    throw new TypeError('writeEof() is not supported on a TLS transport: TLS has no half-close; use close()');
  }

  override canWriteEof(): boolean {
    return false;
  }

  /** Bytes written and not yet handed to the kernel: waiting in the TLS layer plus in the raw transport. */
  override getWriteBufferSize(): number {
    if (this.tlsState === CLOSED) return 0;
    const tlsBytes = this.socket !== null ? this.socket.writableLength : this.earlyBytes;
    return tlsBytes + (this.raw !== null ? this.raw.getWriteBufferSize() : 0);
  }

  /**
   * The water marks and the hard limit, as on a plain transport; they count the bytes waiting in
   * the TLS layer and in the raw transport together (getWriteBufferSize()).
   */
  override setWriteBufferLimits(limits: { high?: number; low?: number; max?: number } = {}): void {
    super.setWriteBufferLimits(limits); // checks and stores them
    const { high, low, max } = super.getWriteBufferLimits();
    this.highWater = high;
    this.lowWater = low;
    this.maxBuffered = max;
    if (this.tlsState !== CLOSED && !this.closeRequested && this.failIfOverMax()) return;
    this.checkWritePause();
    this.checkWriteResume();
  }

  private checkWritePause(): void {
    if (this.appWritePaused || this.tlsState === CLOSED) return;
    const size = this.getWriteBufferSize();
    if (size > 0) this.drainOwed = true;
    if (size <= this.highWater) return;
    this.appWritePaused = true;
    tellProtocol(this.tlsReactor, this, this.app, 'pauseWriting');
  }

  private checkWriteResume(): void {
    if (this.tlsState === CLOSED || !(this.appWritePaused || this.drainOwed)) return;
    const size = this.getWriteBufferSize();
    if (this.appWritePaused && size <= this.lowWater) {
      this.appWritePaused = false;
      tellProtocol(this.tlsReactor, this, this.app, 'resumeWriting');
    }
    if (size === 0 && this.drainOwed) {
      this.drainOwed = false;
      if ((this as unknown as { _eventsCount: number })._eventsCount > 0 && this.listenerCount('drain') > 0) this.emit('drain');
    }
  }

  // What the TLS engine writes (records, alerts, close_notify): into the raw transport, the
  // callback held while the raw transport is above its high-water mark. Node's TLSWrap has at most
  // one write in flight (nodejs#30896); maxWritesInFlight lets the tests check that it stays so.
  private writeToRaw(chunks: Buffer | readonly Buffer[], cb: (err?: Error | null) => void): void {
    const raw = this.raw;
    if (raw === null || this.rawGone || raw.isClosing()) return cb(); // torn down: nothing can be sent any more
    this.writesInFlight++;
    if (this.writesInFlight > this.maxWritesInFlight) this.maxWritesInFlight = this.writesInFlight;
    if (chunks instanceof Uint8Array) raw.write(chunks);
    else for (let i = 0; i < chunks.length; i++) raw.write(chunks[i]!);
    if (raw.getWriteBufferSize() > raw.getWriteBufferLimits().high) {
      this.heldWriteCallback = cb;
      this.checkWritePause();
      return;
    }
    this.writesInFlight--;
    cb();
  }

  private onRawWritable(): void {
    const cb = this.heldWriteCallback;
    if (cb !== null) {
      this.heldWriteCallback = null;
      this.writesInFlight--;
      cb();
    }
    this.checkWriteResume();
  }

  // ---- the engine handle's writes and shutdown (when engineHandleOf found it) ------------------

  private onEngineWrite(req: object, bufs: Buffer[]): void {
    this.engineWriteReq = req;
    this.inEngineWrite = true;
    try {
      this.writeToRaw(bufs, this.onEngineWriteDone);
    } finally {
      this.inEngineWrite = false;
    }
  }

  private completeEngineWrite(): void {
    const req = this.engineWriteReq;
    if (req === null) return; // cancelled by the handle's close
    this.engineWriteReq = null;
    this.engine!.finishWrite(req, 0);
    const shutdown = this.engineShutdownReq;
    if (shutdown !== null && this.engineWriteReq === null) {
      this.engineShutdownReq = null;
      this.onEngineShutdown(shutdown);
    }
  }

  // close_notify is written before the engine asks for the shutdown, but may still be the write in
  // flight: the half-close waits for it (as JSStreamSocket's doShutdown does).
  private onEngineShutdown(req: object): void {
    if (this.engineWriteReq !== null) {
      this.engineShutdownReq = req;
      return;
    }
    process.nextTick(() => {
      this.onCloseNotifySent();
      this.engine?.finishShutdown(req, 0);
    });
  }

  // The TLSSocket is being destroyed: its requests end as cancelled, as JSStreamSocket ends its own.
  private cancelEngineRequests(): void {
    const engine = this.engine!;
    const write = this.engineWriteReq;
    const shutdown = this.engineShutdownReq;
    this.engineWriteReq = null;
    this.engineShutdownReq = null;
    this.heldWriteCallback = null;
    this.engineBacklog = null;
    if (write !== null || shutdown !== null) {
      setImmediate(() => {
        if (write !== null) engine.finishWrite(write, UV_ECANCELED);
        if (shutdown !== null) engine.finishShutdown(shutdown, UV_ECANCELED);
      });
    }
  }

  // ---- closing -------------------------------------------------------------------------------

  /**
   * Sends close_notify once the buffered data is out, waits (at most shutdownTimeout) for the
   * peer's, then closes the socket; connectionLost(null) follows. Idempotent.
   */
  override close(): void {
    if (this.closeRequested) return;
    this.closeRequested = true;
    this.backlog = [];
    this.backlogBytes = 0;
    this.pendingPeerEof = false;
    switch (this.tlsState) {
      case UNWRAPPED:
      case DO_HANDSHAKE:
        return this.fail(null, 'close');
      case WRAPPED:
        this.setTlsState(FLUSHING);
        this.startTimer(this.config.shutdownTimeout, this.onShutdownTimeout);
        this.socket!.end(); // after the buffered writes: TLSWrap's SSL_shutdown -> duplexFinal
        this.updateRawReading();
        return;
      default:
        return;
    }
  }

  // The wire's shutdown completed: close_notify is written and TCP half-closed (the engine's
  // shutdown ends with the wire's own).
  private readonly onWireFinish = (): void => this.onCloseNotifySent();

  // close_notify has been handed to the raw transport: half-close TCP, then wait for the peer.
  private onCloseNotifySent(): void {
    if (this.tlsState !== FLUSHING) return;
    this.setTlsState(SHUTDOWN);
    const raw = this.raw;
    if (this.wireWrap === null && raw !== null && !this.rawGone && !raw.isClosing()) raw.writeEof();
    if (this.rawEofSeen) this.finishShutdown();
  }

  private finishShutdown(): void {
    if (this.tlsState === CLOSED) return;
    this.setTlsState(CLOSED);
    this.stopTimer();
    this.socket?.destroy();
    if (this.rawGone) return this.finalize();
    this.raw!.close(); // flushes what is left; its connectionLost finalizes
  }

  // The peer never answered close_notify (TLS 1.3 servers often do not, aiohttp#11091): close
  // anyway. An error only if our own data did not all leave.
  private readonly onShutdownTimeout = (): void => {
    this.timer = null;
    if (this.tlsState !== FLUSHING && this.tlsState !== SHUTDOWN) return;
    const unsent = this.tlsState === FLUSHING || (this.raw !== null && this.raw.getWriteBufferSize() > 0);
    this.fail(unsent ? codedError(`TLS shutdown did not complete within ${this.config.shutdownTimeout} ms`, 'ERR_TLS_SHUTDOWN_TIMEOUT') : null, 'abort');
  };

  private readonly onTlsError = (err: Error): void => {
    this.fail(err, 'close');
  };

  // The TLSSocket closed by itself: both directions finished cleanly (or after an error, handled).
  private readonly onTlsClose = (): void => {
    if (this.tlsState === SHUTDOWN || this.tlsState === FLUSHING) this.finishShutdown();
    else if (this.tlsState !== CLOSED) this.fail(this.tlsState === DO_HANDSHAKE ? resetDuringHandshake() : null, 'close');
  };

  /** Closes now: no close_notify, buffered data dropped. */
  override abort(): void {
    this.closeRequested = true;
    if (this.tlsState !== CLOSED) return this.fail(null, 'abort');
    if (!this.rawGone) this.raw?.abort();
  }

  private reportAndFail(err: unknown, message: string): void {
    this.tlsReactor.callExceptionHandler({ message, exception: err, transport: this, protocol: this.app });
    this.fail(err instanceof Error ? err : new Error(String(err)), 'abort');
  }

  /**
   * The one way down: records the first error, lets go of the TLS engine and closes the raw
   * transport ('close' flushes what is queued, such as an alert; 'abort' drops it). The
   * application hears of it once the socket is closed (finalize).
   */
  private fail(err: Error | null, how: 'close' | 'abort'): void {
    if (this.tlsState === CLOSED) return;
    if (this.failure === null) this.failure = err;
    this.setTlsState(CLOSED);
    this.stopTimer();
    this.socket?.destroy();
    if (this.rawGone || this.raw === null) return this.finalize();
    if (how === 'abort') this.raw.abort();
    else this.raw.close();
  }

  private finalize(): void {
    if (this.finalized) return;
    this.finalized = true;
    this.stopTimer();
    const err = this.failure;
    // Plaintext already decrypted reaches the application before the loss (node-v0.x#8299).
    if (!this.closeRequested && this.backlogBytes > 0) this.deliverBacklog(true);
    this.backlog = [];
    this.backlogBytes = 0;
    const settle = this.upgradeSettle;
    if (settle !== null) {
      // startTls that never completed: the promise rejects, the protocol hears nothing.
      this.upgradeSettle = null;
      settle.reject(err ?? resetDuringHandshake());
    } else if (this.appState !== APP_CON_LOST) {
      this.appState = APP_CON_LOST;
      try {
        this.app.connectionLost?.(err);
      } catch (e) {
        this.tlsReactor.callExceptionHandler({ message: 'Fatal error: protocol.connectionLost() call failed.', exception: e, transport: this, protocol: this.app });
      }
    }
    this.closeCallback?.(this, this.acceptedFd);
    if (err !== null && this.listenerCount('error') > 0) this.emit('error', err);
    this.emit('close', err);
  }

  /** Closing or closed, also when the raw transport underneath is (cpython#118950). */
  override isClosing(): boolean {
    return this.closeRequested || this.tlsState === CLOSED || (this.raw !== null && this.raw.isClosing());
  }

  // ---- the rest of the interface ---------------------------------------------------------------

  /**
   * 'peercert' (the peer's certificate as tls.TLSSocket.getPeerCertificate() gives it), 'cipher',
   * 'tlsProtocol' ('TLSv1.3', ...), 'alpnProtocol' (the negotiated protocol), 'tlsSocket' (Node's
   * TLSSocket, to inspect only: getSession(), exportKeyingMaterial(); reading or writing it
   * would corrupt the connection), or the raw transport's ('peername', 'sockname', 'socket').
   */
  override getExtraInfo(name: string, defaultValue?: unknown): unknown {
    const socket = this.tlsState >= WRAPPED ? this.socket : null;
    switch (name) {
      case 'peercert': {
        const cert = socket?.getPeerCertificate();
        return cert !== undefined && Object.keys(cert).length > 0 ? cert : defaultValue;
      }
      case 'cipher':
        return socket?.getCipher() ?? defaultValue;
      case 'tlsProtocol':
        return socket?.getProtocol() ?? defaultValue;
      case 'alpnProtocol':
        return typeof socket?.alpnProtocol === 'string' ? socket.alpnProtocol : defaultValue;
      case 'tlsSocket':
        return this.socket ?? defaultValue;
      default:
        return this.raw !== null ? this.raw.getExtraInfo(name, defaultValue) : defaultValue;
    }
  }

  override getProtocol(): AnyProtocol {
    return this.app;
  }

  override setProtocol(protocol: AnyProtocol): void {
    this.app = protocol;
    this.appIsBuffered = isBufferedProtocol(protocol);
  }

  /** The fd a server accepted this connection on (its slot in the server's table), else -1. */
  private acceptedFd = -1;

  /** @internal The raw transport's fd, or -1. */
  override fileno(): number {
    return this.raw !== null ? this.raw.fileno() : -1;
  }
}
