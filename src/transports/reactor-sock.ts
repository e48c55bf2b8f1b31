// The Reactor's promise sock_* capability (asyncio's loop.sock_recv and friends) for non-blocking
// Sockets. Installed on Reactor.prototype by reactor-capabilities.ts.
//
// Every call first tries the operation at once; only when it would block does it watch the fd,
// and it stops watching the moment it settles or its signal aborts, synchronously, so an abort
// followed at once by a new call on the same fd never races an old cleanup (cpython PR #20369)
// and nothing is ever received into or accepted for a settled promise (cpython #153761).
//
// One waiting call per direction and fd: a second sockRecv (or sockAccept, sockRecvfrom, ...)
// while one waits to read the same fd rejects with code 'ERR_FD_BUSY', as does a call on an fd a
// transport or addReader/addWriter watches. Reading and writing concurrently is fine. Two readers
// on one stream could only interleave its bytes; asyncio silently dropped the first waiter.
//
// An aborted sockSendall may have sent part of its data; the caller cannot know which prefix.
// Then the socket is marked: a later sockSendall/sockSendto on it rejects with code
// 'ERR_SOCK_SEND_ABORTED' carrying `sent` and `total` (trio#889). Nothing is kept after an abort.
import type { Reactor } from '../loop/reactor.js';
import { native } from '../select/native.js';
import { osError, isWouldBlock, ERRNO, ValueError, OSError } from '../select/errors.js';
import { toBytes } from '../select/fds.js';
import { EVENT_READ, EVENT_WRITE } from '../selectors/index.js';
import { reactorClosed } from '../loop/errors.js';
import { SOL_SOCKET, SO_ERROR } from './constants.js';
import { Socket } from './socket.js';
import type { Address } from './address.js';
import { readSlab, readSlabOffset, takeRead } from './read-slab.js';
import { abortReason, onAbort, signalOf, type AbortOptions } from './abort.js';
import { resolveSockaddr } from './host-resolver.js';

declare module '../loop/reactor.js' {
  interface Reactor extends SockMethods {}
}

/** Returned by an attempt that would block. */
const AGAIN = Symbol('again');
type Attempt<T> = (fd: number) => T | typeof AGAIN;

const NEG_EINPROGRESS = -ERRNO.EINPROGRESS;
const NEG_EBADF = -ERRNO.EBADF;
const soError = new Int32Array(1);

/** Sockets whose aborted sockSendall left part of a message on the wire. */
const sendAborted = new WeakMap<Socket, { sent: number; total: number }>();

function busy(what: string, fd: number, direction: number): Error {
  const dir = direction === EVENT_READ ? 'reading' : 'writing';
  const err = new Error(
    `${what}: fd ${fd} is already watched for ${dir} (another sock_* call waits on it, or a transport or add${direction === EVENT_READ ? 'Reader' : 'Writer'} owns it)`,
  ) as Error & { code: string };
  err.code = 'ERR_FD_BUSY';
  return err;
}

function liveFd(sock: Socket, what: string): number {
  if (!(sock instanceof Socket)) throw new TypeError(`${what}: sock must be a Socket`);
  const fd = sock.fileno();
  if (fd < 0) throw new OSError(NEG_EBADF, what, '(the socket is closed)');
  if (sock.getBlocking()) throw new ValueError(`${what}: the socket must be non-blocking (call sock.setBlocking(false))`);
  return fd;
}

/**
 * Runs attempt now; if it would block, again each time the fd is ready in `direction` until it
 * completes, fails or the signal aborts. Validation errors reject (never throw).
 */
