// Handles returned by callSoon/callLater/callAt/addReader/addWriter.
import { inspect } from 'node:util';

/** What a handle needs from its reactor. */
export interface HandleOwner {
  runHandleFailed(handle: Handle, exception: unknown): void;
  timerCancelled(handle: TimerHandle): void;
}

/** Shared by every handle without arguments, so such a handle retains no array of its own. */
export const NO_ARGS: unknown[] = [];

// A handle's life in one field (a timer handle has no other flag: a million timers, 8 B each).
const PENDING = 0;
const CANCELLED = 1;
/** A timer taken off the heap to run: cancelling it now must not count against the heap. */
const FIRED = 2;

export class Handle {
  /** @internal */ protected state = PENDING;
  protected args: unknown[];

  constructor(
    protected callback: ((...args: any[]) => unknown) | null,
    args: unknown[],
    protected readonly owner: HandleOwner,
  ) {
    this.args = args.length === 0 ? NO_ARGS : args;
  }

  /** True once cancel() was called. */
  get cancelled(): boolean {
    return this.state === CANCELLED;
  }

  /** Prevents the callback from running; idempotent. */
  cancel(): void {
    if (this.state === CANCELLED) return;
    this.state = CANCELLED;
    this.callback = null; // drop references early
    this.args = NO_ARGS;
  }

  /** @internal Runs the callback; an exception goes to the reactor's exception handler. */
  run(): void {
    const cb = this.callback;
    if (cb === null) return;
    try {
      const args = this.args;
      if (args.length === 0) cb();
      else cb(...args);
    } catch (err) {
      this.owner.runHandleFailed(this, err);
    }
  }

  [inspect.custom](): string {
    return `<${this.constructor.name} ${this.cancelled ? 'cancelled' : this.callbackName}>`;
  }

  /** The callback's name, for error reports. */
  get callbackName(): string {
    return this.callback?.name || '<anonymous>';
  }
}

export class TimerHandle extends Handle {

  constructor(
    /** Deadline in reactor.time() milliseconds. */
    readonly when: number,
    callback: (...args: any[]) => unknown,
    args: unknown[],
    owner: HandleOwner,
  ) {
    super(callback, args, owner);
  }

  override cancel(): void {
    const inHeap = this.state === PENDING;
    super.cancel();
    if (inHeap) this.owner.timerCancelled(this);
  }

  /** @internal The reactor took it off the heap to run it. */
  markFired(): void {
    if (this.state === PENDING) this.state = FIRED;
  }
}
