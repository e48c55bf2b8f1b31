// The `tls` options of createServer/createConnection/startTls: checked once, turned into one
// node:tls SecureContext (built by Node's OpenSSL; no cryptography of ours), and the check that
// the reactor can carry TLS at all. node:tls is loaded on first use: importing selectloop without
// using TLS costs neither its load time nor its memory.
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type * as NodeTls from 'node:tls';
import { ValueError } from '../select/errors.js';
import type { Reactor } from '../loop/reactor.js';

const requireBuiltin = createRequire(import.meta.url);
let tlsModule: typeof NodeTls | null = null;

/** node:tls, loaded the first time a TLS connection is made. */
export function nodeTls(): typeof NodeTls {
  return (tlsModule ??= requireBuiltin('node:tls') as typeof NodeTls);
}

/** asyncio's SSL_HANDSHAKE_TIMEOUT: a peer that never finishes the handshake is dropped. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 60_000;
/** asyncio's SSL_SHUTDOWN_TIMEOUT: a peer that never answers close_notify cannot keep a close pending. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

/**
 * Node's SecureContextOptions (key, cert, ca, ciphers, minVersion, ...) plus the connection options
 * node:tls takes on tls.connect()/tls.createServer().
 */
export interface TlsOptions extends NodeTls.SecureContextOptions {
  /** A context made once by tls.createSecureContext(); the certificate options are then ignored. */
  secureContext?: NodeTls.SecureContext;
  /** Client: the SNI name and the name the certificate must match (default: the host, unless it is an IP). */
  servername?: string;
  /** Verify the peer's certificate (default true; a server verifies only with requestCert). */
  rejectUnauthorized?: boolean;
  /** Server: ask the client for a certificate. */
  requestCert?: boolean;
  /** ALPN protocols in order of preference, e.g. ['h2', 'http/1.1']. */
  ALPNProtocols?: string[] | Uint8Array[];
  /** Client: replaces tls.checkServerIdentity (return an Error to refuse the certificate). */
  checkServerIdentity?: (hostname: string, cert: NodeTls.PeerCertificate) => Error | undefined;
  /** Client: a session from an earlier connection's getExtraInfo('tlsSocket').getSession(), to resume. */
  session?: Buffer;
  /** Server: picks a SecureContext by server name. */
  SNICallback?: (servername: string, cb: (err: Error | null, ctx?: NodeTls.SecureContext) => void) => void;
  /** ms the handshake may take before the connection fails with ERR_TLS_HANDSHAKE_TIMEOUT (default 60 000). */
  handshakeTimeout?: number;
  /** ms close() waits for the peer's close_notify before closing the socket anyway (default 30 000). */
  shutdownTimeout?: number;
}

/** The checked options of one role (client or server), with their SecureContext made once. */
export interface TlsConfig {
  readonly isServer: boolean;
  readonly options: TlsOptions;
  readonly secureContext: NodeTls.SecureContext;
  readonly handshakeTimeout: number;
  readonly shutdownTimeout: number;
  /** Client: the name the certificate is checked against. */
  readonly verifyHost: string | undefined;
  /** Client: the SNI name sent (never an IP address). */
  readonly servername: string | undefined;
}

/** Thrown where TLS cannot run: node:tls needs Node's loop, which a blocking run never lets run. */
export function tlsNeedsAttach(what: string): Error {
  const err = new Error(
    `${what}: TLS runs on Node's own event loop, which a blocking runForever()/runOnce() never lets run; ` +
      'call reactor.attach() first (or use Reactor.run(main)), then drive the reactor only from Node\'s loop',
  ) as Error & { code: string };
  err.code = 'ERR_TLS_NEEDS_ATTACH';
  return err;
}

export function checkCanCarryTls(reactor: Reactor, what: string): void {
  if (!reactor.isAttached()) throw tlsNeedsAttach(what);
}

function checkTimeout(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new ValueError(`tls.${name} must be a positive number of ms, got ${String(value)}`);
  return value;
}

/**
 * Checks `tls` options and builds their SecureContext (bad PEM data throws here, synchronously).
 * `host` is the address connected to (clients): the default servername and verified name.
 */
export function makeTlsConfig(raw: unknown, isServer: boolean, host?: string): TlsConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new TypeError('tls options must be an object');
  const options = raw as TlsOptions;
  const { servername, ALPNProtocols, secureContext } = options;
  if (servername !== undefined && typeof servername !== 'string') throw new TypeError('tls.servername must be a string');
  if (ALPNProtocols !== undefined && !Array.isArray(ALPNProtocols)) throw new TypeError('tls.ALPNProtocols must be an array');
  for (const name of ['rejectUnauthorized', 'requestCert'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') throw new TypeError(`tls.${name} must be a boolean`);
  }
  const handshakeTimeout = checkTimeout('handshakeTimeout', options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT_MS);
  const shutdownTimeout = checkTimeout('shutdownTimeout', options.shutdownTimeout, DEFAULT_SHUTDOWN_TIMEOUT_MS);
  if (isServer && secureContext === undefined && options.pfx === undefined && options.SNICallback === undefined && (options.key === undefined || options.cert === undefined)) {
    throw new ValueError('tls options of a server need key and cert (or pfx, secureContext or SNICallback)');
  }
  const tls = nodeTls();
  let context: NodeTls.SecureContext;
  if (secureContext !== undefined) {
    context = secureContext;
  } else {
    context = tls.createSecureContext(options);
  }
  const verifyHost = isServer ? undefined : (servername ?? host ?? 'localhost');
  const sni = isServer ? undefined : servername !== undefined ? servername : host !== undefined && isIP(host) === 0 ? host : undefined;
  return { isServer, options, secureContext: context, handshakeTimeout, shutdownTimeout, verifyHost, servername: sni };
}
