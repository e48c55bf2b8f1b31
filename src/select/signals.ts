// Signals delivered into a select loop: the native handler writes the signal number to a wake-up
// pipe that the loop watches, so a signal wakes a blocking select() and the JS code runs in the
// loop, never inside the signal handler. Below selectors, like Python's signal.set_wakeup_fd; the
// Reactor (src/loop) builds addSignalHandler on it.
import { constants as osConstants } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { native } from './native.js';
import { check, ValueError } from './errors.js';

const signalNumbers = osConstants.signals as Record<string, number>;

/** A signal name ('SIGINT') or number, validated. */
export function toSignalNumber(signal: unknown): number {
  let num: number | undefined;
  if (typeof signal === 'string') num = signalNumbers[signal];
  else if (typeof signal === 'number' && Number.isInteger(signal)) num = Object.values(signalNumbers).includes(signal) ? signal : undefined;
  else throw new TypeError(`signal must be a name like 'SIGINT' or a number, not ${typeof signal}`);
  if (num === undefined) throw new ValueError(`unknown signal: ${String(signal)}`);
  if (num === signalNumbers.SIGKILL || num === signalNumbers.SIGSTOP) throw new ValueError(`${String(signal)} cannot be caught`);
  return num;
}

/**
 * A wake-up pipe and the signals routed to it: the building block of Python's
 * `signal.set_wakeup_fd` pattern for plain selector loops. Register `readFd` for EVENT_READ, call
 * `install()` per signal, and `drain()` when it is readable. Unlike set_wakeup_fd, any number of
 * pipes may take one signal: each gets every delivery (as each libuv signal watcher does), and
 * Node's own listeners (process.on) keep getting it too.
 */
export class SignalPipe {
  readonly readFd: number;
  private readonly writeFd: number;
  private readonly installed = new Set<number>();
  private readonly buffer = Buffer.alloc(256);

  constructor() {
    if (!isMainThread) throw new Error('signal handlers can only be added on the main thread');
    const fds = new Int32Array(2);
    check(native.pipe(fds, true), 'pipe');
    this.readFd = fds[0]!;
    this.writeFd = fds[1]!;
  }

  install(signum: number): void {
    check(native.signalInstall(signum, this.writeFd), 'sigaction');
    this.installed.add(signum);
  }

  /** Stops routing signum here; other pipes (reactors) that handle it still get it. */
  restore(signum: number): void {
    this.installed.delete(signum);
    check(native.signalRestore(signum, this.writeFd), 'sigaction');
  }

  /** Reads every pending byte (poco#3708: an undrained pipe wakes every poll) and reports each signal once. */
  drain(onSignal: (signum: number) => void): void {
    const seen = new Set<number>();
    for (;;) {
      const n = native.read(this.readFd, this.buffer, 0, this.buffer.length);
      if (n <= 0) break;
      for (let i = 0; i < n; i++) seen.add(this.buffer[i]!);
      if (n < this.buffer.length) break;
    }
    for (const signum of seen) onSignal(signum);
  }

  close(): void {
    for (const signum of this.installed) native.signalRestore(signum, this.writeFd);
    this.installed.clear();
    native.close(this.readFd);
    native.close(this.writeFd);
  }
}
