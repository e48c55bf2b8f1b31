// A subset of Python's socket.socket. New sockets are blocking, as in Python; in non-blocking
// mode an operation that would block throws BlockingIOError. Every fd is close-on-exec.
import { inspect, type InspectOptions } from 'node:util';
import { native } from '../select/native.js';
import { check, osError, isWouldBlock, OSError, ERRNO, ValueError } from '../select/errors.js';
import { fileobjToFd } from '../select/fileobj.js';
import { toBytes } from '../select/fds.js';
import { AF_INET, AF_UNIX, MSG_TRUNC, SOCK_STREAM, SOMAXCONN, familyName, typeName } from './constants.js';
import { toSockaddr, type Address } from './address.js';
import { readSlab, readSlabOffset, takeRead } from './read-slab.js';
import { socketDebugEnabled, trackUnclosed, untrackUnclosed, warnUnclosed } from '../loop/debug.js';
import { datagramNative } from './datagram-native.js';

const scratch = new Int32Array(2);
const EBADF = -ERRNO.EBADF;
// With MSG_TRUNC, recv returns a datagram's full length, more than it copied, and on a TCP socket
// it copies nothing at all: the bytes handed out must be only those written, and written ones.
const TRUNC = MSG_TRUNC ?? 0;

function checkInt(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, not ${typeof value}`);
  if (!Number.isInteger(value)) throw new ValueError(`${name} must be an integer, got ${value}`);
  return value;
}

function checkSize(value: unknown, name: string): number {
  const n = checkInt(value, name);
  if (n < 0) throw new ValueError(`negative ${name}: ${n}`);
  return n;
}

/** Debug mode: a Socket collected without close() or detach() is reported (a ResourceWarning). */
function trackSocket(sock: Socket): void {
  trackUnclosed(sock, { description: `<Socket fd=${sock.fileno()} family=${sock.family} type=${sock.type}>`, report: warnUnclosed });
}

export class Socket {
  private fd: number;
  readonly family: number;
  readonly type: number;
  private blocking: boolean;

  constructor(family: number = AF_INET, type: number = SOCK_STREAM, protocol = 0) {
    checkInt(family, 'family');
    checkInt(type, 'type');
    checkInt(protocol, 'protocol');
    this.fd = check(native.socket(family, type, protocol, false), 'socket');
    this.family = family;
    this.type = type;
    this.blocking = true;
    if (socketDebugEnabled()) trackSocket(this);
  }

  /** Wraps an existing socket fd, taking ownership of it (family and type are read from it). */
  static fromFd(fd: number): Socket {
    const n = fileobjToFd(fd);
    check(native.socketInfo(n, scratch), 'getsockopt', `(fd ${n} is not a socket?)`);
    return Socket.adopt(n, scratch[0]!, scratch[1]!, check(native.getBlocking(n), 'fcntl') === 1);
  }

  /** @internal A Socket around an fd this library just created. */
  static adopt(fd: number, family: number, type: number, blocking: boolean): Socket {
    const sock = Object.create(Socket.prototype) as Socket;
    Object.assign(sock, { fd, family, type, blocking });
    if (socketDebugEnabled()) trackSocket(sock);
    return sock;
  }

  fileno(): number {
    return this.fd;
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  /** Closes the socket; idempotent. fileno() is -1 afterwards. */
  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    untrackUnclosed(this);
    check(native.close(fd), 'close');
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Gives up the fd without closing it and returns it. */
  detach(): number {
    const fd = this.fd;
    this.fd = -1;
    untrackUnclosed(this);
    return fd;
  }

  setBlocking(flag: boolean): void {
    if (typeof flag !== 'boolean') throw new TypeError('flag must be a boolean');
    check(native.setBlocking(this.liveFd(), flag), 'fcntl');
    this.blocking = flag;
  }

  getBlocking(): boolean {
    this.liveFd();
    return this.blocking;
  }

  bind(address: Address): void {
    check(native.bind(this.liveFd(), toSockaddr(this.family, address, this.type, true)), 'bind', `(${inspect(address)})`);
  }

  listen(backlog: number = Math.min(SOMAXCONN, 128)): void {
    check(native.listen(this.liveFd(), Math.max(0, checkInt(backlog, 'backlog'))), 'listen');
  }

  /** Accepts a connection: [new blocking Socket, peer address]. */
  accept(): [Socket, Address] {
    const r = native.acceptAddress(this.liveFd(), false);
    if (typeof r === 'number') throw osError(r, 'accept');
    const [fd, address] = r;
    return [Socket.adopt(fd, this.family, this.type, true), (address ?? '') as Address];
  }

  connect(address: Address): void {
    const r = native.connect(this.liveFd(), toSockaddr(this.family, address, this.type));
    if (r < 0) throw osError(r, 'connect', `(${inspect(address)})`);
  }

  /** Like connect(), but returns the (positive) errno instead of throwing: 0 on success. */
  connectEx(address: Address): number {
    const r = native.connect(this.liveFd(), toSockaddr(this.family, address, this.type));
    return r < 0 ? -r : 0;
  }

  /** Receives at most n bytes; an empty Buffer at EOF. */
  recv(n: number, flags = 0): Buffer {
    const size = checkSize(n, 'buffersize');
    // Into the shared read slab: recv(65536) per event must not allocate 64 KiB each time.
    const slab = readSlab(size);
    const start = readSlabOffset();
    checkInt(flags, 'flags');
    if (flags & TRUNC) slab.fill(0, start, start + size);
    const r = native.recv(this.liveFd(), slab, start, size, flags);
    if (r < 0) throw osError(r, 'recv');
    return takeRead(Math.min(r, size));
  }

  /**
   * Receives into buf (at most n bytes, default its length); returns the count. With MSG_TRUNC
   * that is the datagram's real length, which may exceed n (as in Python): only n bytes were written.
   */
  recvInto(buf: Uint8Array, n = 0, flags = 0): number {
    if (!(buf instanceof Uint8Array)) throw new TypeError('buffer must be a Uint8Array or Buffer');
    const want = checkSize(n, 'nbytes') || buf.length;
    if (want > buf.length) throw new ValueError(`nbytes ${want} is greater than the buffer (${buf.length})`);
    return this.recvRaw(buf, want, flags, 'recv_into');
  }

  /** Sends data; returns how many bytes went out (maybe fewer than given). */
  send(data: Uint8Array | string, flags = 0): number {
    const bytes = toBytes(data, 'data');
    const r = native.send(this.liveFd(), bytes, 0, bytes.length, checkInt(flags, 'flags'));
    if (r < 0) throw osError(r, 'send');
    return r;
  }

  /**
   * Sends all of data. In blocking mode it returns when everything is sent; in non-blocking mode
   * it throws BlockingIOError when the kernel buffer fills (what was sent is gone).
   */
  sendall(data: Uint8Array | string, flags = 0): void {
    const bytes = toBytes(data, 'data');
    const fd = this.liveFd();
    for (let sent = 0; sent < bytes.length; ) {
      const r = native.send(fd, bytes, sent, bytes.length - sent, checkInt(flags, 'flags'));
      if (r < 0) throw osError(r, 'send', `(${sent} of ${bytes.length} bytes sent)`);
      sent += r;
    }
  }

  sendto(data: Uint8Array | string, address: Address, flags = 0): number {
    const bytes = toBytes(data, 'data');
    const sockaddr = toSockaddr(this.family, address, this.type);
    const r = native.sendto(this.liveFd(), bytes, 0, bytes.length, checkInt(flags, 'flags'), sockaddr);
    if (r < 0) throw osError(r, 'sendto');
    return r;
  }

  /** Receives a datagram: [data, sender address]. */
  recvfrom(n: number, flags = 0): [Buffer, Address | null] {
    const size = checkSize(n, 'buffersize');
    const buf = checkInt(flags, 'flags') & TRUNC ? Buffer.alloc(size) : Buffer.allocUnsafe(size);
    const r = native.recvfrom(this.liveFd(), buf, 0, buf.length, flags);
    if (typeof r === 'number') throw osError(r, 'recvfrom');
    return [buf.subarray(0, Math.min(r[0], size)), r[1] as Address | null];
  }

  /** Receives a datagram into buf (at most n bytes, default its length): [count, sender address]. */
  recvfromInto(buf: Uint8Array, n = 0, flags = 0): [number, Address | null] {
    if (!(buf instanceof Uint8Array)) throw new TypeError('buffer must be a Uint8Array or Buffer');
    const want = checkSize(n, 'nbytes') || buf.length;
    if (want > buf.length) throw new ValueError(`nbytes ${want} is greater than the buffer (${buf.length})`);
    const r = native.recvfrom(this.liveFd(), buf, 0, want, checkInt(flags, 'flags'));
    if (typeof r === 'number') throw osError(r, 'recvfrom_into');
    return [r[0], r[1] as Address | null];
  }

  shutdown(how: number): void {
    check(native.shutdown(this.liveFd(), checkInt(how, 'how')), 'shutdown');
  }

  getsockname(): Address {
    const r = native.getsockname(this.liveFd());
    if (typeof r === 'number') throw osError(r, 'getsockname');
    return (r ?? '') as Address;
  }

  getpeername(): Address {
    const r = native.getpeername(this.liveFd());
    if (typeof r === 'number') throw osError(r, 'getpeername');
    return (r ?? '') as Address;
  }

  /**
   * Sets an option: an integer (booleans become 0/1), or a Uint8Array holding the option's struct
   * as the platform lays it out (IP_ADD_MEMBERSHIP's ip_mreq: see ipMreq()), as Python's
   * setsockopt(level, option, bytes).
   */
  setsockopt(level: number, option: number, value: number | boolean | Uint8Array): void {
    if (value instanceof Uint8Array) {
      check(datagramNative.setsockoptBytes(this.liveFd(), checkInt(level, 'level'), checkInt(option, 'option'), value), 'setsockopt');
      return;
    }
    const v = typeof value === 'boolean' ? Number(value) : checkInt(value, 'value');
    check(native.setsockopt(this.liveFd(), checkInt(level, 'level'), checkInt(option, 'option'), v), 'setsockopt');
  }

  getsockopt(level: number, option: number): number {
    check(native.getsockopt(this.liveFd(), checkInt(level, 'level'), checkInt(option, 'option'), scratch), 'getsockopt');
    return scratch[0]!;
  }

  [inspect.custom](_depth: number, options: InspectOptions): string {
    const fd = this.fileno();
    if (fd < 0) return `<Socket [closed] fd=-1 family=${familyName(this.family)} type=${typeName(this.type)}>`;
    let text = `<Socket fd=${fd} family=${familyName(this.family)} type=${typeName(this.type)}`;
    const laddr = native.getsockname(fd);
    if (typeof laddr !== 'number' && laddr !== null && laddr !== '') text += ` laddr=${formatAddress(laddr)}`;
    const raddr = native.getpeername(fd);
    if (typeof raddr !== 'number' && raddr !== null && raddr !== '') text += ` raddr=${formatAddress(raddr)}`;
    return text + '>';
  }

  private recvRaw(buf: Uint8Array, n: number, flags: number, syscall: string): number {
    const r = native.recv(this.liveFd(), buf, 0, n, checkInt(flags, 'flags'));
    if (r < 0) throw osError(r, syscall);
    return r;
  }

  protected liveFd(): number {
    if (this.fd < 0) throw new OSError(EBADF, 'socket', '(the socket is closed)');
    return this.fd;
  }
}

function formatAddress(address: [string, number] | string): string {
  return typeof address === 'string' ? `'${address}'` : `['${address[0]}', ${address[1]}]`;
}

/** A connected pair of sockets (AF_UNIX, SOCK_STREAM by default). */
export function socketpair(family: number = AF_UNIX, type: number = SOCK_STREAM, protocol = 0): [Socket, Socket] {
  const out = new Int32Array(2);
  check(native.socketpair(checkInt(family, 'family'), checkInt(type, 'type'), checkInt(protocol, 'protocol'), out, false), 'socketpair');
  return [Socket.adopt(out[0]!, family, type, true), Socket.adopt(out[1]!, family, type, true)];
}

export { isWouldBlock };
