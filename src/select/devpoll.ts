// Python's select.devpoll(), on Solaris/illumos. Elsewhere it throws ERR_UNSUPPORTED_PLATFORM.
import { native } from './native.js';
import { check, unsupportedPlatform, ValueError } from './errors.js';
import { fileobjToFd } from './fileobj.js';
import { pollTimeout } from './timeout.js';
import { checkMask } from './mask.js';
import { POLLIN, POLLOUT, POLLPRI } from './constants.js';

export class Devpoll {
  private dpfd: number;
  private scratch = new ArrayBuffer(64 * 8);
  private out = new Int32Array(128);
  private registered = new Set<number>();

  constructor() {
    if (!native.backends.devpoll) throw unsupportedPlatform('devpoll');
    this.dpfd = check(native.devpollCreate!(), 'open');
  }

  get closed(): boolean {
    return this.dpfd < 0;
  }

  fileno(): number {
    if (this.dpfd < 0) throw new ValueError('I/O operation on closed devpoll object');
    return this.dpfd;
  }

  close(): void {
    if (this.dpfd >= 0) native.close(this.dpfd);
    this.dpfd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  register(fileobj: unknown, eventmask: number = POLLIN | POLLPRI | POLLOUT): void {
    const fd = fileobjToFd(fileobj);
    this.write(fd, checkMask(eventmask, 16));
    this.registered.add(fd);
  }

  modify(fileobj: unknown, eventmask: number): void {
    const fd = fileobjToFd(fileobj);
    // /dev/poll ORs a second write into the existing mask: remove first, then add.
    this.write(fd, native.POLLREMOVE!);
    this.write(fd, checkMask(eventmask, 16));
  }

  unregister(fileobj: unknown): void {
    const fd = fileobjToFd(fileobj);
    this.write(fd, native.POLLREMOVE!);
    this.registered.delete(fd);
  }

  poll(timeout?: number | null): Array<[number, number]> {
    const max = Math.max(1, this.registered.size);
    if (this.scratch.byteLength < max * 8) this.scratch = new ArrayBuffer(max * 16);
    if (this.out.length < max * 2) this.out = new Int32Array(max * 4);
    const n = check(native.devpollWait!(this.fileno(), this.scratch, max, this.out, pollTimeout(timeout)), 'ioctl');
    const result: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) result.push([this.out[2 * i]!, this.out[2 * i + 1]! & 0xffff]);
    return result;
  }

  private write(fd: number, events: number): void {
    const entry = new ArrayBuffer(8);
    new Int32Array(entry)[0] = fd;
    new Int16Array(entry)[2] = events << 16 >> 16;
    check(native.devpollWrite!(this.fileno(), entry, 1), 'write', `(fd ${fd})`);
  }
}

/** Python's select.devpoll(). */
export function devpoll(): Devpoll {
  return new Devpoll();
}
