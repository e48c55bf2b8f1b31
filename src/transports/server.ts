// Listening sockets that accept into stream transports (asyncio's Server + _accept_connection).
import { EventEmitter } from 'eventemitter3';
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { native } from '../select/native.js';
import { check, osError, isWouldBlock, ERRNO, ValueError } from '../select/errors.js';
import type { Reactor } from '../loop/reactor.js';
import type { TimerHandle } from '../loop/handle.js';
import { AF_UNIX, IPPROTO_TCP, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, TCP_NODELAY, IPV6_V6ONLY, IPPROTO_IPV6, AF_INET6 } from './constants.js';
import { resolveStream, toSockaddr, type Address } from './address.js';
import { Transport } from './stream-transport.js';
import type { AnyProtocol } from './protocols.js';
import { checkCanCarryTls, makeTlsConfig, type TlsConfig, type TlsOptions } from './tls-options.js';
import { TlsTransport } from './tls-transport.js';

export interface ServerOptions {
  host?: string;
  port?: number;
  path?: string;
  backlog?: number;
  reuseAddress?: boolean;
  reusePort?: boolean;
  /** Serve TLS (needs key and cert): each connection's connectionMade comes after its handshake. */
  tls?: TlsOptions;
}

// Out of fds or memory: accepting again at once would spin (python/asyncio#78, libuv#690).
const RESOURCE_ERRNOS = new Set([-ERRNO.EMFILE, -ERRNO.ENFILE, -ERRNO.ENOBUFS, -ERRNO.ENOMEM]);
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 1000;

export class Server extends EventEmitter {
  private fd: number;
  private readonly transports = new Set<Transport>();
  private readonly boundAddress: Address;
  private readonly tls: TlsConfig | null;
  private readonly unixPath: string | undefined;
  private backoffMs = FIRST_BACKOFF_MS;
  private retryTimer: TimerHandle | null = null;
  private closedFlag = false;
  private readonly onAcceptable = (): void => this.acceptReady();
  /** One closure per server, not per connection. */
  private readonly onTransportClosed = (t: Transport): void => void this.transports.delete(t);

  /** @internal Use reactor.createServer(). */
  constructor(
    private readonly reactor: Reactor,
    private readonly protocolFactory: () => AnyProtocol,
    options: ServerOptions,
  ) {
    super();
    if (typeof protocolFactory !== 'function') throw new TypeError('protocolFactory must be a function');
    const { host = '127.0.0.1', port = 0, path, backlog = 511, reuseAddress = true, reusePort = false } = options ?? {};
    if (typeof backlog !== 'number' || !Number.isInteger(backlog) || backlog < 0) throw new ValueError(`backlog must be a non-negative integer, got ${String(backlog)}`);
    this.backlog = backlog;
    if (options?.tls !== undefined) checkCanCarryTls(reactor, 'createServer() with tls');
    this.tls = options?.tls === undefined ? null : makeTlsConfig(options.tls, true);
    let family: number;
    let sockaddr: Buffer;
    if (path !== undefined) {
      if (typeof path !== 'string') throw new TypeError('path must be a string');
      family = AF_UNIX;
      sockaddr = toSockaddr(AF_UNIX, path);
      // A stale socket file from an earlier run would make bind fail with EADDRINUSE.
      if (path[0] !== '\0' && existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
      this.unixPath = path[0] !== '\0' ? path : undefined;
    } else {
      if (typeof host !== 'string') throw new TypeError('host must be a string');
      const first = resolveStream(host, port, true)[0]!;
      family = first.family;
      sockaddr = first.sockaddr;
    }
    this.fd = check(native.socket(family, SOCK_STREAM, 0, true), 'socket');
    try {
      if (family !== AF_UNIX) {
        if (reuseAddress) check(native.setsockopt(this.fd, SOL_SOCKET, SO_REUSEADDR, 1), 'setsockopt');
        if (reusePort) {
          if (SO_REUSEPORT === undefined) throw new ValueError('reusePort is not supported on this platform');
          check(native.setsockopt(this.fd, SOL_SOCKET, SO_REUSEPORT, 1), 'setsockopt');
        }
        if (family === AF_INET6) native.setsockopt(this.fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
      }
      check(native.bind(this.fd, sockaddr), 'bind', path ?? `${host}:${port}`);
      check(native.listen(this.fd, backlog), 'listen');
    } catch (err) {
      native.close(this.fd);
      throw err;
    }
    const name = native.getsockname(this.fd);
    this.boundAddress = (typeof name === 'number' || name === null ? '' : name) as Address;
    this.reactor.addReader(this.fd, this.onAcceptable);
  }

  private readonly backlog: number;

  /** [host, port] for TCP, the path for a Unix socket. */
  address(): Address {
    return this.boundAddress;
  }

  get connections(): number {
    return this.transports.size;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Stops listening (open connections stay up); removes a Unix socket file. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.retryTimer?.cancel();
    this.reactor.removeReader(this.fd);
    native.close(this.fd);
    this.fd = -1;
    if (this.unixPath !== undefined) {
      try {
        unlinkSync(this.unixPath);
      } catch {
        // already gone
      }
    }
    this.emit('close');
  }

  /** Closes every open connection gracefully (buffers flush first), as asyncio's close_clients(). */
  closeClients(): void {
    for (const t of [...this.transports]) t.close();
  }

  /** Closes every open connection at once, dropping unsent data. */
  abortClients(): void {
    for (const t of [...this.transports]) t.abort();
  }

  // Up to `backlog` accepts per readiness event: a burst is not starved (bpo-27906).
  private acceptReady(): void {
    for (let i = 0; i < Math.max(1, this.backlog); i++) {
      const fd = native.accept(this.fd, true);
      if (fd < 0) {
        if (isWouldBlock(fd) || fd === -ERRNO.ECONNABORTED || fd === -ERRNO.EINTR) return;
        if (RESOURCE_ERRNOS.has(fd)) return this.pauseAccepting(fd);
        const err = osError(fd, 'accept');
        this.reactor.callExceptionHandler({ message: 'accept() failed on a server socket', exception: err, server: this });
        this.emit('error', err);
        return;
      }
      this.backoffMs = FIRST_BACKOFF_MS;
      this.startConnection(fd);
    }
  }

  private pauseAccepting(errno: number): void {
    this.reactor.removeReader(this.fd);
    const err = osError(errno, 'accept');
    this.reactor.callExceptionHandler({
      message: `accept() failed (${err.code}); not accepting for ${this.backoffMs} ms`,
      exception: err,
      server: this,
    });
    this.retryTimer = this.reactor.callLater(this.backoffMs, () => {
      this.retryTimer = null;
      if (!this.closedFlag) this.reactor.addReader(this.fd, this.onAcceptable);
    });
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }

  private startConnection(fd: number): void {
    if (this.unixPath === undefined && typeof this.boundAddress !== 'string') native.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    let protocol: AnyProtocol;
    try {
      protocol = this.protocolFactory();
    } catch (err) {
      native.close(fd);
      this.reactor.callExceptionHandler({ message: 'protocolFactory() failed', exception: err, server: this });
      return;
    }
    const transport =
      this.tls === null ? new Transport(this.reactor, fd, protocol, 'socket', null, this.onTransportClosed) : TlsTransport.overFd(this.reactor, fd, protocol, this.tls, this.onTransportClosed);
    this.transports.add(transport);
    transport.start();
    if (this.listenerCount('connection') > 0) this.emit('connection', transport);
  }
}
