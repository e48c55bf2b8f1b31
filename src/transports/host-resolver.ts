// Host names resolved off the loop thread (asyncio runs getaddrinfo in an executor). Each reactor
// gets one native Resolver (cpp/resolver.cc) on first use; its wake pipe is watched only while
// lookups are pending, so an idle attached reactor does not stay alive for it. Literal addresses
// never get here: they convert synchronously (AI_NUMERICHOST's idea, cpython#90980).
import { isIP } from 'node:net';
import type { Reactor } from '../loop/reactor.js';
import { native, type ResolverNative, type ResolveFailure } from '../select/native.js';
import { check } from '../select/errors.js';
import { reactorClosed } from '../loop/errors.js';
import { AF_UNIX, AF_UNSPEC, SOCK_STREAM } from './constants.js';
import { GaiError, toSockaddr, type Address } from './address.js';
import { abortReason, onAbort, signalOf, type AbortOptions } from './abort.js';

export type LookupCallback = (err: Error | null, sockaddrs: Buffer[]) => void;
type RawCallback = (failure: ResolveFailure | null, sockaddrs: Buffer[]) => void;

/** True when host converts without a resolver: an IPv4/IPv6 literal (or '' = any). */
export function isLiteralHost(host: string): boolean {
  return host === '' || isIP(host) !== 0;
}

class HostResolver {
  private resolver: ResolverNative | null = null;
  private readonly pending = new Map<number, RawCallback>();
  private nextId = 1;
  private watching = false;

  constructor(private readonly reactor: Reactor) {
    reactor.once('close', () => this.close());
  }

  /** Starts a lookup; cb runs in a reactor callback. Returns a cancel function (idempotent). */
  lookup(host: string, port: number, family: number, socktype: number, cb: RawCallback): () => void {
    if (this.reactor.isClosed()) throw reactorClosed();
    const resolver = (this.resolver ??= new native.Resolver());
    const id = this.nextId++;
    check(resolver.submit(id, host, port, family, socktype), 'getaddrinfo', `(${host})`);
    this.pending.set(id, cb);
    if (!this.watching) {
      this.watching = true;
      this.reactor.addReader(resolver.fileno(), () => this.deliver());
    }
    return () => {
      // The worker still finishes its getaddrinfo; its result is dropped when it arrives.
      if (this.pending.delete(id)) this.stopWatchingIfIdle();
    };
  }

  /** Tests only: while held, lookups stay in flight. */
  hold(flag: boolean): void {
    if (!this.reactor.isClosed()) (this.resolver ??= new native.Resolver()).hold(flag);
  }

  private deliver(): void {
    const results = this.resolver!.take();
    for (const [id, result] of results) {
      const cb = this.pending.get(id);
      if (cb === undefined) continue; // cancelled
      this.pending.delete(id);
      try {
        if (Array.isArray(result)) cb(null, result);
        else cb(result, []);
      } catch (err) {
        this.reactor.callExceptionHandler({ message: 'Exception in a name resolution callback', exception: err });
      }
    }
    this.stopWatchingIfIdle();
  }

  private stopWatchingIfIdle(): void {
    if (this.pending.size > 0 || !this.watching || this.resolver === null) return;
    this.watching = false;
    this.reactor.removeReader(this.resolver.fileno());
  }

  private close(): void {
    this.pending.clear();
    this.watching = false;
    this.resolver?.close();
    this.resolver = null;
  }
}

const resolvers = new WeakMap<Reactor, HostResolver>();

/** @internal The reactor's resolver (made on first use). */
export function hostResolver(reactor: Reactor): HostResolver {
  let r = resolvers.get(reactor);
  if (r === undefined) {
    r = new HostResolver(reactor);
    resolvers.set(reactor, r);
  }
  return r;
}

/**
 * Resolves host off the loop; cb(null, sockaddrs) or cb(GaiError) runs in a reactor callback.
 * Returns a cancel function.
 */
export function lookupHost(reactor: Reactor, host: string, port: number, family: number, socktype: number, cb: LookupCallback): () => void {
  return hostResolver(reactor).lookup(host, port, family, socktype, (failure, sockaddrs) => {
    // As Node's dns errors: code 'ENOTFOUND' / 'EAI_AGAIN' / ..., and the hostname asked for.
    if (failure !== null) return cb(Object.assign(new GaiError(failure.code, failure.message, host), { hostname: host }), []);
    if (sockaddrs.length === 0) return cb(Object.assign(new GaiError('ENOTFOUND', 'no address', host), { hostname: host }), []);
    cb(null, sockaddrs);
  });
}

/** lookupHost as a promise, with an optional AbortSignal. */
export function lookupHostAsync(reactor: Reactor, host: string, port: number, family: number, socktype: number, options?: AbortOptions): Promise<Buffer[]> {
  let signal: AbortSignal | undefined;
  try {
    signal = signalOf(options);
    if (signal?.aborted) return Promise.reject(abortReason(signal));
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise<Buffer[]>((resolve, reject) => {
    let stopListening: (() => void) | null = null;
    const cancel = lookupHost(reactor, host, port, family, socktype, (err, sockaddrs) => {
      stopListening?.();
      if (err !== null) reject(err);
      else resolve(sockaddrs);
    });
    if (signal !== undefined) {
      stopListening = onAbort(signal, () => {
        cancel();
        reject(abortReason(signal!));
      });
    }
  });
}

/**
 * The sockaddr for addr on a socket of `family`: at once for a path or a literal address, after
 * an off-loop lookup for a host name.
 */
export function resolveSockaddr(reactor: Reactor, family: number, socktype: number, addr: Address, options?: AbortOptions): Promise<Buffer> {
  try {
    if (family === AF_UNIX || !Array.isArray(addr) || typeof addr[0] !== 'string' || isLiteralHost(addr[0])) {
      return Promise.resolve(toSockaddr(family, addr, socktype));
    }
    const port = addr[1];
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer 0-65535, got ${String(port)}`);
  } catch (err) {
    return Promise.reject(err);
  }
  return lookupHostAsync(reactor, addr[0], addr[1], family, socktype, options).then((list) => list[0]!);
}

export interface AddrInfo {
  family: number;
  type: number;
  address: [string, number];
}

/** reactor.getaddrinfo's body: every address host has, off the loop. */
export function getaddrinfoAsync(
  reactor: Reactor,
  host: string,
  port: number,
  options: { family?: number; type?: number; signal?: AbortSignal } = {},
): Promise<AddrInfo[]> {
  try {
    if (typeof host !== 'string' || host === '') throw new TypeError('host must be a non-empty string');
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer 0-65535, got ${String(port)}`);
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  } catch (err) {
    return Promise.reject(err);
  }
  const family = options.family ?? AF_UNSPEC;
  const type = options.type ?? SOCK_STREAM;
  const toInfo = (sockaddr: Buffer): AddrInfo => ({
    family: native.sockaddrFamily(sockaddr),
    type,
    address: native.parseAddress(sockaddr) as [string, number],
  });
  if (isLiteralHost(host)) {
    try {
      // A literal converts without the resolver (no thread, no wait).
      const r = native.resolve(host, port, family, type, false);
      if (!Array.isArray(r)) throw new GaiError(r.code, r.message, host);
      return Promise.resolve(r.map(toInfo));
    } catch (err) {
      return Promise.reject(err);
    }
  }
  return lookupHostAsync(reactor, host, port, family, type, options).then((list) => list.map(toInfo));
}
