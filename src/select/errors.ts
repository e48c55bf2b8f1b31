// The contract's error classes, and the one place where a negative native result (-errno)
// becomes an exception. Inside the library would-block stays a return value; these are thrown
// only at the public, Python-style API.
import { getSystemErrorMap } from 'node:util';
import { constants as osConstants } from 'node:os';

/** An invalid value: event mask, file object, fd out of range (Python's ValueError). */
export class ValueError extends Error {
  override name = 'ValueError';
}

/** Registration state: already registered / not registered (Python's KeyError). */
export class KeyError extends Error {
  override name = 'KeyError';
}

const errorMap = getSystemErrorMap();
// libuv's map lacks some errnos (EINPROGRESS, ...): fall back to the names in os.constants.errno.
const errnoNames = new Map(Object.entries(osConstants.errno).map(([name, value]) => [-value, name]));

/** A failed system call, shaped like Node's own system errors (negative `errno`, `code`, `syscall`). */
export class OSError extends Error {
  override name = 'OSError';
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;

  constructor(errno: number, syscall: string, detail?: string) {
    const negative = errno > 0 ? -errno : errno;
    const fallback = errnoNames.get(negative);
    const [code, description] =
      errorMap.get(negative) ?? (fallback ? [fallback, fallback] : [`Unknown system error ${negative}`, 'unknown error']);
    super(`${syscall} ${code} (${description})${detail ? ` ${detail}` : ''}`);
    this.errno = negative;
    this.code = code;
    this.syscall = syscall;
  }
}

/** EAGAIN / EWOULDBLOCK / EINPROGRESS / EALREADY: the operation would block. */
export class BlockingIOError extends OSError {
  override name = 'BlockingIOError';
}

const { EAGAIN, EWOULDBLOCK, EINPROGRESS, EALREADY } = osConstants.errno;
const blockingErrnos = new Set([EAGAIN, EWOULDBLOCK, EINPROGRESS, EALREADY].map((e) => -e));

export const ERRNO = osConstants.errno;
export const NEG_EAGAIN = -EAGAIN;
export const NEG_EWOULDBLOCK = -EWOULDBLOCK;
export const NEG_EINPROGRESS = -EINPROGRESS;
export const NEG_EINTR = -osConstants.errno.EINTR;

/** True for a native result that means "try again when ready". */
export function isWouldBlock(result: number): boolean {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: EAGAIN == EWOULDBLOCK on Linux, so either test alone matches both (distinct only on a few old Unixes)
  return result === NEG_EAGAIN || result === NEG_EWOULDBLOCK;
}

/** The error object for a negative native result. */
export function osError(result: number, syscall: string, detail?: string): OSError {
  return blockingErrnos.has(result) ? new BlockingIOError(result, syscall, detail) : new OSError(result, syscall, detail);
}

/** Returns a native result, or throws the error it stands for. */
export function check(result: number, syscall: string, detail?: string): number {
  if (result < 0) throw osError(result, syscall, detail);
  return result;
}

/** Error for calling anything but close() on a closed selector or reactor. */
export function closedError(what: 'selector' | 'reactor'): Error {
  const err = new Error(`I/O operation on a closed ${what}`) as Error & { code: string };
  err.code = what === 'selector' ? 'ERR_SELECTOR_CLOSED' : 'ERR_REACTOR_CLOSED';
  return err;
}

/** Error for a backend this platform does not have. */
export function unsupportedPlatform(what: string): Error {
  const err = new Error(`${what} is not available on this platform (${process.platform})`) as Error & { code: string };
  err.code = 'ERR_UNSUPPORTED_PLATFORM';
  return err;
}
