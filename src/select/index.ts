// selectloop/select: Python's select module (times in milliseconds).
export { select } from './select.js';
export { poll, Poll } from './poll.js';
export { epoll, Epoll, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD } from './epoll.js';
export * from './kqueue.js';
export { devpoll, Devpoll } from './devpoll.js';
export * from './constants.js';
export { ValueError, KeyError, OSError, BlockingIOError } from './errors.js';
export { SignalPipe, toSignalNumber } from './signals.js';
export type { FileObject, HasFileno } from './fileobj.js';
