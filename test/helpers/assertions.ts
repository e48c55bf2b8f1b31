// Assertions shared by the select/selectors/bad-input suites.
import * as assert from 'uvu/assert';

export type ErrorClass = abstract new (...a: never[]) => Error;

/** A file object in Python's sense: anything with fileno(). */
export class FileLike {
  constructor(private readonly fd: number) {}
  fileno(): number {
    return this.fd;
  }
}

function thrownBy(fn: () => unknown, what: string): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.unreachable(`${what}: did not throw`);
  throw new Error('unreachable');
}

/** Asserts fn throws an instance of cls (or a subclass); returns the error. */
export function throwsClass(fn: () => unknown, cls: ErrorClass, what: string): Error {
  const err = thrownBy(fn, what);
  assert.instance(err, cls, `${what}: expected ${cls.name}, got ${String(err)}`);
  return err as Error;
}

/** Asserts fn throws exactly cls, not a subclass or a different contract class; returns the error. */
export function throwsExactly(fn: () => unknown, cls: ErrorClass, what: string): Error {
  const err = thrownBy(fn, what);
  assert.is((err as object).constructor, cls, `${what}: expected ${cls.name}, got ${String(err)}`);
  return err as Error;
}

/** Asserts fn throws an error whose code is `code`. */
export function throwsCode(fn: () => unknown, code: string, what: string): void {
  const err = thrownBy(fn, what);
  assert.is((err as { code?: string }).code, code, `${what}: ${String(err)}`);
}
