import { Kqueue, kevent, KQ_EV_ADD, KQ_EV_DELETE, KQ_FILTER_READ, KQ_FILTER_WRITE, type KEvent } from '../select/kqueue.js';
import { EVENT_READ, EVENT_WRITE } from './key.js';
import { BaseSelector } from './base.js';

/** Selector on BSD/macOS kqueue (one filter per direction). */
export class KqueueSelector<T = unknown> extends BaseSelector<T> {
  private readonly kq = new Kqueue();
  private filters = 0;

  override selectReady(timeoutMs: number): number {
    const events = this.kq.control(null, Math.max(this.filters, 1), timeoutMs < 0 ? null : timeoutMs);
    const merged = new Map<number, number>();
    for (const ev of events) {
      const dir = ev.filter === KQ_FILTER_READ ? EVENT_READ : ev.filter === KQ_FILTER_WRITE ? EVENT_WRITE : 0;
      merged.set(ev.ident, (merged.get(ev.ident) ?? 0) | dir);
    }
    let count = 0;
    for (const [fd, ev] of merged) {
      count = this.pushReadyFd(count, fd, ev);
    }
    return count;
  }

  override backendFd(): number {
    return this.kq.fileno();
  }

  fileno(): number {
    this.checkOpen();
    return this.kq.fileno();
  }

  protected backendAdd(fd: number, events: number): void {
    this.apply(fd, 0, events);
  }

  protected backendRemove(fd: number, events: number): void {
    try {
      this.apply(fd, events, 0);
    } catch {
      // The fd was closed: the kernel already dropped its filters.
    }
  }

  protected backendModify(fd: number, oldEvents: number, newEvents: number): void {
    this.apply(fd, oldEvents, newEvents);
  }

  protected override backendClose(): void {
    this.kq.close();
  }

  private apply(fd: number, oldEvents: number, newEvents: number): void {
    const changes: KEvent[] = [];
    for (const [dir, filter] of [[EVENT_READ, KQ_FILTER_READ], [EVENT_WRITE, KQ_FILTER_WRITE]] as const) {
      if (oldEvents & dir && !(newEvents & dir)) {
        changes.push(kevent(fd, filter, KQ_EV_DELETE));
        this.filters--;
      }
      if (newEvents & dir && !(oldEvents & dir)) {
        changes.push(kevent(fd, filter, KQ_EV_ADD));
        this.filters++;
      }
    }
    if (changes.length > 0) this.kq.control(changes, 0, 0);
  }
}
