// Handles returned by callSoon/callLater/callAt/addReader/addWriter.
import { inspect } from 'node:util';

/** What a handle needs from its reactor. */
export interface HandleOwner {
  runHandleFailed(handle: Handle, exception: unknown): void;
  timerCancelled(handle: TimerHandle): void;
}

/** Shared by every handle without arguments, so such a handle retains no array of its own. */
export const NO_ARGS: unknown[] = [];

export class Handle {
  cancelled = false;
  protected args: unknown[];

  constructor(
    protected callback: ((...args: any[]) => unknown) | null,
    args: unknown[],
    protected readonly owner: HandleOwner,
  ) {
    this.args = args.length === 0 ? NO_ARGS : args;
  }

  /** Prevents the callback from running; idempotent. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
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
  /** @internal */ scheduled = true;

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
    if (this.cancelled) return;
    super.cancel();
    if (this.scheduled) this.owner.timerCancelled(this);
  }
}
