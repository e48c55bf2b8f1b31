// Receiving datagrams in batches (recvmmsg where the platform has it, cpp/datagrams.cc), for every
// datagram transport of this thread: one scratch area, one results array and one table of sender
// addresses, reused by each batch, so a batch allocates nothing but the Buffers it hands out.
//
// Each datagram is copied out of the scratch area into the shared read slab, so every Buffer a
// protocol gets is its own memory and stays valid after the next batch (libuv#2791 broke its
// users by sharing batch memory). Senders are decoded only when they change: a burst from one
// peer gets one frozen address array, whose sockaddr is kept so replies to it skip resolving.
import { osError, ERRNO, type OSError } from '../select/errors.js';
import type { Address } from './address.js';
import { datagramNative as dn } from './datagram-native.js';
import { readSlab, readSlabOffset, takeRead } from './read-slab.js';

/** Datagrams per native call. */
export const BATCH = dn.datagramConstants.BATCH_MAX!;
const NAME_SLOT = dn.datagramConstants.NAME_SLOT!;
/** Receive slot per datagram: the largest UDP payload fits (65 507 B over IPv4, 65 527 over IPv6). */
const SLOT_SIZE = 64 * 1024;
const NEG_EMSGSIZE = -ERRNO.EMSGSIZE;
/** Smaller datagrams get a copy of their own rather than a slab view (read-slab.ts's rule). */
const COPY_BELOW = 1024;

let scratch: Buffer | null = null;
// Per datagram: length, truncated, sender address length, same sender as the one before.
const results = new Int32Array(4 * BATCH);
const names = new Uint8Array((BATCH + 1) * NAME_SLOT); // the last slot: the sender decoded before
/** The sender decoded last; its bytes are in names' last slot (the native side keeps them). */
let lastAddress: Address | null = null;
/** This batch's senders. */
const senders: Array<Address | null> = new Array(BATCH).fill(null);
/** Sockaddrs of addresses handed to protocols, so replying to one never resolves it again. */
const sockaddrOf = new WeakMap<object, Buffer>();

/**
 * Receives up to BATCH datagrams from fd: their count, or -errno (would-block included). A sender
 * without an address (a connected socket's, an unnamed AF_UNIX one) becomes `peer`.
 */
export function receiveBatch(fd: number, peer: Address | null): number {
  scratch ??= Buffer.allocUnsafe(BATCH * SLOT_SIZE); // pages never written cost no memory
  const n = dn.recvDatagrams(fd, scratch, 0, SLOT_SIZE, BATCH, results, names);
  // Every sender of the batch at once: names' last slot has already moved to the batch's last one.
  for (let i = 0; i < n; i++) {
    const nameLen = results[4 * i + 2]!;
    if (nameLen === 0) senders[i] = peer;
    else if (results[4 * i + 3] === 1 && lastAddress !== null) senders[i] = lastAddress;
    else senders[i] = lastAddress = decodeSender(i, nameLen);
  }
  return n;
}

/** Datagram i of the last batch as its own Buffer, or an EMSGSIZE error if it was truncated. */
export function datagramAt(i: number): Buffer | OSError {
  if (results[4 * i + 1] === 1) return osError(NEG_EMSGSIZE, 'recvmsg', '(a datagram larger than the receive buffer was dropped)');
  const length = results[4 * i]!;
  if (length < COPY_BELOW) {
    // Copied straight into Node's pool, as read-slab.ts copies small reads (never pinning a slab).
    const copy = Buffer.allocUnsafe(length);
    scratch!.copy(copy, 0, i * SLOT_SIZE, i * SLOT_SIZE + length);
    return copy;
  }
  const slab = readSlab(length);
  scratch!.copy(slab, readSlabOffset(), i * SLOT_SIZE, i * SLOT_SIZE + length);
  return takeRead(length);
}

/** The sender of datagram i of the last batch. */
export function senderAt(i: number): Address | null {
  return senders[i]!;
}

/** The sockaddr of an address this module handed out, if it is one. */
export function knownSockaddr(addr: object): Buffer | undefined {
  return sockaddrOf.get(addr);
}

function decodeSender(slot: number, nameLen: number): Address | null {
  const addr = dn.datagramAddress(names, slot, nameLen) as Address | null;
  if (addr !== null && typeof addr === 'object') {
    Object.freeze(addr); // shared by every datagram from this sender: nobody may change it
    sockaddrOf.set(addr, dn.datagramSockaddr(names, slot, nameLen));
  }
  return addr;
}
