// The Reactor's stream-connection capability: servers, outgoing connections and pipe transports.
// Installed on Reactor.prototype by reactor-capabilities.ts (the loop layer cannot import us).
import { native } from '../select/native.js';
import { check, osError, ERRNO, ValueError } from '../select/errors.js';
import { fileobjToFd } from '../select/fileobj.js';
import type { Reactor } from '../loop/reactor.js';
import { reactorClosed } from '../loop/errors.js';
import { AF_INET, AF_UNIX, AF_UNSPEC, IPPROTO_TCP, SOCK_STREAM, SOL_SOCKET, SO_ERROR, TCP_NODELAY } from './constants.js';
import { isLiteralHost, lookupHost } from './host-resolver.js';
import { unixPathOption, resolveStream, toSockaddr } from './address.js';
import { Transport } from './stream-transport.js';
import { Server, type ServerOptions } from './server.js';
import { makeProtocol, type AnyProtocol } from './protocols.js';
import { checkCanCarryTls, makeTlsConfig, type TlsOptions } from './tls-options.js';
import { TlsTransport } from './tls-transport.js';

export interface ConnectOptions {
  host?: string;
  port?: number;
  path?: string;
}

export interface ConnectionOptions {
  /** Speak TLS over the connection: connectionMade comes after the handshake. */
  tls?: TlsOptions;
}

declare module '../loop/reactor.js' {
  // The Reactor's type gains this capability's methods (installed by reactor-capabilities.ts).
  interface Reactor extends ConnectionMethods {}
}

/** Stream servers, connections and pipes: `reactor.createServer(...)` and friends. */
export class ConnectionMethods {
  /** A TCP (host/port) or Unix (path) server; binding errors throw synchronously. */
  createServer(this: Reactor, protocolFactory: () => AnyProtocol, options: ServerOptions = {}): Server {
    if (this.isClosed()) throw reactorClosed();
    return new Server(this, protocolFactory, options);
  }

  /**
   * Connects without blocking; returns the transport at once. A host name is resolved off the loop
   * first; writes made before the connection is up wait in the transport's buffer. connectionMade
   * on connect; a failed lookup or connect reaches connectionLost(err) (ENOTFOUND, ECONNREFUSED, ...).
   */
  createConnection(this: Reactor, protocolFactory: () => AnyProtocol, address: ConnectOptions, options: ConnectionOptions = {}): Transport {
    if (this.isClosed()) throw reactorClosed();
    if (address === null || typeof address !== 'object') throw new TypeError('address must be { host, port } or { path }');
    // TLS: the protocol on the socket is the TLS layer's; the application's sits on the TlsTransport returned.
    if (options?.tls !== undefined) checkCanCarryTls(this, 'createConnection() with tls');
    const tlsConfig = options?.tls === undefined ? null : makeTlsConfig(options.tls, false, address.host ?? '127.0.0.1');
    const protocol = makeProtocol(protocolFactory);
    const tls = tlsConfig === null ? null : new TlsTransport(this, protocol, tlsConfig);
    const transport = connectTransport(this, tls?.rawProtocol ?? protocol, address);
    return tls?.over(transport) ?? transport;
  }

  /** A read transport over a pipe fd (made non-blocking). */
  connectReadPipe(this: Reactor, protocolFactory: () => AnyProtocol, fd: number): [Transport, AnyProtocol] {
    return pipeTransport(this, protocolFactory, fd, 'read-pipe');
  }

  /** A write transport over a pipe fd (made non-blocking). */
  connectWritePipe(this: Reactor, protocolFactory: () => AnyProtocol, fd: number): [Transport, AnyProtocol] {
    return pipeTransport(this, protocolFactory, fd, 'write-pipe');
  }
}
/** A socket transport connecting to address: at once for a path or a literal, after a lookup for a name. */
function connectTransport(reactor: Reactor, protocol: AnyProtocol, address: ConnectOptions): Transport {
  if (address.path !== undefined) return connectSockaddr(reactor, protocol, AF_UNIX, toSockaddr(AF_UNIX, unixPathOption(address.path)), address.path);
  if (typeof address.port !== 'number') throw new TypeError('port must be a number');
  const host = address.host ?? '127.0.0.1';
  const label = `${host}:${address.port}`;
  if (!isLiteralHost(host)) return connectByName(reactor, protocol, host, address.port, label);
  const first = resolveStream(host, address.port)[0]!;
  return connectSockaddr(reactor, protocol, first.family, first.sockaddr, label);
}

