import { Epoll, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD } from '../select/epoll.js';
import { check } from '../select/errors.js';
import { EPOLLIN, EPOLLOUT } from '../select/constants.js';
import { EVENT_READ, EVENT_WRITE } from './key.js';
import { BaseSelector, type PreReadRequest } from './base.js';

function toEpoll(events: number): number {
  return (events & EVENT_READ ? EPOLLIN : 0) | (events & EVENT_WRITE ? EPOLLOUT : 0);
}

/** Selector on Linux epoll (level-triggered, as selectors.EpollSelector). */
export class EpollSelector<T = unknown> extends BaseSelector<T> {
  private readonly epoll = new Epoll();

  override selectReady(timeoutMs: number, maxEvents = Infinity): number {
    // By default room for every registered fd, so one call reports all that are ready (as CPython does).
    return this.collect(this.epoll.pollReady(timeoutMs, Math.max(Math.min(this.registrationCount, maxEvents), 1)));
  }

  override selectReadyPreRead(timeoutMs: number, pre: PreReadRequest, maxEvents = Infinity): number {
    const max = Math.max(Math.min(this.registrationCount, maxEvents), 1);
    return this.collect(this.epoll.pollReadyPreRead(timeoutMs, max, pre.marks, pre.offsets, pre.results, pre.slab, pre.cursor, pre.minRoom));
  }

  /** The keys and events of the n (fd, events) pairs a wait left in epoll.ready. */
  private collect(n: number): number {
    const pairs = this.epoll.ready;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const ev = pairs[2 * i + 1]!;
      // An error or hang-up reports the directions the fd is watched for.
      const events = (ev & ~EPOLLIN ? EVENT_WRITE : 0) | (ev & ~EPOLLOUT ? EVENT_READ : 0);
      count = this.pushReadyFd(count, pairs[2 * i]!, events);
    }
    return count;
  }

  override backendFd(): number {
    return this.epoll.fileno();
  }

  fileno(): number {
    this.checkOpen();
    return this.epoll.fileno();
  }

  protected backendAdd(fd: number, events: number): void {
    check(this.epoll.control(EPOLL_CTL_ADD, fd, toEpoll(events)), 'epoll_ctl', `(fd ${fd})`);
  }

  protected backendRemove(fd: number): void {
    // EBADF/ENOENT: the fd was closed (the kernel already dropped it) or replaced. Nothing to undo.
    this.epoll.control(EPOLL_CTL_DEL, fd, 0);
  }

  protected backendModify(fd: number, _old: number, events: number): void {
    check(this.epoll.control(EPOLL_CTL_MOD, fd, toEpoll(events)), 'epoll_ctl', `(fd ${fd})`);
  }

  protected override backendClose(): void {
    this.epoll.close();
  }
}
