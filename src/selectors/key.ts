import type { FileObject } from '../select/fileobj.js';

export const EVENT_READ = 1;
export const EVENT_WRITE = 2;

/** A registration: frozen, replaced (never mutated) by modify(). */
export interface SelectorKey<T = unknown> {
  readonly fileobj: FileObject;
  readonly fd: number;
  readonly events: number;
  readonly data: T;
}

export function makeKey<T>(fileobj: FileObject, fd: number, events: number, data: T): SelectorKey<T> {
  return Object.freeze({ fileobj, fd, events, data });
}
