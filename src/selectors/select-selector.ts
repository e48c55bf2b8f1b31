import { native } from '../select/native.js';
import { check, ValueError } from '../select/errors.js';
import { FD_SETSIZE } from '../select/constants.js';
import { EVENT_READ, EVENT_WRITE } from './key.js';
import { BaseSelector } from './base.js';

/** Selector on select(2): fds must be below FD_SETSIZE. */
export class SelectSelector<T = unknown> extends BaseSelector<T> {
  private scratch = new Int32Array(64);
  private readonly maskByFd = new Uint8Array(FD_SETSIZE);

  override selectReady(timeoutMs: number): number {
    let nread = 0;
    let nwrite = 0;
    for (const key of this.fdToKey.values()) {
      if (key.events & EVENT_READ) nread++;
      if (key.events & EVENT_WRITE) nwrite++;
    }
    if (this.scratch.length < nread + nwrite) this.scratch = new Int32Array((nread + nwrite) * 2);
    const fds = this.scratch;
    let r = 0;
    let w = nread;
    for (const key of this.fdToKey.values()) {
      if (key.events & EVENT_READ) fds[r++] = key.fd;
      if (key.events & EVENT_WRITE) fds[w++] = key.fd;
    }
    const n = check(native.selectWait(fds, nread, nwrite, 0, timeoutMs), 'select');
    if (n === 0) return 0;
    // Merge both directions of one fd into a single entry, as the other selectors do.
    const masks = this.maskByFd;
    for (let i = 0; i < nread + nwrite; i++) {
      const fd = fds[i]!;
      if (fd !== -1) masks[fd]! |= i < nread ? EVENT_READ : EVENT_WRITE;
    }
    let count = 0;
    for (let i = 0; i < nread + nwrite; i++) {
      const fd = fds[i]!;
      if (fd === -1 || masks[fd] === 0) continue;
      count = this.pushReady(count, this.fdToKey.get(fd)!, masks[fd]!);
      masks[fd] = 0;
    }
    return count;
  }

  protected backendAdd(fd: number): void {
    if (fd >= FD_SETSIZE) throw new ValueError(`fd ${fd} is out of range for select() (FD_SETSIZE is ${FD_SETSIZE})`);
  }

  protected backendRemove(): void {}

  protected backendModify(): void {}
}
