// The bookkeeping every selector shares (CPython's _BaseSelectorImpl): the fd -> key map, argument
// checks, rollback on a failed register, the closed state. A backend adds only its system calls.
import { inspect } from 'node:util';
import { closedError, KeyError, ValueError } from '../select/errors.js';
import { fileobjToFd, type FileObject } from '../select/fileobj.js';
import { selectorTimeout } from '../select/timeout.js';
import { EVENT_READ, EVENT_WRITE, makeKey, type SelectorKey } from './key.js';
import { SelectorMapping } from './mapping.js';

function checkEvents(events: unknown): number {
  // A range check, not a bit test: `&` truncates to 32 bits, so 2 ** 32 + 1 would pass as READ.
  if (
    !Number.isInteger(events) ||
    // Stryker disable next-line ConditionalExpression: Number.isInteger() above is already false for every non-number; this test narrows the type for the checker
    typeof events !== 'number' ||
    events < 1 ||
    events > (EVENT_READ | EVENT_WRITE)
  ) {
    throw new ValueError(`Invalid events: ${inspect(events)} (must be EVENT_READ, EVENT_WRITE or both)`);
  }
  return events;
}

/** What a batched wait reads and where (see Epoll.pollReadyPreRead); arrays indexed by fd. */
export interface PreReadRequest {
  readonly marks: Uint8Array;
  readonly offsets: Int32Array;
  readonly results: Int32Array;
  readonly slab: Uint8Array;
  readonly cursor: Int32Array;
  readonly minRoom: number;
}

export abstract class BaseSelector<T = unknown> {
  protected readonly fdToKey = new Map<number, SelectorKey<T>>();
  private readonly mapping = new SelectorMapping<T>(this.fdToKey, (fo) => {
    // A map lookup never throws: an invalid file object is simply not in it.
    try {
      return this.lookupFd(fo);
    } catch {
      // not a valid file object: so not in the map
    }
    return undefined;
  });
  private isClosed = false;
  private closeListeners: Set<() => void> | null = null;

  /** Keys and event masks of the last selectReady() (reused arrays: nothing allocated per call). */
  readonly readyKeys: SelectorKey<T>[] = [];
  readonly readyEvents: number[] = [];

  /**
   * Registers a file object for `events` (EVENT_READ | EVENT_WRITE) with optional `data`.
   * @throws ValueError for a bad mask or file object; KeyError if already registered; OSError if
   *   the OS refuses the fd (nothing stays registered).
   */
  register(fileobj: FileObject, events: number, data?: T): SelectorKey<T> {
    this.checkOpen();
    checkEvents(events);
    const fd = fileobjToFd(fileobj);
    const existing = this.fdToKey.get(fd);
    if (existing !== undefined) {
      throw new KeyError(`${inspect(fileobj, { depth: 0 })} (fd ${fd}) is already registered`);
    }
    const key = makeKey(fileobj, fd, events, data as T);
    this.fdToKey.set(fd, key);
    try {
      this.backendAdd(fd, events);
    } catch (err) {
      this.fdToKey.delete(fd);
      throw err;
    }
    return key;
  }

  /**
   * Unregisters a file object and returns its key. Works after the fd was closed: the kernel
   * side is best-effort, the bookkeeping is always purged (cpython#83420).
   * @throws KeyError if not registered.
   */
  unregister(fileobj: FileObject): SelectorKey<T> {
    this.checkOpen();
    const key = this.keyOf(fileobj);
    this.fdToKey.delete(key.fd);
    this.backendRemove(key.fd, key.events);
    return key;
  }

  /**
   * Changes the events and/or data of a registration; a change of data only makes no system call.
   * @throws KeyError if not registered; ValueError for a bad mask.
   */
  modify(fileobj: FileObject, events: number, data?: T): SelectorKey<T> {
    this.checkOpen();
    checkEvents(events);
    const key = this.keyOf(fileobj);
    if (events !== key.events) this.backendModify(key.fd, key.events, events);
    const next = makeKey(key.fileobj, key.fd, events, data as T);
    this.fdToKey.set(key.fd, next);
    return next;
  }

