// The Reactor's stream-connection capability: servers, outgoing connections and pipe transports.
// Installed on Reactor.prototype by reactor-capabilities.ts (the loop layer cannot import us).
import { native } from '../select/native.js';
import { check, osError, ERRNO, ValueError } from '../select/errors.js';
import { fileobjToFd } from '../select/fileobj.js';
import type { Reactor } from '../loop/reactor.js';
import { reactorClosed } from '../loop/errors.js';
import { AF_UNIX, IPPROTO_TCP, SOCK_STREAM, SOL_SOCKET, SO_ERROR, TCP_NODELAY } from './constants.js';
import { unixPathOption, resolveStream, toSockaddr } from './address.js';
import { Transport } from './stream-transport.js';
import { Server, type ServerOptions } from './server.js';
import { makeProtocol, type AnyProtocol } from './protocols.js';

export interface ConnectOptions {
  host?: string;
  port?: number;
  path?: string;
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

  /** Connects without blocking; returns the transport at once. connectionMade on connect; a failure reaches connectionLost(err). */
  createConnection(this: Reactor, protocolFactory: () => AnyProtocol, address: ConnectOptions): Transport {
    if (this.isClosed()) throw reactorClosed();
    if (address === null || typeof address !== 'object') throw new TypeError('address must be { host, port } or { path }');
    const protocol = makeProtocol(protocolFactory);
    let family: number;
    let sockaddr: Buffer;
    if (address.path !== undefined) {
      family = AF_UNIX;
      sockaddr = toSockaddr(AF_UNIX, unixPathOption(address.path));
    } else {
      if (typeof address.port !== 'number') throw new TypeError('port must be a number');
      const first = resolveStream(address.host ?? '127.0.0.1', address.port)[0]!;
      family = first.family;
      sockaddr = first.sockaddr;
    }
    const fd = check(native.socket(family, SOCK_STREAM, 0, true), 'socket');
    if (family !== AF_UNIX) native.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    const transport = new Transport(this, fd, protocol, 'socket');
    const r = native.connect(fd, sockaddr);
    const fail = (errno: number) => {
      // Through the transport's one failure path, so connectionLost(err) is called exactly once.
      (transport as unknown as { forceClose(e: Error): void }).forceClose(osError(errno, 'connect', address.path ?? `${address.host ?? '127.0.0.1'}:${address.port}`));
    };
    if (r === 0) transport.start();
    else if (r === -ERRNO.EINPROGRESS) {
      // Only EINPROGRESS is "under way" (as libuv): EAGAIN is a failure, e.g. an AF_UNIX
      // listener whose backlog is full, and must not surface later as ENOTCONN.
      transport.waitForConnect();
      try {
        this.addWriter(fd, () => {
          this.removeWriter(fd);
          const out = new Int32Array(1);
          native.getsockopt(fd, SOL_SOCKET, SO_ERROR, out);
          if (out[0] === 0) transport.connected();
          else fail(-out[0]!);
        });
      } catch (err) {
        // The selector refused the fd (SelectSelector past FD_SETSIZE): the connect fails, the fd is freed.
        (transport as unknown as { forceClose(e: Error): void }).forceClose(err as Error);
      }
    } else {
      this.callSoon(() => fail(r));
    }
    return transport;
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

