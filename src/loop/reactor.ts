// The Reactor: timers, ready callbacks and fd callbacks over one selector, run blocking
// (runForever/runOnce) or driven by Node's own loop (attach). The shape of asyncio's
// BaseEventLoop._run_once, with the hot path kept allocation-free.
import { EventEmitter } from 'eventemitter3';
import { inspect } from 'node:util';
import { performance } from 'node:perf_hooks';
import { native, type LoopWatcherNative } from '../select/native.js';
import { ValueError } from '../select/errors.js';
import { fileobjToFd, type FileObject } from '../select/fileobj.js';
import { BaseSelector, DefaultSelector, EVENT_READ, EVENT_WRITE } from '../selectors/index.js';
import { Handle, TimerHandle, type HandleOwner } from './handle.js';
import { RingQueue } from './ring-queue.js';
import { TimerHeap } from './timer-heap.js';
import { NOT_READ, PreReads, type PreReadKind } from './pre-reads.js';
import { SignalPipe, toSignalNumber } from '../select/signals.js';
import { alreadyRunning, checkCallback, reactorClosed } from './errors.js';
import { countDebugReactor, debugFromEnvironment, trackUnclosed, untrackUnclosed, warnUnclosed, type ReactorStats } from './debug.js';

/** The reader and writer of one fd. */
export interface FdHandles {
  readonly reader: Handle | null;
  readonly writer: Handle | null;
}

/**
 * A reader handle that can stand for its fd's FdHandles (reader: itself, writer: null). Layers
 * above subclass it (PreReadHandle) for the handles they pass to watchFd.
 */
export class SoleReaderHandle extends Handle implements FdHandles {
  get reader(): Handle {
    return this;
  }

  get writer(): null {
    return null;
  }
}

/**
 * A sole reader whose fd the reactor's wait reads in advance, in the same native call (see
 * pre-reads.ts). Its callback must claim the result with reactor.takePreRead(fd) every time it
 * runs, and before it stops reading (removeReader drops an unclaimed result).
 */
export abstract class PreReadHandle extends SoleReaderHandle {
  /** 1 for a socket, 2 for another fd (a pipe), 0 for none (read by the callback itself). */
  abstract get preReadKind(): PreReadKind;
}

export { NOT_READ };

export interface ExceptionContext {
  message: string;
  exception?: unknown;
  handle?: Handle;
  [key: string]: unknown;
}

export type ExceptionHandler = (reactor: Reactor, context: ExceptionContext) => void;

/** Something a layer above owns an fd for (a transport, a server): the reactor's close() frees it. */
export interface ReactorResource {
  /** The reactor is closing and will run nothing more: free the fd now, synchronously. */
  closeWithReactor(): void;
}

export interface ReactorOptions {
  selector?: BaseSelector<FdHandles>;
  /** Debug mode (see setDebug); default: on if SELECTLOOP_DEBUG=1. */
  debug?: boolean;
}

/** A reactor collected in debug mode without close(): it no longer counts as one in debug mode. */
function reportUnclosedReactor(description: string): void {
  countDebugReactor(-1);
  warnUnclosed(description);
}

/** One wait never exceeds a day (asyncio's MAXIMUM_SELECT_TIMEOUT): huge delays cannot overflow. */
const MAX_WAIT_MS = 24 * 3600 * 1000;

/**
 * At most this many fd events per wait, as libuv takes them (the rest stay queued in the kernel
 * for the next wait; level-triggered epoll hands them out round-robin). Everything sized by one
 * iteration's work — the wait's event buffer, the ready queue, the read slab the wait reads into,
 * the write batch and its staging area — then stays bounded by it when thousands of connections
 * turn ready at once: 5 000 connections echoing at once otherwise touched ~1 MB more of them.
 */
const MAX_EVENTS_PER_WAIT = 1024;

