// Python's select.select().
import { native } from './native.js';
import { check, ValueError } from './errors.js';
import { fileobjToFd } from './fileobj.js';
import { FD_SETSIZE } from './constants.js';

function fdsOf(list: Iterable<unknown>, name: string): [unknown[], number[]] {
  if (list === null || list === undefined || typeof (list as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`${name} must be an iterable of file objects`);
  }
  const objects = Array.from(list);
  const fds = objects.map((fo) => {
    const fd = fileobjToFd(fo);
    if (fd >= FD_SETSIZE) throw new ValueError(`filedescriptor out of range in select(): ${fd} >= FD_SETSIZE (${FD_SETSIZE})`);
    return fd;
  });
  return [objects, fds];
}

/**
 * Waits until some of the file objects are ready: `rlist` for reading, `wlist` for writing,
 * `xlist` for an exceptional condition. Returns the ready subsets (the same objects passed in).
 * `timeout` in ms: omitted/null blocks, 0 polls; negative is a ValueError (as in Python).
 * @throws ValueError for an invalid file object or an fd >= FD_SETSIZE; OSError (EBADF, ...).
 */
export function select<R, W, X>(
  rlist: Iterable<R>,
  wlist: Iterable<W>,
  xlist: Iterable<X>,
  timeout?: number | null,
): [R[], W[], X[]] {
  let ms = -1;
  if (timeout !== null && timeout !== undefined) {
    if (typeof timeout !== 'number') throw new TypeError(`timeout must be a number, null or undefined, not ${typeof timeout}`);
    if (Number.isNaN(timeout)) throw new ValueError('timeout must not be NaN');
    if (timeout < 0) throw new ValueError('timeout must be non-negative');
    // Stryker disable next-line ConditionalExpression: passing Infinity on blocks too (native RetryWait clamps each wait to INT_MAX ms and waits again)
    ms = timeout === Infinity ? -1 : timeout;
  }
  const lists = [fdsOf(rlist, 'rlist'), fdsOf(wlist, 'wlist'), fdsOf(xlist, 'xlist')];
  const all = new Int32Array(lists[0]![1].length + lists[1]![1].length + lists[2]![1].length);
  let i = 0;
  for (const [, fds] of lists) for (const fd of fds) all[i++] = fd;
  check(native.selectWait(all, lists[0]![1].length, lists[1]![1].length, lists[2]![1].length, ms), 'select');
  const result: unknown[][] = [[], [], []];
  i = 0;
  lists.forEach(([objects], which) => {
    for (const obj of objects) if (all[i++] !== -1) result[which]!.push(obj);
  });
  return result as [R[], W[], X[]];
}
