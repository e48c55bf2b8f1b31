// selectloop/loop: the Reactor.
export { Reactor, type FdHandles, type ExceptionContext, type ExceptionHandler, type ReactorOptions, type ReactorResource } from './reactor.js';
export type { ReactorStats } from './debug.js';
export { Handle, TimerHandle } from './handle.js';
export { RingQueue } from './ring-queue.js';
export { TimerHeap } from './timer-heap.js';