/** A transport connecting to a sockaddr: connected() once the connect completes. */
function connectSockaddr(reactor: Reactor, protocol: AnyProtocol, family: number, sockaddr: Buffer, label: string): Transport {
  const fd = check(native.socket(family, SOCK_STREAM, 0, true), 'socket');
  if (family !== AF_UNIX) native.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  const transport = new Transport(reactor, fd, protocol, 'socket');
  transport.waitForConnect();
  startConnect(reactor, transport, sockaddr, label);
  return transport;
}

/**
 * The transport exists at once, on a placeholder AF_INET socket, while the name resolves off the
 * loop; the lookup's first address decides the family (the socket is replaced if it differs).
 * Closing or aborting meanwhile cancels the lookup.
 */
function connectByName(reactor: Reactor, protocol: AnyProtocol, host: string, port: number, label: string): Transport {
  const fd = check(native.socket(AF_INET, SOCK_STREAM, 0, true), 'socket');
  const transport = new Transport(reactor, fd, protocol, 'socket');
  transport.waitForConnect();
  const cancel = lookupHost(reactor, host, port, AF_UNSPEC, SOCK_STREAM, (err, sockaddrs) => {
    if (transport.fileno() < 0) return; // aborted, or closed with nothing to send
    if (err !== null) return failTransport(transport, err);
    const sockaddr = sockaddrs[0]!;
    const family = native.sockaddrFamily(sockaddr);
    if (family !== AF_INET) {
      const replacement = native.socket(family, SOCK_STREAM, 0, true);
      if (replacement < 0) return failTransport(transport, osError(replacement, 'socket'));
      transport.replaceFd(replacement);
    }
    native.setsockopt(transport.fileno(), IPPROTO_TCP, TCP_NODELAY, 1);
    startConnect(reactor, transport, sockaddr, label);
  });
  transport.once('close', cancel);
  return transport;
}

/** connect(), and on completion transport.connected() or its connectionLost(err). */
function startConnect(reactor: Reactor, transport: Transport, sockaddr: Buffer, label: string): void {
  const fd = transport.fileno();
  const r = native.connect(fd, sockaddr);
  if (r === 0) transport.connected();
  else if (r === -ERRNO.EINPROGRESS) {
    // Only EINPROGRESS is "under way" (as libuv): EAGAIN is a failure, e.g. an AF_UNIX
    // listener whose backlog is full, and must not surface later as ENOTCONN.
    try {
      reactor.addWriter(fd, () => {
        reactor.removeWriter(fd);
        const out = new Int32Array(1);
        native.getsockopt(fd, SOL_SOCKET, SO_ERROR, out);
        if (out[0] === 0) transport.connected();
        else failTransport(transport, osError(-out[0]!, 'connect', label));
      });
    } catch (err) {
      // The selector refused the fd (SelectSelector past FD_SETSIZE): the connect fails, the fd is freed.
      failTransport(transport, err as Error);
    }
  } else {
    reactor.callSoon(() => failTransport(transport, osError(r, 'connect', label)));
  }
}

/** Through the transport's one failure path, so connectionLost(err) is called exactly once. */
function failTransport(transport: Transport, err: Error): void {
  (transport as unknown as { forceClose(e: Error): void }).forceClose(err);
}

function pipeTransport(reactor: Reactor, factory: () => AnyProtocol, fdArg: number, kind: 'read-pipe' | 'write-pipe'): [Transport, AnyProtocol] {
  if (reactor.isClosed()) throw reactorClosed();
  const fd = fileobjToFd(fdArg);
  const type = check(native.fdType(fd), 'fstat');
  // As asyncio: pipes, sockets and character devices (a tty); a regular file is always "ready"
  // and cannot be watched by epoll.
  if (type === 3) throw new ValueError(`fd ${fd} is not a pipe, socket or character device usable as a pipe transport`);
  const protocol = makeProtocol(factory);
  check(native.setBlocking(fd, false), 'fcntl');
  const transport = new Transport(reactor, fd, protocol, kind, { pipe: fd });
  // The write end of a FIFO polls as an error once the last reader is gone: watching it lets the
  // transport close then, not only at its next write (as asyncio's _UnixWritePipeTransport).
  if (kind === 'write-pipe' && type === 2) transport.watchForReaderGone();
  transport.start();
  return [transport, protocol];
}

