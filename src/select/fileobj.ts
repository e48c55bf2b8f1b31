// File objects: an fd, or anything with a fileno() method (Python's _fileobj_to_fd).
import { inspect } from 'node:util';
import { ValueError } from './errors.js';

export interface HasFileno {
  fileno(): number;
}

/** A non-negative integer fd, or an object with a `fileno(): number` method. */
export type FileObject = number | HasFileno;

const MAX_FD = 0x7fffffff;

/** The fd of a file object; ValueError for anything that is not a valid one. */
export function fileobjToFd(fileobj: unknown): number {
  let fd: unknown;
  if (typeof fileobj === 'number') {
    fd = fileobj;
  } else if (
    fileobj !== null &&
    (typeof fileobj === 'object' || typeof fileobj === 'function') &&
    typeof (fileobj as Partial<HasFileno>).fileno === 'function'
  ) {
    try {
      fd = (fileobj as HasFileno).fileno();
    } catch (err) {
      throw new ValueError(`Invalid file object: ${inspect(fileobj, { depth: 0 })} (fileno() threw: ${String(err)})`);
    }
  } else {
    throw new ValueError(`Invalid file object: ${inspect(fileobj, { depth: 0 })}`);
  }
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > MAX_FD) {
    throw new ValueError(`Invalid file descriptor: ${inspect(fd)} (from ${inspect(fileobj, { depth: 0 })})`);
  }
  return fd;
}
