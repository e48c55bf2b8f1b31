// Python's select.epoll(), Linux only.
import { native } from './native.js';
import { check, closedError, unsupportedPlatform, ValueError } from './errors.js';
import { fileobjToFd } from './fileobj.js';
import { pollTimeout } from './timeout.js';
import { checkMask } from './mask.js';
import { EPOLLIN, EPOLLOUT, EPOLLPRI } from './constants.js';

const INT32S_PER_EVENT = native.epollConstants?.EPOLL_EVENT_INT32S ?? 3;
const MAX_EVENTS_PER_CALL = 65536;
const CTL_ADD = 1;
const CTL_DEL = 2;
const CTL_MOD = 3;

export class Epoll {
  private epfd: number;
  private readonly pid = process.pid;
  /** Raw epoll_event space, compacted by the addon into (fd, events) pairs. */
  ready: Int32Array;

  /** `sizehint` is accepted for Python compatibility and ignored, as the kernel does. */
  constructor(sizehint = -1) {
    if (!native.backends.epoll) throw unsupportedPlatform('epoll');
    if (typeof sizehint !== 'number' || !Number.isInteger(sizehint) || sizehint < -1 || sizehint === 0) {
      throw new ValueError(`negative sizehint: ${String(sizehint)}`);
    }
    this.epfd = check(native.epollCreate!(), 'epoll_create1');
    this.ready = new Int32Array(64 * INT32S_PER_EVENT);
  }

  get closed(): boolean {
    return this.epfd < 0;
  }

  fileno(): number {
    this.checkOpen();
    return this.epfd;
  }

  close(): void {
    if (this.epfd >= 0) {
      native.close(this.epfd);
      this.epfd = -1;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @throws OSError EEXIST when already registered. */
  register(fileobj: unknown, eventmask: number = EPOLLIN | EPOLLPRI | EPOLLOUT): void {
    this.ctl(CTL_ADD, fileobj, eventmask, 'epoll_ctl');
  }

  /** @throws OSError ENOENT when not registered. */
  modify(fileobj: unknown, eventmask: number): void {
    this.ctl(CTL_MOD, fileobj, eventmask, 'epoll_ctl');
  }

  /** @throws OSError ENOENT when not registered, EBADF when the fd is closed. */
  unregister(fileobj: unknown): void {
    this.ctl(CTL_DEL, fileobj, 0, 'epoll_ctl');
  }

  /** The error-returning form used by the selectors: 0 or -errno. @throws ValueError for a bad mask. */
  control(op: 1 | 2 | 3, fd: number, eventmask: number): number {
    this.checkOpen();
    return native.epollCtl!(this.epfd, op, fd, checkMask(eventmask, 32));
  }

  /** Waits (ms; omitted, null or negative blocks) and returns up to maxevents [fd, events] pairs. */
  poll(timeout?: number | null, maxevents = -1): Array<[number, number]> {
    if (typeof maxevents !== 'number' || !Number.isInteger(maxevents) || maxevents === 0 || maxevents < -1) {
      throw new ValueError(`maxevents must be greater than 0 or -1, got ${String(maxevents)}`);
    }
    const n = this.pollReady(pollTimeout(timeout), maxevents === -1 ? 1024 : maxevents);
    const out = new Array<[number, number]>(n);
    for (let i = 0; i < n; i++) out[i] = [this.ready[2 * i]!, this.ready[2 * i + 1]! >>> 0];
    return out;
  }

  /** The allocation-free form: fills `ready` with (fd, events) pairs and returns the count. */
  pollReady(timeoutMs: number, maxevents: number): number {
    this.checkOpen();
    // Events beyond one call's room stay queued in the kernel for the next call, so a huge
    // maxevents only needs a bounded buffer (and must not allocate gigabytes or throw RangeError).
    maxevents = Math.min(maxevents, MAX_EVENTS_PER_CALL);
    if (this.ready.length < maxevents * INT32S_PER_EVENT) this.ready = new Int32Array(maxevents * INT32S_PER_EVENT * 2);
    return check(native.epollWait!(this.epfd, this.ready, maxevents, timeoutMs), 'epoll_wait');
  }

  /**
   * pollReady that also reads every ready fd marked in `marks` into `slab` in the same native call
   * (results[fd]: bytes, 0 at EOF, -errno or NOT_READ; offsets[fd]: where; cursor[0]: the next
   * free slab byte, advanced past each read). Only with room >= minRoom is an fd read.
   */
  pollReadyPreRead(timeoutMs: number, maxevents: number, marks: Uint8Array, offsets: Int32Array, results: Int32Array, slab: Uint8Array, cursor: Int32Array, minRoom: number): number {
    this.checkOpen();
    maxevents = Math.min(maxevents, MAX_EVENTS_PER_CALL);
    if (this.ready.length < maxevents * INT32S_PER_EVENT) this.ready = new Int32Array(maxevents * INT32S_PER_EVENT * 2);
    return check(native.epollWaitRead!(this.epfd, this.ready, maxevents, timeoutMs, marks, offsets, results, slab, cursor, minRoom), 'epoll_wait');
  }

  private ctl(op: 1 | 2 | 3, fileobj: unknown, eventmask: number, syscall: string): void {
    const fd = fileobjToFd(fileobj);
    check(this.control(op, fd, eventmask), syscall, `(fd ${fd})`);
  }

  private checkOpen(): void {
    if (this.epfd < 0) throw new ValueError('I/O operation on closed epoll object');
    // An epoll fd reached through fork() shares its interest list with the parent (libuv#1099).
    if (this.pid !== process.pid) throw new ValueError('epoll object used in a forked child process');
  }
}

export const EPOLL_CTL_ADD = CTL_ADD;
export const EPOLL_CTL_DEL = CTL_DEL;
export const EPOLL_CTL_MOD = CTL_MOD;

/** Python's select.epoll(). */
export function epoll(sizehint = -1): Epoll {
  return new Epoll(sizehint);
}
