// The compiled addon (cpp/). Every wrapped system call returns its result or -errno; see
// cpp/common.h for the convention and errors.ts for how a negative result becomes an error.
import { createRequire } from 'node:module';
import { loadAddon } from './load-addon.js';

export interface LoopWatcherNative {
  start(): number;
  stop(): void;
  armTimer(ms: number): number;
  disarmTimer(): void;
  ref(): void;
  unref(): void;
  close(): void;
}

export interface ResolveFailure {
  code: string;
  message: string;
  eai: number;
  errno: number;
}

/** Name resolution on worker threads; completion is a byte on the pipe fileno() (cpp/resolver.cc). */
export interface ResolverNative {
  fileno(): number;
  /** 0, or -errno (-EBADF once closed, -EAGAIN when no thread could be started). */
  submit(id: number, host: string, port: number, family: number, socktype: number): number;
  take(): Array<[number, Buffer[] | ResolveFailure]>;
  /** Tests only: while held, workers wait before resolving. */
  hold(flag: boolean): void;
  close(): void;
}

export type NativeAddress = [string, number] | string | null;

/**
 * The atomic close-on-exec paths this build compiled in. A false flag means that path sets
 * FD_CLOEXEC with a second system call, so a child spawned by another thread in between can
 * inherit the fd.
 */
export interface NativeFeatures {
  /** accept4(SOCK_CLOEXEC | SOCK_NONBLOCK) for every accept. */
  accept4: boolean;
  /** pipe2(O_CLOEXEC | O_NONBLOCK) for pipes (the signal wake-up pipe too). */
  pipe2: boolean;
  /** socket()/socketpair() with SOCK_CLOEXEC | SOCK_NONBLOCK. */
  sockCloexec: boolean;
  /** epoll_create1(EPOLL_CLOEXEC) (true wherever the epoll backend exists). */
  epollCloexec: boolean;
}

export interface NativeBinding {
  backends: { select: boolean; poll: boolean; epoll: boolean; kqueue: boolean; devpoll: boolean };
  features: NativeFeatures;
  socketConstants: Record<string, number>;
  pollConstants: Record<string, number>;
  epollConstants?: Record<string, number>;
  kqueueConstants?: Record<string, number>;
  FD_SETSIZE: number;
  POLLREMOVE?: number;

  pipe(out: Int32Array, nonblocking: boolean): number;
  read(fd: number, buf: Uint8Array, offset: number, length: number): number;
  write(fd: number, buf: Uint8Array, offset: number, length: number): number;
  close(fd: number): number;
  /** A close-on-exec duplicate of fd (F_DUPFD_CLOEXEC), or -errno. */
  dup(fd: number): number;
  setBlocking(fd: number, blocking: boolean): number;
  getBlocking(fd: number): number;
  getCloexec(fd: number): number;
  /** 1 socket, 2 FIFO, 3 other (regular file, directory, ...), 4 character device (a tty); or -errno. */
  fdType(fd: number): number;

  socket(family: number, type: number, protocol: number, nonblocking: boolean): number;
  socketpair(family: number, type: number, protocol: number, out: Int32Array, nonblocking: boolean): number;
  bind(fd: number, sockaddr: Uint8Array): number;
  connect(fd: number, sockaddr: Uint8Array): number;
  listen(fd: number, backlog: number): number;
  accept(fd: number, nonblocking: boolean): number;
  acceptAddress(fd: number, nonblocking: boolean): [number, NativeAddress] | number;
  recv(fd: number, buf: Uint8Array, offset: number, length: number, flags: number): number;
  send(fd: number, buf: Uint8Array, offset: number, length: number, flags: number): number;
  /** Sends each (fd, source, offset, length) entry of `entries` from staging (source 0) or slab (1); the bytes sent or -errno go in its 5th slot. */
  sendBatch(entries: Int32Array, count: number, staging: Uint8Array, slab: Uint8Array): number;
  /** The result slot of an fd a wait did not read. */
  NOT_READ: number;
  writev(fd: number, chunks: Uint8Array[], firstOffset: number, count: number, isSocket: boolean): number;
  recvfrom(fd: number, buf: Uint8Array, offset: number, length: number, flags: number): [number, NativeAddress] | number;
  sendto(fd: number, buf: Uint8Array, offset: number, length: number, flags: number, sockaddr: Uint8Array): number;
  shutdown(fd: number, how: number): number;
  setsockopt(fd: number, level: number, option: number, value: number): number;
  getsockopt(fd: number, level: number, option: number, out: Int32Array): number;
  getsockname(fd: number): NativeAddress | number;
  getpeername(fd: number): NativeAddress | number;
  socketInfo(fd: number, out: Int32Array): number;

  resolve(host: string | null, port: number, family: number, socktype: number, passive: boolean): Buffer[] | ResolveFailure;
  unixAddress(path: string | Uint8Array): Buffer | number;
  parseAddress(sockaddr: Uint8Array): NativeAddress;
  sockaddrFamily(sockaddr: Uint8Array): number;

  pollWait(pollfds: ArrayBuffer, nfds: number, out: Int32Array, timeoutMs: number): number;
  selectWait(fds: Int32Array, nread: number, nwrite: number, nexcept: number, timeoutMs: number): number;
  /** (fd, mask) pairs into out for fds set in the bitmaps (mask 1 read, 2 write); count or -errno. */
  selectWaitBits(readBits: Int32Array, writeBits: Int32Array, nfds: number, out: Int32Array, timeoutMs: number): number;
  epollCreate?(): number;
  epollCtl?(epfd: number, op: number, fd: number, events: number): number;
  epollWait?(epfd: number, out: Int32Array, maxevents: number, timeoutMs: number): number;
  /** epollWait that also reads each ready fd marked in `marks` into `slab` (cpp/batch_io.h). */
  epollWaitRead?(epfd: number, out: Int32Array, maxevents: number, timeoutMs: number, marks: Uint8Array, offsets: Int32Array, results: Int32Array, slab: Uint8Array, cursor: Int32Array, minRoom: number): number;
  kqueueCreate?(): number;
  keventWait?(kq: number, changes: Float64Array, nchanges: number, out: Float64Array, maxevents: number, timeoutMs: number): number;
  devpollCreate?(): number;
  devpollWrite?(dpfd: number, pollfds: ArrayBuffer, nfds: number): number;
  devpollWait?(dpfd: number, scratch: ArrayBuffer, maxevents: number, out: Int32Array, timeoutMs: number): number;

  /** Also sends signum to wakeupFd (one byte each); any number of fds per signal. Main thread only. */
  signalInstall(signum: number, wakeupFd: number): number;
  /** Stops sending signum to wakeupFd; the last one hands the signal back to Node. */
  signalRestore(signum: number, wakeupFd: number): number;
  raise(signum: number): number;

  LoopWatcher: new (fd: number, callback: (kind: number, status: number) => void) => LoopWatcherNative;
  Resolver: new () => ResolverNative;
}

// An explicit build (the sanitizer build of `npm run test:sanitize` / `fuzz`): that file or nothing.
const addonOverride = process.env.SELECTLOOP_ADDON_PATH;
export const native = (addonOverride ? createRequire(import.meta.url)(addonOverride) : loadAddon().binding) as NativeBinding;
