// The Reactor's datagram capability: reactor.createDatagramEndpoint (asyncio's
// loop.create_datagram_endpoint). Installed on Reactor.prototype by reactor-capabilities.ts.
import { inspect } from 'node:util';
import { native } from '../select/native.js';
import { check, ValueError } from '../select/errors.js';
import type { Reactor } from '../loop/reactor.js';
import { reactorClosed } from '../loop/errors.js';
import {
  AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC, IPPROTO_IPV6, IPV6_V6ONLY, SOCK_DGRAM, SOL_SOCKET,
  SO_BROADCAST, SO_REUSEADDR, SO_REUSEPORT,
} from './constants.js';
import { GaiError, toSockaddr, type Address } from './address.js';
import { DatagramTransport } from './datagram-transport.js';
import type { DatagramProtocol } from './datagram-protocol.js';
import { makeProtocol } from './protocols.js';

export interface DatagramEndpointOptions {
  /** Where to bind: [host, port] ('' or '0.0.0.0' for any), or a path for AF_UNIX. */
  localAddr?: Address;
  /** The peer to connect to: sendto() needs no address and only its datagrams arrive. */
  remoteAddr?: Address;
  /** AF_INET, AF_INET6 or AF_UNIX; inferred from the addresses when omitted. */
  family?: number;
  /** SO_REUSEADDR. Off by default: another process could receive this endpoint's datagrams (bpo-37228). */
  reuseAddress?: boolean;
  /** SO_REUSEPORT (off by default, for the same reason). */
  reusePort?: boolean;
  /** SO_BROADCAST: allow sending to broadcast addresses. */
  allowBroadcast?: boolean;
}

declare module '../loop/reactor.js' {
  // The Reactor's type gains this capability's methods (installed by reactor-capabilities.ts).
  interface Reactor extends DatagramMethods {}
}

/** Datagram endpoints: `reactor.createDatagramEndpoint(...)`. */
export class DatagramMethods {
  /**
   * A UDP or Unix datagram endpoint, bound (`localAddr`) and/or connected (`remoteAddr`) now:
   * their failures throw OSError and leave no fd behind. connectionMade follows in the next
   * iteration. → [transport, protocol]
   */
  createDatagramEndpoint<P extends DatagramProtocol>(this: Reactor, protocolFactory: () => P, options: DatagramEndpointOptions): [DatagramTransport, P] {
    if (this.isClosed()) throw reactorClosed();
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object with localAddr and/or remoteAddr');
    const { localAddr, remoteAddr, reuseAddress = false, reusePort = false, allowBroadcast = false } = options;
    for (const [name, v] of [['reuseAddress', reuseAddress], ['reusePort', reusePort], ['allowBroadcast', allowBroadcast]] as const) {
      if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean, not ${typeof v}`);
    }
    if (localAddr === undefined && remoteAddr === undefined) throw new ValueError('createDatagramEndpoint needs localAddr and/or remoteAddr');
    const family = endpointFamily(options.family, localAddr, remoteAddr);
    // Every address is turned into a sockaddr before the socket exists: bad input leaves nothing.
    const local = localAddr === undefined ? null : toSockaddr(family, localAddr, SOCK_DGRAM, true);
    const remote = remoteAddr === undefined ? null : toSockaddr(family, remoteAddr, SOCK_DGRAM);
    if (remote !== null && family !== AF_UNIX && native.parseAddress(remote) !== null && (native.parseAddress(remote) as [string, number])[1] === 0) {
      throw new ValueError('remoteAddr port must not be 0');
    }
    if (reusePort && SO_REUSEPORT === undefined) throw new ValueError('reusePort is not supported on this platform');
    const protocol = makeProtocol(protocolFactory);
    const fd = check(native.socket(family, SOCK_DGRAM, 0, true), 'socket');
    let peer: Address | null = null;
    try {
      if (reuseAddress) check(native.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1), 'setsockopt', '(SO_REUSEADDR)');
      if (reusePort) check(native.setsockopt(fd, SOL_SOCKET, SO_REUSEPORT!, 1), 'setsockopt', '(SO_REUSEPORT)');
      if (allowBroadcast) check(native.setsockopt(fd, SOL_SOCKET, SO_BROADCAST, 1), 'setsockopt', '(SO_BROADCAST)');
      // An IPv6 endpoint is IPv6 only, as createServer's: '::' does not also take IPv4 datagrams.
      if (family === AF_INET6) native.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
      if (local !== null) check(native.bind(fd, local), 'bind', `(${inspect(localAddr)})`);
      if (remote !== null) {
        check(native.connect(fd, remote), 'connect', `(${inspect(remoteAddr)})`);
        const name = native.getpeername(fd);
        peer = (typeof name === 'number' || name === null || name === '' ? remoteAddr : name) as Address;
        if (typeof peer === 'object') Object.freeze(peer);
      }
    } catch (err) {
      native.close(fd);
      throw err;
    }
    const transport = new DatagramTransport(this, fd, protocol, { family, peer, peerSockaddr: remote });
    transport.start();
    return [transport, protocol];
  }
}

function endpointFamily(given: number | undefined, localAddr: unknown, remoteAddr: unknown): number {
  if (given !== undefined && given !== AF_INET && given !== AF_INET6 && given !== AF_UNIX && given !== AF_UNSPEC) {
    throw new ValueError(`family must be AF_INET, AF_INET6 or AF_UNIX, got ${String(given)}`);
  }
  const pathLike = (a: unknown) => typeof a === 'string' || a instanceof Uint8Array;
  if (pathLike(localAddr) || pathLike(remoteAddr)) {
    if (given !== undefined && given !== AF_UNSPEC && given !== AF_UNIX) throw new ValueError('a path address needs family AF_UNIX');
    for (const a of [localAddr, remoteAddr]) {
      if (a !== undefined && !pathLike(a)) throw new TypeError(`AF_UNIX address must be a path string, not ${inspect(a)}`);
    }
    return AF_UNIX;
  }
  if (given === AF_UNIX) throw new TypeError('AF_UNIX addresses must be path strings');
  if (given !== undefined && given !== AF_UNSPEC) return given;
  // Inferred from the first address given: the family its host resolves to (literals and localhost).
  const first = (remoteAddr ?? localAddr) as unknown;
  if (!Array.isArray(first) || first.length < 2) throw new TypeError(`address must be [host, port] or a path, not ${inspect(first)}`);
  const [host, port] = first as unknown[];
  if (typeof host !== 'string') throw new TypeError(`host must be a string, not ${inspect(host)}`);
  if (host.includes('\0')) throw new ValueError(`host must not contain NUL bytes: ${inspect(host)}`);
  if (host === '') return AF_INET;
  if (typeof port !== 'number') throw new TypeError(`port must be a number, not ${typeof port}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ValueError(`port must be 0-65535, got ${port}`);
  const result = native.resolve(host, port, AF_UNSPEC, SOCK_DGRAM, remoteAddr === undefined);
  if (!Array.isArray(result)) throw new GaiError(result.code, result.message, host);
  if (result.length === 0) throw new GaiError('ENOTFOUND', 'no address', host);
  // Prefer IPv4 for names such as localhost that resolve to both (as the stream side's host default).
  const families = result.map((s) => native.sockaddrFamily(s));
  return families.includes(AF_INET) ? AF_INET : families[0]!;
}
