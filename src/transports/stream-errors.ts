// The streams' errors (asyncio.IncompleteReadError, asyncio.LimitOverrunError).

/** EOF came before the read was complete: `partial` holds what did arrive. */
export class IncompleteReadError extends Error {
  override name = 'IncompleteReadError';
  constructor(
    readonly partial: Buffer,
    /** Bytes asked for; null for readUntil (no known length). */
    readonly expected: number | null,
  ) {
    super(`${partial.length} bytes read on a total of ${expected === null ? 'undefined' : expected} expected bytes`);
  }
}

/**
 * The buffer reached the limit while looking for a separator. The data stays in the buffer;
 * `consumed` is how many bytes to skip (for instance with readExactly) to get past it.
 */
export class LimitOverrunError extends Error {
  override name = 'LimitOverrunError';
  constructor(
    message: string,
    readonly consumed: number,
  ) {
    super(message);
  }
}

/** Two reads waiting at once on one StreamReader (asyncio's RuntimeError). */
export function readBusy(what: string): Error {
  const err = new Error(`${what}() called while another read is already waiting for data on this StreamReader`) as Error & { code: string };
  err.code = 'ERR_READ_BUSY';
  return err;
}