  /**
   * Waits until some registered file objects are ready or the timeout (ms) expires: > 0 waits at
   * most that long, <= 0 polls, null/omitted blocks. Returns one [key, events] per ready fd, with
   * events masked by key.events; [] on timeout.
   */
  select(timeout?: number | null): Array<[SelectorKey<T>, number]> {
    this.checkOpen();
    const n = this.selectReady(selectorTimeout(timeout));
    // Stryker disable next-line ArrayDeclaration: only preallocates; every slot is assigned below
    const out = new Array<[SelectorKey<T>, number]>(n);
    for (let i = 0; i < n; i++) out[i] = [this.readyKeys[i]!, this.readyEvents[i]!];
    return out;
  }

  /**
   * The allocation-free select() used by the Reactor: fills readyKeys/readyEvents and returns the
   * count. `timeoutMs` is already normalised (< 0 blocks).
   */
  abstract selectReady(timeoutMs: number): number;

  /**
   * @internal selectReady that also reads the ready fds marked in `pre` into its slab, where the
   * backend can do both in one native call (epoll); elsewhere plain selectReady (nothing is read,
   * every result stays NOT_READ).
   */
  selectReadyPreRead(timeoutMs: number, pre: PreReadRequest): number {
    void pre;
    return this.selectReady(timeoutMs);
  }

  /** The key of a registered file object. @throws KeyError if not registered. */
  getKey(fileobj: FileObject): SelectorKey<T> {
    this.checkOpen();
    return this.keyOf(fileobj);
  }

  /** A live read-only map from file object to key. */
  getMap(): ReadonlyMap<FileObject, SelectorKey<T>> {
    this.checkOpen();
    return this.mapping;
  }

  /** Closes the selector and releases its resources; idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    // Before the backend fd closes: a foreign loop watching it (an attached Reactor's libuv poll)
    // must stop first, or libuv keeps polling a closed, maybe reused, fd and aborts.
    const listeners = this.closeListeners;
    this.closeListeners = null;
    if (listeners !== null) for (const listener of listeners) listener();
    this.fdToKey.clear();
    this.readyKeys.length = 0;
    this.backendClose();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * @internal Calls `listener` once when close() starts, before the backend fd is closed; returns
   * a function that removes it. For the owner of something that watches backendFd().
   */
  onClose(listener: () => void): () => void {
    (this.closeListeners ??= new Set()).add(listener);
    return () => this.closeListeners?.delete(listener);
  }

  /** The backend's own fd (epoll, kqueue, devpoll), or -1 when it has none. */
  backendFd(): number {
    return -1;
  }

  protected abstract backendAdd(fd: number, events: number): void;
  protected abstract backendRemove(fd: number, events: number): void;
  protected abstract backendModify(fd: number, oldEvents: number, newEvents: number): void;
  protected backendClose(): void {}

  protected checkOpen(): void {
    if (this.isClosed) throw closedError('selector');
  }

  /** Stores key/events of ready entry i; returns i + 1, or i when the events do not concern the key. */
  protected pushReady(i: number, key: SelectorKey<T>, events: number): number {
    const masked = events & key.events;
    if (masked === 0) return i;
    this.readyKeys[i] = key;
    this.readyEvents[i] = masked;
    return i + 1;
  }

  private keyOf(fileobj: FileObject): SelectorKey<T> {
    const key = this.fdToKey.get(this.lookupFd(fileobj));
    if (key === undefined) throw new KeyError(`${inspect(fileobj, { depth: 0 })} is not registered`);
    return key;
  }

  /**
   * The fd of a file object; for an object whose fileno() no longer works (closed), the fd it was
   * registered under (CPython's _fileobj_lookup); ValueError for an invalid one never registered.
   */
  private lookupFd(fileobj: unknown): number {
    try {
      return fileobjToFd(fileobj);
    } catch (err) {
      for (const key of this.fdToKey.values()) if (key.fileobj === fileobj) return key.fd;
      throw err;
    }
  }
}
