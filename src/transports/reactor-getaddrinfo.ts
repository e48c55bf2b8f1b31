// The Reactor's name-resolution capability: reactor.getaddrinfo() resolves off the loop thread
// (host-resolver.ts). Installed on Reactor.prototype by reactor-capabilities.ts.
import type { Reactor } from '../loop/reactor.js';
import { reactorClosed } from '../loop/errors.js';
import { getaddrinfoAsync, type AddrInfo } from './host-resolver.js';

declare module '../loop/reactor.js' {
  interface Reactor extends ResolverMethods {}
}

export interface GetaddrinfoOptions {
  /** AF_INET, AF_INET6, or AF_UNSPEC (the default: both). */
  family?: number;
  /** SOCK_STREAM (the default) or SOCK_DGRAM. */
  type?: number;
  signal?: AbortSignal;
}

/** `await reactor.getaddrinfo('example.org', 443)`: never blocks the loop, blocking mode or attached. */
export class ResolverMethods {
  /**
   * Every address of host, in the resolver's order. A literal address answers without the
   * resolver. Failures reject with code 'ENOTFOUND', 'EAI_AGAIN', ...; aborting rejects with the
   * signal's reason (the lookup itself runs to its end on its worker thread).
   */
  getaddrinfo(this: Reactor, host: string, port: number, options?: GetaddrinfoOptions): Promise<AddrInfo[]> {
    if (this.isClosed()) return Promise.reject(reactorClosed());
    return getaddrinfoAsync(this, host, port, options);
  }
}
