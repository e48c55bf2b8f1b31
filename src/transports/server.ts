// Listening sockets that accept into stream transports (asyncio's Server + _accept_connection).
import { EventEmitter } from 'eventemitter3';
import { lstatSync, unlinkSync } from 'node:fs';
import { native } from '../select/native.js';
import { check, osError, isWouldBlock, ERRNO, ValueError } from '../select/errors.js';
import type { Reactor, ReactorResource } from '../loop/reactor.js';
import type { TimerHandle } from '../loop/handle.js';
import { AF_UNIX, IPPROTO_TCP, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, TCP_NODELAY, IPV6_V6ONLY, IPPROTO_IPV6, AF_INET6 } from './constants.js';
import { unixPathOption, resolveStream, toSockaddr, type Address } from './address.js';
import { Transport } from './stream-transport.js';
import { makeProtocol, type AnyProtocol } from './protocols.js';
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

/** The identity of the socket file a server bound: close() unlinks the path only while it is still this file. */
interface SocketFile {
  readonly path: string;
  readonly dev: bigint;
  readonly ino: bigint;
}

function isSocketFile(path: string, file: SocketFile): boolean {
  try {
    const st = lstatSync(path, { bigint: true });
    return st.isSocket() && st.dev === file.dev && st.ino === file.ino;
  } catch {
    return false;
  }
}

function unlinkIfOurs(file: SocketFile | null): void {
  if (file === null || !isSocketFile(file.path, file)) return;
  try {
    unlinkSync(file.path);
  } catch {
    // gone meanwhile
  }
}

/**
 * A socket file already at `path`: removed if stale (connecting is refused: nobody listens), as
 * asyncio removes one; EADDRINUSE if a server answers, which Python's unconditional unlink would
 * have silently taken the path from. Any other file is left for bind() to refuse.
 */
function removeStaleSocket(path: string): void {
  try {
    if (!lstatSync(path).isSocket()) return;
  } catch {
    return; // nothing there
  }
  const probe = check(native.socket(AF_UNIX, SOCK_STREAM, 0, true), 'socket');
  let r: number;
  try {
    r = native.connect(probe, toSockaddr(AF_UNIX, path));
  } finally {
    native.close(probe);
  }
  // Connected, in progress, or a full backlog (EAGAIN): someone listens there.
  if (r === 0 || r === -ERRNO.EINPROGRESS || r === -ERRNO.EAGAIN) throw osError(-ERRNO.EADDRINUSE, 'bind', `${path} (a server is listening on it)`);
  if (r !== -ERRNO.ECONNREFUSED) return;
  try {
    unlinkSync(path);
  } catch {
    // gone meanwhile
  }
}

export class Server extends EventEmitter implements ReactorResource {
  private fd: number;
  private readonly transports = new Set<Transport>();
  private readonly boundAddress: Address;
  private readonly tls: TlsConfig | null;
  private readonly unixPath: string | undefined;
  /** The socket file bound at unixPath, null for TCP and abstract sockets. */
  private socketFile: SocketFile | null = null;
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
      family = AF_UNIX;
      sockaddr = toSockaddr(AF_UNIX, unixPathOption(path));
      // A stale socket file from an earlier run would make bind fail with EADDRINUSE.
      if (path[0] !== '\0') removeStaleSocket(path);
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
      if (this.unixPath !== undefined) {
        const st = lstatSync(this.unixPath, { bigint: true });
        this.socketFile = { path: this.unixPath, dev: st.dev, ino: st.ino };
      }
      check(native.listen(this.fd, backlog), 'listen');
      // The selector may refuse the fd (SelectSelector past FD_SETSIZE): nothing may be left behind.
      this.reactor.addReader(this.fd, this.onAcceptable);
    } catch (err) {
      native.close(this.fd);
      unlinkIfOurs(this.socketFile);
      throw err;
    }
    const name = native.getsockname(this.fd);
    this.boundAddress = (typeof name === 'number' || name === null ? '' : name) as Address;
    reactor.addResource(this);
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

  /**
   * Stops listening (open connections stay up); removes its Unix socket file, unless the path now
   * names another file (another server bound it after ours was removed). Idempotent.
   */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.retryTimer?.cancel();
    this.reactor.removeReader(this.fd);
    native.close(this.fd);
    this.fd = -1;
    this.reactor.removeResource(this);
    unlinkIfOurs(this.socketFile);
    this.emit('close');
  }

  /** @internal reactor.close() with this server open: it closes as by close(). */
  closeWithReactor(): void {
    this.close();
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
      if (this.closedFlag) return; // closed by a 'connection' listener
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
      protocol = makeProtocol(this.protocolFactory); // undefined or a non-object is refused here
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
