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
  /**
   * Registrations without a key (the Reactor's, see watchFd): events by fd, 0 for none. An fd the
   * Reactor watches costs no key object and no map entry, only this slot.
   */
  private readonly watchedByFd: number[] = [];
  private watchedCount = 0;

  /**
   * The fds, keys and event masks of the last selectReady() (reused arrays: nothing allocated per
   * call). A key is undefined for an fd watched without one (watchFd).
   */
  readonly readyFds: number[] = [];
  readonly readyKeys: (SelectorKey<T> | undefined)[] = [];
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
    if (existing !== undefined || this.watchedEvents(fd) !== 0) {
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
    const out: Array<[SelectorKey<T>, number]> = [];
    for (let i = 0; i < n; i++) {
      const key = this.readyKeys[i];
      if (key !== undefined) out.push([key, this.readyEvents[i]!]);
    }
    return out;
  }

  /**
   * @internal Watches `fd` for `events` (EVENT_READ | EVENT_WRITE; 0 stops watching) without a
   * key: the Reactor keeps its own per-fd state, and selectReady reports such an fd in readyFds
   * with an undefined key. Never seen by getMap(), getKey() or select().
   * @throws KeyError if fd is registered with a key; OSError if the OS refuses it (nothing changes).
   */
  watchFd(fd: number, events: number): void {
    this.checkOpen();
    const old = this.watchedEvents(fd);
    if (events === old) return;
    if (events !== 0) checkEvents(events);
    if (old === 0) {
      if (this.fdToKey.has(fd)) throw new KeyError(`fd ${fd} is already registered`);
      this.backendAdd(fd, events);
      this.watchedCount++;
    } else if (events === 0) {
      this.watchedCount--;
      this.watchedByFd[fd] = 0;
      this.backendRemove(fd, old);
      return;
    } else {
      this.backendModify(fd, old, events);
    }
    this.watchedByFd[fd] = events;
  }

  /** @internal The events fd is watched for without a key (watchFd); 0 when none. */
  watchedEvents(fd: number): number {
    return this.watchedByFd[fd] ?? 0;
  }

  /** Registrations with a key and without (watchFd): what one wait may report at most. */
  protected get registrationCount(): number {
    return this.fdToKey.size + this.watchedCount;
  }

  /**
   * The allocation-free select() used by the Reactor: fills readyFds/readyKeys/readyEvents and
   * returns the count. `timeoutMs` is already normalised (< 0 blocks). A backend that takes events
   * from a kernel queue (epoll) reports at most `maxEvents` (default: every registration, as
   * select() must); the others report every ready fd.
   */
  abstract selectReady(timeoutMs: number, maxEvents?: number): number;

  /**
   * @internal selectReady that also reads the ready fds marked in `pre` into its slab, where the
   * backend can do both in one native call (epoll); elsewhere plain selectReady (nothing is read,
   * every result stays NOT_READ).
   */
  selectReadyPreRead(timeoutMs: number, pre: PreReadRequest, maxEvents?: number): number {
    void pre;
    return this.selectReady(timeoutMs, maxEvents);
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
    this.watchedByFd.length = 0;
    this.watchedCount = 0;
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
    this.readyFds[i] = key.fd;
    this.readyKeys[i] = key;
    this.readyEvents[i] = masked;
    return i + 1;
  }

  /**
   * Stores ready entry i for `fd`, registered with a key or watched without one; returns i + 1,
   * or i when fd is neither (unregistered meanwhile) or the events do not concern it.
   */
  protected pushReadyFd(i: number, fd: number, events: number): number {
    const watched = this.watchedByFd[fd];
    if (watched === undefined || watched === 0) {
      const key = this.fdToKey.get(fd);
      return key === undefined ? i : this.pushReady(i, key, events);
    }
    const masked = events & watched;
    if (masked === 0) return i;
    this.readyFds[i] = fd;
    this.readyKeys[i] = undefined;
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
