// Plain fd helpers (Python's os.pipe/os.read/os.write/os.close and os.set_blocking). They live at
// this level because the reactor needs a wake-up pipe; selectloop/transports re-exports them.
import { native } from './native.js';
import { check } from './errors.js';
import { fileobjToFd } from './fileobj.js';

function toBytes(data: unknown, name: string): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data);
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`${name} must be a Uint8Array, Buffer or string`);
}

export { toBytes };

function checkCount(n: unknown): number {
  if (typeof n !== 'number') throw new TypeError(`n must be a number, not ${typeof n}`);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  return n;
}

/** Creates a pipe: `[readFd, writeFd]`, both close-on-exec and blocking (as os.pipe()). */
export function pipe(): [number, number] {
  const out = new Int32Array(2);
  check(native.pipe(out, false), 'pipe');
  return [out[0]!, out[1]!];
}

/** Sets or clears O_NONBLOCK on a file object. */
export function setBlocking(fileobj: unknown, blocking: boolean): void {
  const fd = fileobjToFd(fileobj);
  // Stryker disable next-line ConditionalExpression: native setBlocking() refuses a non-boolean with this same TypeError; checked here to fail before the fd is looked at
  if (typeof blocking !== 'boolean') throw new TypeError('blocking must be a boolean');
  check(native.setBlocking(fd, blocking), 'fcntl');
}

/** True when the fd is in blocking mode. */
export function getBlocking(fileobj: unknown): boolean {
  return check(native.getBlocking(fileobjToFd(fileobj)), 'fcntl') === 1;
}

/** Reads at most n bytes; an empty Buffer at EOF. @throws BlockingIOError when non-blocking and empty. */
export function read(fileobj: unknown, n: number): Buffer {
  const fd = fileobjToFd(fileobj);
  const buf = Buffer.allocUnsafe(checkCount(n));
  const got = check(native.read(fd, buf, 0, buf.length), 'read');
  // Stryker disable next-line ConditionalExpression: subarray(0, got) of a full read is the same bytes; the test only saves making a view
  return got === buf.length ? buf : buf.subarray(0, got);
}

/** Writes data, returning how many bytes went out. */
export function write(fileobj: unknown, data: Uint8Array | string): number {
  const fd = fileobjToFd(fileobj);
  const bytes = toBytes(data, 'data');
  return check(native.write(fd, bytes, 0, bytes.length), 'write');
}

/** Closes an fd. */
export function closeFd(fileobj: unknown): void {
  check(native.close(fileobjToFd(fileobj)), 'close');
}