export class Reactor extends EventEmitter implements HandleOwner {
  private readonly selector: BaseSelector<FdHandles>;
  private readonly ready = new RingQueue<Handle>();
  private readonly timers = new TimerHeap<TimerHandle>();
  private readonly origin = performance.now();
  private running = false;
  private stopping = false;
  private closedFlag = false;
  private exceptionHandler: ExceptionHandler | null = null;
  private signalPipe: SignalPipe | null = null;
  private readonly signalHandlers = new Map<number, Handle>();
  // Attached mode (Node's loop drives us).
  private watcher: LoopWatcherNative | null = null;
  private forgetSelectorClose: (() => void) | null = null;
  private refed = true;
  private inIteration = false;
  /**
   * The reader and writer of each watched fd, indexed by fd: the selector watches these fds
   * without a key (selector.watchFd), so a watched fd costs a slot here, no key object, no map
   * entry and no { reader, writer } object. A slot is replaced, never mutated in place: an event
   * the wait already reported finds the old handle cancelled (libuv#968, mio#219).
   */
  private readonly readers: (Handle | undefined)[] = [];
  private readonly writers: (Handle | undefined)[] = [];
  private watchedFds = 0;
  /** The fd of each watched file object that is not a number: found again once its fileno() fails (closed). */
  private readonly fileobjFds = new Map<object, number>();
  /** Stream fds the wait reads in advance (PreReadHandle readers). */
  private readonly preReads = new PreReads();
  /** Run once at the end of the current iteration (a layer above flushing what it batched). */
  private iterationEndHooks: (() => void)[] = [];
  /**
   * Live transports and servers (registered by themselves), closed by close(). Those with an fd
   * sit in a slot indexed by it: no hash-table entry per connection (~35 B each at 5 000).
   */
  private readonly resourcesByFd: (ReactorResource | undefined)[] = [];
  private readonly otherResources = new Set<ReactorResource>();
  // Debug mode and stats (see debug.ts). The counters are plain fields bumped once per iteration
  // or per timer: cheaper than a branch on the debug flag. Clock reads happen in debug mode only.
  private debugMode = false;
  /** In debug mode, a callback that runs longer than this (ms) is reported ('slowCallback'). */
  slowCallbackDuration = 100;
  private iterations = 0;
  private callbacksRun = 0;
  private fdEvents = 0;
  private timersFired = 0;
  private idleMs = 0;
  private busyMs = 0;

  constructor(options: ReactorOptions = {}) {
    super();
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const selector = options.selector;
    if (selector !== undefined && !(selector instanceof BaseSelector)) throw new TypeError('options.selector must be a BaseSelector');
    this.selector = selector ?? new DefaultSelector<FdHandles>();
    this.setDebug(options.debug ?? debugFromEnvironment());
  }

  /**
   * asyncio.run's shape: a new reactor attached to Node's loop, `await main(reactor)`, then the
   * reactor is closed (also when main throws or rejects). Resolves with main's result. `options`
   * are the constructor's. Whatever is still open on the reactor then is closed with it (see close()).
   */
  static async run<T>(main: (reactor: Reactor) => T | PromiseLike<T>, options?: ReactorOptions): Promise<T> {
    checkCallback(main, 'main');
    const reactor = new Reactor(options);
    try {
      reactor.attach();
      return await main(reactor);
    } finally {
      // main may settle inside one of our own callbacks (a promise resolved there); close once
      // that iteration has returned.
      while (reactor.running) await new Promise((resolve) => setImmediate(resolve));
      reactor.close();
    }
  }

  /** Monotonic milliseconds, from a per-reactor origin so values stay small and exact. */
  time(): number {
    return performance.now() - this.origin;
  }

  // ---- scheduling ----------------------------------------------------------------------------

  /** Runs cb(...args) in the next iteration (FIFO). */
  callSoon<A extends unknown[]>(cb: (...args: A) => unknown, ...args: A): Handle {
    this.checkOpen();
    checkCallback(cb);
    const handle = new Handle(cb, args, this);
    this.ready.push(handle);
    if (this.watcher !== null && !this.inIteration) this.rearmNodeWake();
    return handle;
  }

  /** Runs cb(...args) after `delay` ms (never earlier). */
  callLater<A extends unknown[]>(delay: number, cb: (...args: A) => unknown, ...args: A): TimerHandle {
    if (typeof delay !== 'number') throw new TypeError(`delay must be a number, not ${typeof delay}`);
    if (Number.isNaN(delay)) throw new ValueError('delay must not be NaN');
    this.checkOpen();
    checkCallback(cb);
    return this.scheduleTimer(this.time() + Math.max(0, delay), cb, args);
  }

  /** Runs cb(...args) once time() >= when. */
  callAt<A extends unknown[]>(when: number, cb: (...args: A) => unknown, ...args: A): TimerHandle {
    this.checkOpen();
    checkCallback(cb);
    if (typeof when !== 'number') throw new TypeError(`when must be a number, not ${typeof when}`);
    if (Number.isNaN(when)) throw new ValueError('when must not be NaN');
    return this.scheduleTimer(when, cb, args);
  }

