// Protocol interfaces (asyncio's protocols.py). Call order for a stream protocol:
//   connectionMade(transport) -> dataReceived(data)* -> eofReceived()? -> connectionLost(err | null)
// connectionLost is called exactly once. pauseWriting/resumeWriting bracket times when the
// transport's write buffer is above its high-water mark.
import type { Transport } from './stream-transport.js';

export interface BaseProtocol {
  /** The connection is up; `transport` is how to write and close. */
  connectionMade?(transport: Transport): void;
  /** The connection is gone: `err` is null for a normal close or EOF, the error otherwise. */
  connectionLost?(err: Error | null): void;
  /** The write buffer went above the high-water mark: stop writing until resumeWriting(). */
  pauseWriting?(): void;
  /** The write buffer drained to the low-water mark. */
  resumeWriting?(): void;
}

export interface Protocol extends BaseProtocol {
  /**
   * Bytes arrived. The Buffer is the protocol's to keep, but its memory may be shared (the read
   * slab, or Node's Buffer pool), marked untransferable as Node marks its pool: to transfer the
   * bytes to a worker, copy them first (`Buffer.from(data)`).
   */
  dataReceived?(data: Buffer): void;
  /** The peer closed its write side. Return true to keep our write side open (half-close). */
  eofReceived?(): boolean | void;
}

/** Reads land directly in the protocol's own buffer (no copy). */
export interface BufferedProtocol extends BaseProtocol {
  /** A buffer to read into; sizeHint is the advised minimum size (-1: any). Must not be empty. */
  getBuffer(sizeHint: number): Uint8Array;
  /** `nbytes` were written at the start of the last buffer from getBuffer(). */
  bufferUpdated(nbytes: number): void;
  eofReceived?(): boolean | void;
}

export type AnyProtocol = Protocol | BufferedProtocol;

export function isBufferedProtocol(p: AnyProtocol): p is BufferedProtocol {
  return typeof (p as BufferedProtocol).getBuffer === 'function' && typeof (p as BufferedProtocol).bufferUpdated === 'function';
}

/** Calls a protocol factory and checks that it returned a protocol object (before any fd exists). */
export function makeProtocol<P extends object>(factory: () => P): P {
  if (typeof factory !== 'function') throw new TypeError('protocolFactory must be a function');
  const protocol = factory();
  if (protocol === null || typeof protocol !== 'object') throw new TypeError(`protocolFactory() must return a protocol object, not ${protocol === null ? 'null' : typeof protocol}`);
  return protocol;
}
