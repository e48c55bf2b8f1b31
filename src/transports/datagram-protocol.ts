// The datagram protocol (asyncio's DatagramProtocol). Call order:
//   connectionMade(transport) -> (datagramReceived | errorReceived)* -> connectionLost(err | null)
// connectionLost is called exactly once; pauseWriting/resumeWriting bracket times when the
// transport's send queue is above its high-water mark.
import type { OSError } from '../select/errors.js';
import type { Address } from './address.js';
import type { DatagramTransport } from './datagram-transport.js';

export interface DatagramProtocol {
  /** The endpoint is ready; `transport` is how to send and close. */
  connectionMade?(transport: DatagramTransport): void;
  /**
   * One datagram, exactly its bytes (possibly empty); the Buffer is the protocol's to keep.
   * `addr` is the sender ([host, port], or a path for AF_UNIX), or null for an unnamed AF_UNIX
   * sender. A burst from one peer passes the same frozen address array each time.
   */
  datagramReceived?(data: Buffer, addr: Address | null): void;
  /**
   * A non-fatal error: an ICMP report (ECONNREFUSED on a connected endpoint, EHOSTUNREACH,
   * ENETUNREACH), EMSGSIZE for a datagram too big to send or to receive whole, or ENOBUFS when
   * the send queue is at its cap. The endpoint stays open.
   */
  errorReceived?(err: Error): void;
  /** The endpoint is closed: `err` is null for close()/abort(), the fatal error otherwise. */
  connectionLost?(err: Error | null): void;
  pauseWriting?(): void;
  resumeWriting?(): void;
}

export type { OSError };
