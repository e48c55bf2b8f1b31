// Handles returned by callSoon/callLater/callAt/addReader/addWriter.
import { inspect } from 'node:util';

/** What a handle needs from its reactor. */
export interface HandleOwner {
  runHandleFailed(handle: Handle, exception: unknown): void;
  timerCancelled(handle: TimerHandle): void;
}

/** Shared by every handle without arguments, so such a handle retains no array of its own. */
export const NO_ARGS: unknown[] = [];

type Callback = (...args: any[]) => unknown;

/** A callback with arguments: only handles that have arguments pay for holding them. */
class CallWithArgs {
  constructor(
    readonly fn: Callback,
    readonly args: unknown[],
  ) {}
}

/**
 * A scheduled callback. Its whole state is one field: the callback (with its arguments, if it has
 * any: most handles have none), or null once cancelled. A million timers, 8 B each per field.
 */
export class Handle {
  /** The callback, or it with its arguments; null once cancelled (references dropped early). */
  private call: Callback | CallWithArgs | null;

  constructor(
    callback: Callback,
    args: unknown[],
    protected readonly owner: HandleOwner,
  ) {
    this.call = args.length === 0 ? callback : new CallWithArgs(callback, args);
  }

  /** True once cancel() was called. */
  get cancelled(): boolean {
    return this.call === null;
  }

  /** Prevents the callback from running; idempotent. */
  cancel(): void {
    this.call = null;
  }

  /** @internal Runs the callback; an exception goes to the reactor's exception handler. */
  run(): void {
    const call = this.call;
    if (call === null) return;
    try {
      if (typeof call === 'function') call();
      else call.fn(...call.args);
    } catch (err) {
      this.owner.runHandleFailed(this, err);
    }
  }

  [inspect.custom](): string {
    return `<${this.constructor.name} ${this.cancelled ? 'cancelled' : this.callbackName}>`;
  }

  /** The callback's name, for error reports. */
  get callbackName(): string {
    const call = this.call;
    const fn = typeof call === 'function' ? call : call?.fn;
    return fn?.name || '<anonymous>';
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

  /**
   * Tells the reactor, which counts cancellations to know when its heap is mostly dead entries.
   * A timer that already fired is counted too (it keeps no "fired" flag: 8 B less per timer);
   * an over-count only makes the heap compact sooner, and a compaction recounts exactly.
   */
  override cancel(): void {
    if (this.cancelled) return;
    super.cancel();
    this.owner.timerCancelled(this);
  }
}
