// Python's select.poll(). The pollfd array lives in an ArrayBuffer shared with the addon, so
// register/modify/unregister are plain JS writes and poll() copies nothing in.
import { native } from './native.js';
import { check, KeyError, OSError, ERRNO } from './errors.js';
import { fileobjToFd } from './fileobj.js';
import { pollTimeout } from './timeout.js';
import { checkMask } from './mask.js';
import { POLLIN, POLLOUT, POLLPRI } from './constants.js';

const POLLFD_SIZE = native.pollConstants.POLLFD_SIZE!; // 8: int fd, short events, short revents

export class Poll {
  private buffer = new ArrayBuffer(64 * POLLFD_SIZE);
  private fds = new Int32Array(this.buffer);
  private masks = new Int16Array(this.buffer);
  private slotOf = new Map<number, number>();
  /** (fd, revents) pairs of the last pollReady(). */
  ready = new Int32Array(128);

  /** Registers fo, or changes the mask of an fd already registered. */
  register(fileobj: unknown, eventmask: number = POLLIN | POLLPRI | POLLOUT): void {
    const fd = fileobjToFd(fileobj);
    const mask = checkMask(eventmask, 16);
    let slot = this.slotOf.get(fd);
    if (slot === undefined) {
      slot = this.slotOf.size;
      if ((slot + 1) * POLLFD_SIZE > this.buffer.byteLength) this.grow();
      this.slotOf.set(fd, slot);
      this.fds[slot * 2] = fd;
    }
    this.masks[slot * 4 + 2] = mask << 16 >> 16; // stored as a short
  }

  /** Changes the mask of a registered fd. @throws OSError ENOENT when fd was never registered. */
  modify(fileobj: unknown, eventmask: number): void {
    const fd = fileobjToFd(fileobj);
    checkMask(eventmask, 16);
    if (!this.slotOf.has(fd)) throw new OSError(-ERRNO.ENOENT, 'poll.modify', `fd ${fd} is not registered`);
    this.register(fd, eventmask);
  }

  /** @throws KeyError when fd is not registered. */
  unregister(fileobj: unknown): void {
    const fd = fileobjToFd(fileobj);
    const slot = this.slotOf.get(fd);
    if (slot === undefined) throw new KeyError(`fd ${fd} is not registered`);
    const last = this.slotOf.size - 1;
    if (slot !== last) {
      // Move the last entry into the hole, so the set stays dense.
      const lastFd = this.fds[last * 2]!;
      this.fds[slot * 2] = lastFd;
      this.masks[slot * 4 + 2] = this.masks[last * 4 + 2]!;
      this.slotOf.set(lastFd, slot);
    }
    this.slotOf.delete(fd);
  }

  /** Waits (ms; omitted, null or negative blocks) and returns the ready [fd, revents] pairs. */
  poll(timeout?: number | null): Array<[number, number]> {
    const n = this.pollReady(pollTimeout(timeout));
    const out = new Array<[number, number]>(n);
    for (let i = 0; i < n; i++) out[i] = [this.ready[2 * i]!, this.ready[2 * i + 1]! & 0xffff];
    return out;
  }

  /** The allocation-free form: fills `ready` and returns the count. timeoutMs < 0 blocks. */
  pollReady(timeoutMs: number): number {
    const nfds = this.slotOf.size;
    if (this.ready.length < nfds * 2) this.ready = new Int32Array(nfds * 4);
    return check(native.pollWait(this.buffer, nfds, this.ready, timeoutMs), 'poll');
  }

  get size(): number {
    return this.slotOf.size;
  }

  private grow(): void {
    const bigger = new ArrayBuffer(this.buffer.byteLength * 2);
    new Uint8Array(bigger).set(new Uint8Array(this.buffer));
    this.buffer = bigger;
    this.fds = new Int32Array(bigger);
    this.masks = new Int16Array(bigger);
  }
}

/** Python's select.poll(). */
export function poll(): Poll {
  return new Poll();
}