function whenReady<T>(
  reactor: Reactor,
  sock: Socket,
  direction: number,
  what: string,
  options: AbortOptions | undefined,
  attempt: Attempt<T>,
  onAborted?: () => void,
): Promise<T> {
  let fd: number;
  let signal: AbortSignal | undefined;
  try {
    if (reactor.isClosed()) throw reactorClosed();
    fd = liveFd(sock, what);
    signal = signalOf(options);
    // An aborted signal rejects before anything is tried or registered.
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (reactor.watchedEvents(fd) & direction) throw busy(what, fd, direction);
    const first = attempt(fd);
    if (first !== AGAIN) return Promise.resolve(first);
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let stopListening: (() => void) | null = null;
    const finish = (): void => {
      settled = true;
      // Still ours unless addReader/addWriter replaced it (which cancelled it).
      if (!handle.cancelled) {
        if (direction === EVENT_READ) reactor.removeReader(fd);
        else reactor.removeWriter(fd);
      }
      stopListening?.();
    };
    const ready = (): void => {
      if (settled) return;
      let result: T | typeof AGAIN;
      try {
        // The Socket was closed under us (its fd number may already belong to another socket).
        if (sock.fileno() !== fd) throw new OSError(NEG_EBADF, what, '(the socket was closed while waiting)');
        result = attempt(fd);
      } catch (err) {
        finish();
        return reject(err);
      }
      if (result === AGAIN) return;
      finish();
      resolve(result);
    };
    const handle = direction === EVENT_READ ? reactor.addReader(fd, ready) : reactor.addWriter(fd, ready);
    if (signal !== undefined) {
      stopListening = onAbort(signal, () => {
        if (settled) return;
        finish();
        onAborted?.();
        reject(abortReason(signal!));
      });
    }
  });
}

function recvSlab(fd: number, n: number): Buffer | typeof AGAIN {
  const slab = readSlab(n);
  const r = native.recv(fd, slab, readSlabOffset(), n, 0);
  if (r < 0) {
    if (isWouldBlock(r)) return AGAIN;
    throw osError(r, 'recv');
  }
  return takeRead(r);
}

function checkSize(n: unknown, name: string): number {
  if (typeof n !== 'number') throw new TypeError(`${name} must be a number, not ${typeof n}`);
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`${name} must be a non-negative integer, got ${n}`);
  return n;
}

function rejectIfSendAborted(sock: Socket, what: string): void {
  const mark = sock instanceof Socket ? sendAborted.get(sock) : undefined;
  if (mark === undefined) return;
  const err = new Error(
    `${what}: an earlier sockSendall on this socket was aborted after sending ${mark.sent} of ${mark.total} bytes; the stream is mid-message (close the socket)`,
  ) as Error & { code: string; sent: number; total: number };
  err.code = 'ERR_SOCK_SEND_ABORTED';
  err.sent = mark.sent;
  err.total = mark.total;
  throw err;
}

/** asyncio's loop.sock_* as promises: `await reactor.sockRecv(sock, 1024)`. */
export class SockMethods {
  /** At most n bytes; an empty Buffer at EOF. */
  sockRecv(this: Reactor, sock: Socket, n: number, options?: AbortOptions): Promise<Buffer> {
    let size: number;
    try {
      size = checkSize(n, 'n');
    } catch (err) {
      return Promise.reject(err);
    }
    return whenReady(this, sock, EVENT_READ, 'sockRecv', options, (fd) => recvSlab(fd, size));
  }

  /** Receives into buf (its whole length); resolves with the count (0 at EOF). */
  sockRecvInto(this: Reactor, sock: Socket, buf: Uint8Array, options?: AbortOptions): Promise<number> {
    if (!(buf instanceof Uint8Array)) return Promise.reject(new TypeError('buf must be a Uint8Array or Buffer'));
    return whenReady(this, sock, EVENT_READ, 'sockRecvInto', options, (fd) => {
      const r = native.recv(fd, buf, 0, buf.length, 0);
      if (r >= 0) return r;
      if (isWouldBlock(r)) return AGAIN;
      throw osError(r, 'recv_into');
    });
  }

  /** A datagram of at most n bytes and its sender. */
  sockRecvfrom(this: Reactor, sock: Socket, n: number, options?: AbortOptions): Promise<[Buffer, Address | null]> {
    let size: number;
    try {
      size = checkSize(n, 'n');
    } catch (err) {
      return Promise.reject(err);
    }
    return whenReady(this, sock, EVENT_READ, 'sockRecvfrom', options, (fd) => {
      const slab = readSlab(size);
      const r = native.recvfrom(fd, slab, readSlabOffset(), size, 0);
      if (typeof r === 'number') {
        if (isWouldBlock(r)) return AGAIN;
        throw osError(r, 'recvfrom');
      }
      return [takeRead(r[0]), r[1] as Address | null];
    });
  }

