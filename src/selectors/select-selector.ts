import { native } from '../select/native.js';
import { check, ValueError } from '../select/errors.js';
import { FD_SETSIZE } from '../select/constants.js';
import { EVENT_READ, EVENT_WRITE } from './key.js';
import { BaseSelector } from './base.js';

// Stryker disable next-line ArithmeticOperator: longer bitmaps would only add unused words; the addon reads ceil(nfds / 32) of them
const WORDS = Math.ceil(FD_SETSIZE / 32);

/**
 * Selector on select(2): fds must be below FD_SETSIZE. The interest sets are bitmaps kept across
 * calls and changed only by register/modify/unregister, so a select() costs O(FD_SETSIZE / 32)
 * outside the kernel rather than a walk over every registration.
 */
export class SelectSelector<T = unknown> extends BaseSelector<T> {
  private readonly readBits = new Int32Array(WORDS);
  private readonly writeBits = new Int32Array(WORDS);
  /** One more than the highest registered fd (select()'s nfds). */
  private nfds = 0;
  /** (fd, mask) pairs of the last wait, in fd order. */
  private readonly ready = new Int32Array(2 * FD_SETSIZE);

  override selectReady(timeoutMs: number): number {
    const n = check(native.selectWaitBits(this.readBits, this.writeBits, this.nfds, this.ready, timeoutMs), 'select');
    const pairs = this.ready;
    let count = 0;
    for (let i = 0; i < n; i++) {
      count = this.pushReadyFd(count, pairs[2 * i]!, pairs[2 * i + 1]!);
    }
    return count;
  }

  protected backendAdd(fd: number, events: number): void {
    if (fd >= FD_SETSIZE) throw new ValueError(`fd ${fd} is out of range for select() (FD_SETSIZE is ${FD_SETSIZE})`);
    this.setBits(fd, events);
    if (fd >= this.nfds) this.nfds = fd + 1;
  }

  protected backendRemove(fd: number): void {
    this.setBits(fd, 0);
    if (fd + 1 === this.nfds) {
      // Stryker disable next-line ArithmeticOperator: starting at fd + 1 only rechecks fd + 1 and fd, both clear (fd was the highest and was just cleared)
      let top = fd - 1;
      while (top >= 0 && ((this.readBits[top >> 5]! | this.writeBits[top >> 5]!) & (1 << (top & 31))) === 0) top--;
      this.nfds = top + 1;
    }
  }

  protected backendModify(fd: number, _old: number, events: number): void {
    this.setBits(fd, events);
  }

  private setBits(fd: number, events: number): void {
    const word = fd >> 5;
    const bit = 1 << (fd & 31);
    this.readBits[word] = events & EVENT_READ ? this.readBits[word]! | bit : this.readBits[word]! & ~bit;
    this.writeBits[word] = events & EVENT_WRITE ? this.writeBits[word]! | bit : this.writeBits[word]! & ~bit;
  }
}
