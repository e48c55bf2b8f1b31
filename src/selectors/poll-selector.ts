import { Poll } from '../select/poll.js';
import { POLLIN, POLLOUT } from '../select/constants.js';
import { EVENT_READ, EVENT_WRITE } from './key.js';
import { BaseSelector } from './base.js';

function toPoll(events: number): number {
  return (events & EVENT_READ ? POLLIN : 0) | (events & EVENT_WRITE ? POLLOUT : 0);
}

/** Selector on poll(2). */
export class PollSelector<T = unknown> extends BaseSelector<T> {
  private readonly poller = new Poll();

  override selectReady(timeoutMs: number): number {
    const n = this.poller.pollReady(timeoutMs);
    const pairs = this.poller.ready;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const ev = pairs[2 * i + 1]! & 0xffff;
      const events = (ev & ~POLLIN ? EVENT_WRITE : 0) | (ev & ~POLLOUT ? EVENT_READ : 0);
      count = this.pushReadyFd(count, pairs[2 * i]!, events);
    }
    return count;
  }

  protected backendAdd(fd: number, events: number): void {
    this.poller.register(fd, toPoll(events));
  }

  protected backendRemove(fd: number): void {
    this.poller.unregister(fd);
  }

  protected backendModify(fd: number, _old: number, events: number): void {
    this.poller.register(fd, toPoll(events));
  }
}
