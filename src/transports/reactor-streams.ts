// The Reactor's streams capability (asyncio.open_connection / asyncio.start_server): promise-based
// readers and writers over stream transports. Installed on Reactor.prototype by
// reactor-capabilities.ts.
import type { Reactor } from '../loop/reactor.js';
import { reactorClosed } from '../loop/errors.js';
import type { Server, ServerOptions } from './server.js';
import type { ConnectOptions } from './reactor-connections.js';
import type { Transport } from './stream-transport.js';
import { abortReason, onAbort, signalOf } from './abort.js';
import { StreamReader } from './stream-reader.js';
import { StreamProtocol, StreamWriter, type ClientConnected } from './stream-writer.js';

declare module '../loop/reactor.js' {
  interface Reactor extends StreamMethods {}
}

export interface OpenConnectionOptions {
  /** The reader's limit (default 64 KiB): line length, and half the read-ahead before pausing. */
  limit?: number;
  /** TLS options, passed through to createConnection. */
  tls?: object;
  signal?: AbortSignal;
}

export type StartServerOptions = ServerOptions & { limit?: number; tls?: object };

/** TLS lives on another capability; until it is installed, asking for it must fail loudly. */
function checkTls(reactor: Reactor, tls: unknown): void {
  if (tls === undefined) return;
  if (typeof (reactor as unknown as { startTls?: unknown }).startTls !== 'function') {
    const err = new Error('tls: TLS transports are not available in this build') as Error & { code: string };
    err.code = 'ERR_TLS_UNAVAILABLE';
    throw err;
  }
}

/** `const [reader, writer] = await reactor.openConnection({ host, port })`. */
export class StreamMethods {
  /**
   * Connects (a host name resolves off the loop) and resolves with the stream pair once the
   * connection is made; rejects with the connect error. Aborting closes the connection attempt.
   */
  openConnection(this: Reactor, address: ConnectOptions, options: OpenConnectionOptions = {}): Promise<[StreamReader, StreamWriter]> {
    let reader: StreamReader;
    let signal: AbortSignal | undefined;
    try {
      if (this.isClosed()) throw reactorClosed();
      if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
      signal = signalOf(options);
      if (signal?.aborted) return Promise.reject(abortReason(signal));
      checkTls(this, options.tls);
      reader = new StreamReader({ limit: options.limit });
    } catch (err) {
      return Promise.reject(err);
    }
    const tls = options.tls;
    return new Promise<[StreamReader, StreamWriter]>((resolve, reject) => {
      let stopListening: (() => void) | null = null;
      const protocol = new StreamProtocol(reader, this, {
        made: (writer) => {
          stopListening?.();
          resolve([reader, writer]);
        },
        failed: (err) => {
          stopListening?.();
          reject(err);
        },
      });
      let transport: Transport;
      try {
        transport = tls === undefined ? this.createConnection(() => protocol, address) : this.createConnection(() => protocol, address, { tls });
      } catch (err) {
        return reject(err);
      }
      if (signal !== undefined) {
        stopListening = onAbort(signal, () => {
          transport.abort();
          reject(abortReason(signal!));
        });
      }
    });
  }

  /**
   * A server that calls `connected(reader, writer)` for each connection. A callback that throws
   * or rejects goes to the exception handler, and only its connection is closed.
   */
  startServer(this: Reactor, connected: ClientConnected, options: StartServerOptions = {}): Server {
    if (this.isClosed()) throw reactorClosed();
    if (typeof connected !== 'function') throw new TypeError('startServer: the client callback must be a function');
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const { limit, tls, ...serverOptions } = options;
    new StreamReader({ limit }); // checks limit now, not at the first connection
    checkTls(this, tls);
    const factory = (): StreamProtocol => new StreamProtocol(new StreamReader({ limit }), this, { connected });
    return this.createServer(factory, tls === undefined ? serverOptions : ({ ...serverOptions, tls } as ServerOptions));
  }
}