  private scheduleTimer(when: number, cb: (...args: any[]) => unknown, args: unknown[]): TimerHandle {
    const handle = new TimerHandle(when, cb, args, this);
    this.timers.push(handle);
    if (this.watcher !== null && !this.inIteration) this.rearmNodeWake();
    return handle;
  }

  // ---- fd callbacks --------------------------------------------------------------------------

  /** Calls cb(...args) whenever fo is readable; replaces an earlier reader of the same fd. */
  addReader<A extends unknown[]>(fo: FileObject, cb: (...args: A) => unknown, ...args: A): Handle {
    return this.setFdHandle(fo, EVENT_READ, cb, args);
  }

  /** Calls cb(...args) whenever fo is writable; replaces an earlier writer of the same fd. */
  addWriter<A extends unknown[]>(fo: FileObject, cb: (...args: A) => unknown, ...args: A): Handle {
    return this.setFdHandle(fo, EVENT_WRITE, cb, args);
  }

  /** Stops watching fo for reading; false if it had no reader. */
  removeReader(fo: FileObject): boolean {
    return this.clearFdHandle(fo, EVENT_READ);
  }

  /** Stops watching fo for writing; false if it had no writer. */
  removeWriter(fo: FileObject): boolean {
    return this.clearFdHandle(fo, EVENT_WRITE);
  }

  private setFdHandle(fo: FileObject, direction: number, cb: (...args: any[]) => unknown, args: unknown[]): Handle {
    this.checkOpen();
    checkCallback(cb);
    return this.watchFd(fo, direction, new Handle(cb, args, this));
  }

  /**
   * @internal addReader/addWriter with a handle made by the caller, so a layer above (transports)
   * can use a Handle subclass that carries its target in a field instead of an args array.
   */
  watchFd<H extends Handle>(fo: FileObject, direction: number, handle: H): H {
    this.checkOpen();
    const fd = this.fdOf(fo);
    const slots = direction === EVENT_READ ? this.readers : this.writers;
    const replaced = slots[fd];
    const events = this.selector.watchedEvents(fd);
    // The selector first: if it refuses the fd, nothing here changes.
    this.selector.watchFd(fd, events | direction);
    if (events === 0) {
      this.watchedFds++;
      if (typeof fo === 'object') this.fileobjFds.set(fo, fd);
    }
    slots[fd] = handle;
    if (direction === EVENT_READ) this.preReads.mark(fd, handle instanceof PreReadHandle ? handle.preReadKind : 0);
    replaced?.cancel();
    if (this.watcher !== null && !this.inIteration) this.rearmNodeWake();
    return handle;
  }

  /** @internal The directions (EVENT_READ | EVENT_WRITE) fo is watched for; 0 when none. */
  watchedEvents(fo: FileObject): number {
    if (this.closedFlag) return 0;
    const fd = this.watchedFdOf(fo);
    return fd < 0 ? 0 : this.selector.watchedEvents(fd);
  }

  private clearFdHandle(fo: FileObject, direction: number): boolean {
    if (this.closedFlag) return false;
    const fd = this.watchedFdOf(fo);
    if (fd < 0) return false;
    const slots = direction === EVENT_READ ? this.readers : this.writers;
    const removed = slots[fd];
    if (removed === undefined) return false;
    slots[fd] = undefined;
    const events = this.selector.watchedEvents(fd) & ~direction;
    if (direction === EVENT_READ) this.preReads.unmark(fd);
    this.selector.watchFd(fd, events);
    if (events === 0) {
      this.watchedFds--;
      if (typeof fo === 'object') this.fileobjFds.delete(fo);
      else if (this.fileobjFds.size > 0) for (const [obj, objFd] of this.fileobjFds) if (objFd === fd) this.fileobjFds.delete(obj);
    }
    removed.cancel();
    return true;
  }

  /** The fd of a file object to watch. @throws ValueError for an invalid one. */
  private fdOf(fo: FileObject): number {
    if (typeof fo === 'number') return fileobjToFd(fo);
    // A closed file object still names the fd it was watched under (CPython's _fileobj_lookup).
    try {
      return fileobjToFd(fo);
    } catch (err) {
      const fd = this.fileobjFds.get(fo);
      if (fd === undefined) throw err;
      return fd;
    }
  }