  /**
   * Sends all of data. Don't change data until the promise settles (it is not copied). An abort
   * after a partial send marks the socket (see the top of this file).
   */
  sockSendall(this: Reactor, sock: Socket, data: Uint8Array | string, options?: AbortOptions): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = toBytes(data, 'data');
      rejectIfSendAborted(sock, 'sockSendall');
    } catch (err) {
      return Promise.reject(err);
    }
    let sent = 0;
    const total = bytes.length;
    return whenReady(
      this,
      sock,
      EVENT_WRITE,
      'sockSendall',
      options,
      (fd) => {
        while (sent < total) {
          const r = native.send(fd, bytes, sent, total - sent, 0);
          if (r < 0) {
            if (isWouldBlock(r)) return AGAIN;
            throw osError(r, 'send', `(${sent} of ${total} bytes sent)`);
          }
          sent += r;
        }
        return undefined;
      },
      () => {
        if (sent > 0 && sent < total) sendAborted.set(sock, { sent, total });
      },
    );
  }

  /** One datagram to addr (a host name is resolved off the loop first); resolves with the count. */
  sockSendto(this: Reactor, sock: Socket, data: Uint8Array | string, addr: Address, options?: AbortOptions): Promise<number> {
    let bytes: Uint8Array;
    try {
      bytes = toBytes(data, 'data');
      rejectIfSendAborted(sock, 'sockSendto');
      liveFd(sock, 'sockSendto');
    } catch (err) {
      return Promise.reject(err);
    }
    return resolveSockaddr(this, sock.family, sock.type, addr, options).then((sockaddr) =>
      whenReady(this, sock, EVENT_WRITE, 'sockSendto', options, (fd) => {
        const r = native.sendto(fd, bytes, 0, bytes.length, 0, sockaddr);
        if (r >= 0) return r;
        if (isWouldBlock(r)) return AGAIN;
        throw osError(r, 'sendto');
      }),
    );
  }

  /** A new connection: [non-blocking Socket, peer address]. */
  sockAccept(this: Reactor, sock: Socket, options?: AbortOptions): Promise<[Socket, Address]> {
    return whenReady(this, sock, EVENT_READ, 'sockAccept', options, (fd) => {
      const r = native.acceptAddress(fd, true);
      if (typeof r === 'number') {
        if (isWouldBlock(r) || r === -ERRNO.ECONNABORTED || r === -ERRNO.EINTR) return AGAIN;
        throw osError(r, 'accept');
      }
      return [Socket.adopt(r[0], sock.family, sock.type, false), (r[1] ?? '') as Address];
    });
  }

  /**
   * Connects; a host name is resolved off the loop first. connect() and watching for its
   * completion happen in one step, with no await between them (python/asyncio#366). An aborted
   * connect leaves the socket in an unknown state: close it.
   */
  sockConnect(this: Reactor, sock: Socket, addr: Address, options?: AbortOptions): Promise<void> {
    try {
      liveFd(sock, 'sockConnect');
    } catch (err) {
      return Promise.reject(err);
    }
    return resolveSockaddr(this, sock.family, sock.type, addr, options).then((sockaddr) => {
      let started = false;
      return whenReady(this, sock, EVENT_WRITE, 'sockConnect', options, (fd) => {
        if (!started) {
          started = true;
          const r = native.connect(fd, sockaddr);
          if (r === 0) return undefined;
          if (r === NEG_EINPROGRESS) return AGAIN;
          // AF_UNIX answers EAGAIN when the listener's backlog is full: nothing is in progress,
          // so waiting for writability would report a connection that never happened.
          throw osError(r, 'connect', `(${String(addr)})`);
        }
        native.getsockopt(fd, SOL_SOCKET, SO_ERROR, soError);
        if (soError[0] === 0) return undefined;
        throw osError(-soError[0]!, 'connect', `(${String(addr)})`);
      });
    });
  }
}
