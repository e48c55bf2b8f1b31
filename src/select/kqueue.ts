// Python's select.kqueue() and select.kevent, on BSD and macOS. Elsewhere calling them throws
// ERR_UNSUPPORTED_PLATFORM.
import { native } from './native.js';
import { check, unsupportedPlatform, ValueError } from './errors.js';
import { fileobjToFd } from './fileobj.js';
import { pollTimeout } from './timeout.js';
import { checkMask } from './mask.js';

const k = native.kqueueConstants ?? {};
export const KQ_FILTER_READ = k.KQ_FILTER_READ ?? -1;
export const KQ_FILTER_WRITE = k.KQ_FILTER_WRITE ?? -2;
export const KQ_EV_ADD = k.KQ_EV_ADD ?? 0x1;
export const KQ_EV_DELETE = k.KQ_EV_DELETE ?? 0x2;
export const KQ_EV_ENABLE = k.KQ_EV_ENABLE ?? 0x4;
export const KQ_EV_DISABLE = k.KQ_EV_DISABLE ?? 0x8;
export const KQ_EV_ONESHOT = k.KQ_EV_ONESHOT ?? 0x10;
export const KQ_EV_CLEAR = k.KQ_EV_CLEAR ?? 0x20;
export const KQ_EV_EOF = k.KQ_EV_EOF ?? 0x8000;
export const KQ_EV_ERROR = k.KQ_EV_ERROR ?? 0x4000;

/** A kernel event, as Python's select.kevent. flags and fflags are masks (see mask.ts). */
export class KEvent {
  readonly ident: number;
  readonly filter: number;
  readonly flags: number;
  readonly fflags: number;
  constructor(
    ident: unknown,
    filter: number = KQ_FILTER_READ,
    flags: number = KQ_EV_ADD,
    fflags: number = 0,
    readonly data = 0,
  ) {
    if (!native.backends.kqueue) throw unsupportedPlatform('kevent');
    this.ident = fileobjToFd(ident);
    this.filter = checkFilter(filter);
    this.flags = checkMask(flags, 16, 'kevent flags');
    this.fflags = checkMask(fflags, 32, 'kevent fflags');
  }
}

/** A kevent filter is a C short: the EVFILT_* values are negative. */
function checkFilter(filter: unknown): number {
  if (typeof filter !== 'number' || !Number.isInteger(filter) || filter < -0x8000 || filter > 0x7fff) {
    throw new ValueError(`Invalid kevent filter: ${String(filter)} (must be an integer in [-32768, 32767])`);
  }
  return filter;
}

export function kevent(ident: unknown, filter = KQ_FILTER_READ, flags = KQ_EV_ADD, fflags = 0, data = 0): KEvent {
  return new KEvent(ident, filter, flags, fflags, data);
}

const FIELDS = 5;

export class Kqueue {
  private kq: number;
  private out = new Float64Array(64 * FIELDS);

  constructor() {
    if (!native.backends.kqueue) throw unsupportedPlatform('kqueue');
    this.kq = check(native.kqueueCreate!(), 'kqueue');
  }

  get closed(): boolean {
    return this.kq < 0;
  }

  fileno(): number {
    if (this.kq < 0) throw new ValueError('I/O operation on closed kqueue object');
    return this.kq;
  }

  close(): void {
    if (this.kq >= 0) native.close(this.kq);
    this.kq = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Applies `changelist` and waits up to `timeout` ms for at most `maxevents` events. */
  control(changelist: Iterable<KEvent> | null, maxevents: number, timeout?: number | null): KEvent[] {
    const fd = this.fileno();
    const changes = changelist ? Array.from(changelist) : [];
    const packed = new Float64Array(Math.max(1, changes.length) * FIELDS);
    changes.forEach((c, i) => packed.set([c.ident, c.filter, c.flags, c.fflags, c.data], i * FIELDS));
    if (this.out.length < maxevents * FIELDS) this.out = new Float64Array(maxevents * FIELDS);
    const n = check(native.keventWait!(fd, packed, changes.length, this.out, maxevents, pollTimeout(timeout)), 'kevent');
    const events: KEvent[] = [];
    for (let i = 0; i < n; i++) {
      const o = i * FIELDS;
      events.push(new KEvent(this.out[o]!, this.out[o + 1]!, this.out[o + 2]!, this.out[o + 3]!, this.out[o + 4]!));
    }
    return events;
  }
}

/** Python's select.kqueue(). */
export function kqueue(): Kqueue {
  return new Kqueue();
}
