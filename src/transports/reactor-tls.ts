// The Reactor's TLS capability: reactor.startTls(), asyncio's loop.start_tls. (TLS on new
// connections is the `tls` option of createServer/createConnection.) Installed on
// Reactor.prototype by reactor-capabilities.ts.
import type { Reactor } from '../loop/reactor.js';
import { reactorClosed } from '../loop/errors.js';
import { Transport, transportClosedError } from './stream-transport.js';
import type { AnyProtocol } from './protocols.js';
import { checkCanCarryTls, makeTlsConfig, type TlsOptions } from './tls-options.js';
import { TlsTransport } from './tls-transport.js';

export interface StartTlsOptions extends TlsOptions {
  /** Take the server side of the handshake (needs key and cert). Default false: the client side. */
  server?: boolean;
  /**
   * Bytes already read from the connection that belong to the TLS stream, for instance a
   * ClientHello that arrived in the same read as the STARTTLS command (cpython#142352).
   */
  readAhead?: Uint8Array;
}

declare module '../loop/reactor.js' {
  // The Reactor's type gains this capability's methods (installed by reactor-capabilities.ts).
  interface Reactor extends TlsMethods {}
}

/** `reactor.startTls(...)`. */
export class TlsMethods {
  /**
   * Upgrades a connected socket transport to TLS in place: `protocol` (which the new transport
   * will serve; its connectionMade is not called, as in asyncio) gets the bytes after the
   * handshake. Resolves with the new transport, which the caller uses from then on; the old one
   * must not be used again. A failed handshake rejects (with Node's code, e.g.
   * DEPTH_ZERO_SELF_SIGNED_CERT), the socket is closed and `protocol` hears nothing.
   * @throws code ERR_TLS_NEEDS_ATTACH, at once, unless the reactor is attached to Node's loop.
   */
  startTls(this: Reactor, transport: Transport, protocol: AnyProtocol, options: StartTlsOptions): Promise<TlsTransport> {
    if (this.isClosed()) throw reactorClosed();
    checkCanCarryTls(this, 'startTls()');
    if (!(transport instanceof Transport) || transport instanceof TlsTransport || transport.kind !== 'socket') {
      throw new TypeError('startTls() needs a socket transport (from createConnection or createServer, not TLS already)');
    }
    if (transport.isClosing()) throw transportClosedError('startTls()');
    if (protocol === null || typeof protocol !== 'object') throw new TypeError('protocol must be a protocol object');
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const { server = false, readAhead, ...tls } = options;
    if (typeof server !== 'boolean') throw new TypeError('options.server must be a boolean');
    if (readAhead !== undefined && !(readAhead instanceof Uint8Array)) throw new TypeError('options.readAhead must be a Uint8Array');
    const peer = transport.getExtraInfo('peername');
    const host = Array.isArray(peer) && typeof peer[0] === 'string' ? peer[0] : undefined;
    const config = makeTlsConfig(tls, server, host);
    return new TlsTransport(this, protocol, config).upgrade(transport, readAhead);
  }
}
