import { Devpoll } from '../select/devpoll.js';
import { POLLIN, POLLOUT } from '../select/constants.js';
import { EVENT_READ, EVENT_WRITE } from './key.js';
import { BaseSelector } from './base.js';

function toPoll(events: number): number {
  return (events & EVENT_READ ? POLLIN : 0) | (events & EVENT_WRITE ? POLLOUT : 0);
}

/** Selector on Solaris/illumos /dev/poll. */
export class DevpollSelector<T = unknown> extends BaseSelector<T> {
  private readonly dp = new Devpoll();

  override selectReady(timeoutMs: number): number {
    let count = 0;
    for (const [fd, ev] of this.dp.poll(timeoutMs < 0 ? null : timeoutMs)) {
      count = this.pushReadyFd(count, fd, (ev & ~POLLIN ? EVENT_WRITE : 0) | (ev & ~POLLOUT ? EVENT_READ : 0));
    }
    return count;
  }

  override backendFd(): number {
    return this.dp.fileno();
  }

  fileno(): number {
    this.checkOpen();
    return this.dp.fileno();
  }

  protected backendAdd(fd: number, events: number): void {
    this.dp.register(fd, toPoll(events));
  }

  protected backendRemove(fd: number): void {
    try {
      this.dp.unregister(fd);
    } catch {
      // Closed fd: nothing left in the kernel to remove.
    }
  }

  protected backendModify(fd: number, _old: number, events: number): void {
    this.dp.modify(fd, toPoll(events));
  }

  protected override backendClose(): void {
    this.dp.close();
  }
}