  /** The fd fo is watched under, or -1 when it is not watched (or not a valid file object). */
  private watchedFdOf(fo: FileObject): number {
    let fd: number;
    try {
      fd = this.fdOf(fo);
    } catch {
      return -1;
    }
    return this.selector.watchedEvents(fd) === 0 ? -1 : fd;
  }

  // ---- running -------------------------------------------------------------------------------

  /**
   * Runs until stop(). Blocks this thread: Node timers, I/O and promise jobs wait until it returns
   * (use attach() to run inside Node's loop instead).
   */
  runForever(): void {
    this.checkCanRun('runForever');
    this.running = true;
    try {
      for (;;) {
        this.runIteration(-1);
        if (this.stopping) break;
      }
    } finally {
      this.running = false;
      this.stopping = false;
    }
  }

  /**
   * One iteration: waits at most `timeout` ms (default: until the next timer or ready callback;
   * 0 polls), then runs the fd callbacks, timers and callbacks that are due.
   */
  runOnce(timeout?: number | null): void {
    this.checkCanRun('runOnce');
    let limit = -1;
    if (timeout !== undefined && timeout !== null) {
      if (typeof timeout !== 'number') throw new TypeError(`timeout must be a number, not ${typeof timeout}`);
      if (Number.isNaN(timeout)) throw new ValueError('timeout must not be NaN');
      limit = Math.max(0, timeout);
    }
    this.running = true;
    try {
      this.runIteration(limit);
    } finally {
      this.running = false;
      this.stopping = false;
    }
  }

  /** Makes runForever() return after the current iteration. */
  stop(): void {
    this.stopping = true;
  }

  isRunning(): boolean {
    return this.running;
  }

  isClosed(): boolean {
    return this.closedFlag;
  }

