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
export type { ConnectOptions, ConnectionOptions } from './reactor-connections.js';
export { TlsTransport } from './tls-transport.js';
export type { TlsOptions } from './tls-options.js';
export type { StartTlsOptions } from './reactor-tls.js';
export { StreamReader, DEFAULT_LIMIT as STREAM_DEFAULT_LIMIT, type Separator } from './stream-reader.js';
export { StreamWriter, type ClientConnected } from './stream-writer.js';
export { IncompleteReadError, LimitOverrunError } from './stream-errors.js';
export type { OpenConnectionOptions, StartServerOptions } from './reactor-streams.js';
export type { GetaddrinfoOptions } from './reactor-getaddrinfo.js';
export type { AddrInfo } from './host-resolver.js';
export type { AbortOptions } from './abort.js';
export type { Protocol, BufferedProtocol, BaseProtocol, AnyProtocol } from './protocols.js';
export { DatagramTransport, DATAGRAM_OVERHEAD, DATAGRAM_QUEUE_CAP } from './datagram-transport.js';
export type { DatagramProtocol } from './datagram-protocol.js';
export type { DatagramEndpointOptions } from './reactor-datagrams.js';
export * from './datagram-constants.js';
