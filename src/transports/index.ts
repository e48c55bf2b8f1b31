// selectloop/transports: sockets and pipes (and, later, protocols and transports).
export { Socket, socketpair } from './socket.js';
export * from './constants.js';
export { GaiError, type Address } from './address.js';
export { pipe, setBlocking, getBlocking, read, write, closeFd } from '../select/fds.js';
export { ValueError, KeyError, OSError, BlockingIOError } from '../select/errors.js';