  /**
   * Closes the reactor and its selector; idempotent. @throws while running. Live transports and
   * servers are closed too (their fds would otherwise be orphaned for good): as asyncio closes an
   * unclosed transport, but at once, since nothing runs afterwards.
   */
  close(): void {
    if (this.running) throw alreadyRunning('close');
    if (this.closedFlag) return;
    this.detach();
    this.setDebug(false);
    // Closed first: a protocol that reconnects from connectionLost gets ERR_REACTOR_CLOSED
    // instead of adding resources forever.
    this.closedFlag = true;
    for (const resource of [...this.resourcesByFd, ...this.otherResources]) {
      if (resource === undefined) continue;
      try {
        resource.closeWithReactor();
      } catch (exception) {
        this.callExceptionHandler({ message: 'Closing a transport or server with the reactor failed', exception, resource });
      }
    }
    this.resourcesByFd.length = 0;
    this.otherResources.clear();
    for (const handle of this.signalHandlers.values()) handle.cancel();
    this.signalHandlers.clear();
    this.signalPipe?.close();
    this.signalPipe = null;
    this.ready.clear();
    this.timers.clear();
    this.readers.length = 0;
    this.writers.length = 0;
    this.watchedFds = 0;
    this.fileobjFds.clear();
    this.selector.close();
    this.emit('close');
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** ms until the reactor has work: 0 if callbacks are ready, null if nothing is scheduled. */
  backendTimeout(): number | null {
    if (this.ready.length > 0 || this.stopping) return 0;
    const next = this.timers.peek();
    if (next === undefined) return null;
    return Math.max(0, next.when - this.time());
  }

  /** The selector's own fd (epoll/kqueue/devpoll) for a foreign loop to watch, or null. */
  backendFd(): number | null {
    this.checkOpen();
    const fd = this.selector.backendFd();
    return fd >= 0 ? fd : null;
  }

  private runIteration(limitMs: number): void {
    let timeout = this.backendTimeout();
    if (timeout === null) timeout = -1;
    else if (timeout > MAX_WAIT_MS) timeout = MAX_WAIT_MS;
    if (limitMs >= 0 && (timeout < 0 || limitMs < timeout)) timeout = limitMs;

    const selector = this.selector;
    const debug = this.debugMode;
    const waitStart = debug ? performance.now() : 0;
    const preReads = this.preReads;
    const batched = preReads.active;
    const n = batched ? preReads.wait(selector, timeout, MAX_EVENTS_PER_WAIT) : selector.selectReady(timeout, MAX_EVENTS_PER_WAIT);
    if (debug) this.idleMs += performance.now() - waitStart;
    this.iterations++;
    this.fdEvents += n;
    const fds = selector.readyFds;
    const masks = selector.readyEvents;
    const readers = this.readers;
    const writers = this.writers;
    const ready = this.ready;
    for (let i = 0; i < n; i++) {
      const fd = fds[i]!;
      const mask = masks[i]!;
      if (mask & EVENT_READ) {
        const reader = readers[fd];
        if (reader !== undefined && !reader.cancelled) ready.push(reader);
      }
      if (mask & EVENT_WRITE) {
        const writer = writers[fd];
        if (writer !== undefined && !writer.cancelled) ready.push(writer);
      }
    }

    // Timers never run early: only those whose deadline has passed by the clock (libuv#4773).
    // They run after what is queued, straight from the heap (markDue: only those scheduled before
    // this point), as if queued behind it now.
    const timers = this.timers;
    const hasTimers = timers.size > 0;
    const now = hasTimers ? this.time() : 0;
    if (hasTimers) timers.markDue();

    // Only what is queued now: callbacks scheduled by these run in the next iteration.
    this.inIteration = true;
    try {
      if (debug) this.runReadyDebug(ready.length);
      else {
        let ran = 0;
        for (let todo = ready.length; todo > 0; todo--) {
          const handle = ready.shift()!;
          if (!handle.cancelled) {
            handle.run();
            ran++;
          }
        }
        this.callbacksRun += ran;
      }
      if (hasTimers) {
        let fired = 0;
        for (let t = timers.popDue(now); t !== undefined; t = timers.popDue(now), fired++) {
          if (debug) this.runTimed(t);
          else t.run();
        }
        this.timersFired += fired;
        this.callbacksRun += fired;
      }
    } finally {
      // Still inside the iteration: what the hooks flush may call protocols, which may write.
      if (this.iterationEndHooks.length > 0) this.runIterationEndHooks();
      this.inIteration = false;
      if (hasTimers) timers.unmarkDue();
      if (batched) preReads.endIteration();
    }
  }

  private runIterationEndHooks(): void {
    const hooks = this.iterationEndHooks;
    for (let i = 0; i < hooks.length; i++) {
      try {
        hooks[i]!();
      } catch (exception) {
        this.callExceptionHandler({ message: 'Exception at the end of a reactor iteration', exception });
      }
    }
    hooks.length = 0;
  }

  /** The ready loop of debug mode: times each callback, reports the slow ones. */
  private runReadyDebug(todo: number): void {
    const ready = this.ready;
    for (; todo > 0; todo--) {
      const handle = ready.shift()!;
      if (!handle.cancelled) {
        this.runTimed(handle);
        this.callbacksRun++;
      }
    }
  }

  private runTimed(handle: Handle): void {
    const name = handle.callbackName;
    const start = performance.now();
    handle.run();
    const ms = performance.now() - start;
    this.busyMs += ms;
    if (ms >= this.slowCallbackDuration) this.reportSlowCallback(handle, name, ms);
  }

  private checkCanRun(what: string): void {
    this.checkOpen();
    if (this.running) throw alreadyRunning(what);
    if (this.watcher !== null) throw alreadyRunning(`${what} (attached to Node's loop; detach() first)`);
  }

  private checkOpen(): void {
    if (this.closedFlag) throw reactorClosed();
  }

  // ---- embedding in Node's loop --------------------------------------------------------------

  /**
   * Lets Node's event loop drive this reactor instead of blocking: libuv watches the selector's
   * fd and the next timer. Needs a selector with a backend fd (epoll, kqueue, devpoll); with
   * PollSelector/SelectSelector it throws (code 'ERR_NO_BACKEND_FD') — drive those with runOnce().
   */
  attach(): void {
    this.checkOpen();
    if (this.running) throw alreadyRunning('attach');
    if (this.watcher !== null) return;
    const fd = this.selector.backendFd();
    if (fd < 0) {
      const err = new Error(`attach() needs a selector with a backend fd; ${this.selector.constructor.name} has none`) as Error & { code: string };
      err.code = 'ERR_NO_BACKEND_FD';
      throw err;
    }
    this.watcher = new native.LoopWatcher(fd, () => this.onNodeWake());
    this.watcher.start();
    this.forgetSelectorClose = this.selector.onClose(() => this.selectorClosedWhileAttached());
    this.rearmNodeWake();
  }

  /** Stops being driven by Node's loop. */
  detach(): void {
    if (this.watcher === null) return;
    this.watcher.close();
    this.watcher = null;
    this.forgetSelectorClose?.();
    this.forgetSelectorClose = null;
  }

  /** Someone closed our selector: let go of its fd before it closes, and say so once. */
  private selectorClosedWhileAttached(): void {
    this.detach();
    if (this.closedFlag) return;
    this.callExceptionHandler({
      message: 'The selector of an attached reactor was closed; the reactor is detached from Node\'s loop and can no longer run',
    });
  }

  isAttached(): boolean {
    return this.watcher !== null;
  }

  /** An attached reactor with work keeps the process alive (the default). */
  ref(): this {
    this.refed = true;
    if (this.watcher !== null) this.rearmNodeWake();
    return this;
  }

  /** An attached reactor no longer keeps the process alive by itself. */
  unref(): this {
    this.refed = false;
    this.watcher?.unref();
    return this;
  }

  private onNodeWake(): void {
    if (this.closedFlag || this.watcher === null) return;
    this.running = true;
    try {
      this.runIteration(0);
    } finally {
      this.running = false;
      this.stopping = false;
    }
    if (this.watcher !== null) this.rearmNodeWake();
  }

  /** Arms the libuv timer for the next deadline (rounded up: a timer must not fire early) and sets ref state. */
  private rearmNodeWake(): void {
    const watcher = this.watcher!;
    const timeout = this.backendTimeout();
    if (timeout === null) watcher.disarmTimer();
    else watcher.armTimer(Math.ceil(Math.min(timeout, MAX_WAIT_MS)));
    const internal = this.signalPipe !== null ? 1 : 0;
    const hasWork = timeout !== null || this.watchedFds > internal;
    if (this.refed && hasWork) watcher.ref();
    else watcher.unref();
  }

  // ---- signals -------------------------------------------------------------------------------

  /**
   * Runs cb(...args) in the loop when `signal` arrives ('SIGINT' or a number); replaces an earlier
   * handler. Works blocking and attached. Main thread only. Repeated deliveries between two
   * iterations coalesce into one call.
   */
  addSignalHandler<A extends unknown[]>(signal: string | number, cb: (...args: A) => unknown, ...args: A): Handle {
    this.checkOpen();
    checkCallback(cb);
    const signum = toSignalNumber(signal);
    if (this.signalPipe === null) {
      this.signalPipe = new SignalPipe();
      const pipe = this.signalPipe;
      this.watchFd(pipe.readFd, EVENT_READ, new Handle(() => pipe.drain((s) => this.signalHandlers.get(s)?.run()), [], this));
    }
    const handle = new Handle(cb, args, this);
    this.signalHandlers.get(signum)?.cancel();
    this.signalHandlers.set(signum, handle);
    this.signalPipe.install(signum);
    return handle;
  }

  /** Restores the signal's previous disposition; false if no handler was set. */
  removeSignalHandler(signal: string | number): boolean {
    const signum = toSignalNumber(signal);
    const handle = this.signalHandlers.get(signum);
    if (handle === undefined) return false;
    handle.cancel();
    this.signalHandlers.delete(signum);
    this.signalPipe?.restore(signum);
    return true;
  }

  // ---- debug mode ----------------------------------------------------------------------------

  /**
   * Debug mode: callbacks slower than slowCallbackDuration are reported (event 'slowCallback'
   * (info), else stderr); a reactor, transport or Socket collected without close() is reported
   * as a ResourceWarning (process 'warning' event); stats() measures idleMs/busyMs.
   */
  setDebug(enabled: boolean): void {
    if (typeof enabled !== 'boolean') throw new TypeError(`enabled must be a boolean, not ${typeof enabled}`);
    if (enabled === this.debugMode || (enabled && this.closedFlag)) return;
    this.debugMode = enabled;
    countDebugReactor(enabled ? 1 : -1);
    // A reactor dropped without close() leaks its selector fd (asyncio: "unclosed event loop").
    if (enabled) trackUnclosed(this, { description: `<Reactor ${this.selector.constructor.name}>`, report: reportUnclosedReactor });
    else untrackUnclosed(this);
  }

  getDebug(): boolean {
    return this.debugMode;
  }

  /** Counters since the reactor was made (libuv's uv_metrics). */
  stats(): ReactorStats {
    const { iterations, callbacksRun, fdEvents, timersFired, idleMs, busyMs } = this;
    return { iterations, callbacksRun, fdEvents, timersFired, idleMs, busyMs };
  }

  private reportSlowCallback(handle: Handle, name: string, durationMs: number): void {
    const message = `Executing <${handle.constructor.name} ${name}> took ${(durationMs / 1000).toFixed(3)} seconds`;
    if (this.listenerCount('slowCallback') > 0) this.emit('slowCallback', { message, handle, name, durationMs });
    else process.stderr.write(`selectloop: ${message}\n`);
  }

  // ---- errors --------------------------------------------------------------------------------

  /** Sets the handler for exceptions thrown by callbacks; null restores the default (stderr). */
  setExceptionHandler(handler: ExceptionHandler | null): void {
    if (handler !== null && typeof handler !== 'function') throw new TypeError('handler must be a function or null');
    this.exceptionHandler = handler;
  }

  getExceptionHandler(): ExceptionHandler | null {
    return this.exceptionHandler;
  }

  /** Reports an error context to the exception handler; never throws. */
  callExceptionHandler(context: ExceptionContext): void {
    if (this.exceptionHandler !== null) {
      try {
        this.exceptionHandler(this, context);
        return;
      } catch (err) {
        this.defaultExceptionHandler({ message: 'Unhandled error in exception handler', exception: err, context });
      }
    }
    this.defaultExceptionHandler(context);
  }

  /** Logs the context to stderr with the exception's stack. */
  defaultExceptionHandler(context: ExceptionContext): void {
    const { message, exception, ...rest } = context;
    const lines = [message || 'Unhandled exception in reactor'];
    for (const [k, v] of Object.entries(rest)) lines.push(`${k}: ${inspect(v, { depth: 1 })}`);
    if (exception !== undefined) lines.push(exception instanceof Error ? (exception.stack ?? String(exception)) : inspect(exception));
    process.stderr.write(lines.join('\n') + '\n');
  }

  /**
   * @internal A transport or server registers itself while it holds an fd. Given `fd` (one per
   * connection), it is kept in that fd's slot; removeResource must then be given the same fd.
   */
  addResource(resource: ReactorResource, fd = -1): void {
    if (fd >= 0 && this.resourcesByFd[fd] === undefined) this.resourcesByFd[fd] = resource;
    else this.otherResources.add(resource);
  }

  /** @internal With the fd given to addResource, if any. */
  removeResource(resource: ReactorResource, fd = -1): void {
    if (fd >= 0 && this.resourcesByFd[fd] === resource) this.resourcesByFd[fd] = undefined;
    else this.otherResources.delete(resource);
  }

  /** @internal */
  runHandleFailed(handle: Handle, exception: unknown): void {
    this.callExceptionHandler({ message: `Exception in callback ${handle.callbackName}`, exception, handle });
  }

  /** @internal True while the reactor runs an iteration's callbacks (work may wait for atIterationEnd). */
  isDispatching(): boolean {
    return this.inIteration;
  }

  /** @internal Runs hook once at the end of the current iteration (only while isDispatching()). */
  atIterationEnd(hook: () => void): void {
    this.iterationEndHooks.push(hook);
  }

  /**
   * @internal What the wait read for fd, whose reader is a PreReadHandle: bytes (then
   * preReadBytes(n) gives them), 0 at EOF, -errno, or NOT_READ (the caller reads itself). Claims it.
   */
  takePreRead(fd: number): number {
    return this.preReads.take(fd);
  }

  /**
   * @internal Turns the wait's reads for fd on (`kind` 1 or 2) or off (0) while its reader, a
   * PreReadHandle, stays registered: a stream moving large data reads for itself, with more room.
   */
  setPreRead(fd: number, kind: PreReadKind): void {
    this.preReads.mark(fd, kind);
  }

  /** @internal The n bytes takePreRead just reported, as a Buffer the caller may keep. */
  preReadBytes(n: number): Buffer {
    return this.preReads.bytes(n);
  }

  /** @internal */
  timerCancelled(): void {
    // After close() the heap is empty: a timer cancelled then was never in it.
    if (!this.closedFlag) this.timers.noteCancelled();
  }
}
