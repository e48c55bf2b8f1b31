// Event masks as JavaScript writes them. `|`, `&` and `~` produce signed int32 values, so
// `EPOLLIN | EPOLLET` is -2147483647 while meaning the bits 0x80000001 (= EPOLLIN + EPOLLET).
// A mask argument is therefore read as its 32 bits (`mask >>> 0`), and those bits must fit the
// kernel's field: 16 bits for poll/devpoll events and kevent flags, 32 for epoll and fflags.
import { ValueError } from './errors.js';

const INT32_MIN = -0x80000000;
const UINT32_MAX = 0xffffffff;

/** The non-negative mask for `mask`, an integer in [0, 2^bits - 1] or the int32 form of one. */
export function checkMask(mask: unknown, bits: 16 | 32, what = 'eventmask'): number {
  if (typeof mask === 'number' && Number.isInteger(mask) && mask >= INT32_MIN && mask <= UINT32_MAX) {
    const unsigned = mask >>> 0;
    if (bits === 32 || unsigned <= 0xffff) return unsigned;
  }
  const range = bits === 32 ? `[0, ${UINT32_MAX}], or its int32 form in [${INT32_MIN}, -1]` : '[0, 65535]';
  throw new ValueError(`Invalid ${what}: ${String(mask)} (must be an integer in ${range})`);
}
