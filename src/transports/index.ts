// selectloop/transports: sockets and pipes, protocols and transports. Importing this module adds
// the transport capabilities (createServer, createConnection, ...) to Reactor: see
// reactor-capabilities.ts for the list.
import './reactor-capabilities.js';

export { Socket, socketpair } from './socket.js';
export { TransportSocket } from './transport-socket.js';
export * from './constants.js';
export { GaiError, type Address } from './address.js';
export { pipe, setBlocking, getBlocking, read, write, closeFd } from '../select/fds.js';
export { ValueError, KeyError, OSError, BlockingIOError } from '../select/errors.js';
export { Transport, type TransportKind, type TransportExtra } from './stream-transport.js';
export { Server, type ServerOptions } from './server.js';
export type { ConnectOptions } from './reactor-connections.js';
export type { Protocol, BufferedProtocol, BaseProtocol, AnyProtocol } from './protocols.js';
