// Options a datagram (UDP) user reaches for, read from the platform's headers by the addon.
// IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP take a struct ip_mreq and IPV6_JOIN_GROUP an ipv6_mreq:
// pass its bytes to Socket.setsockopt as a Uint8Array (Python's setsockopt(level, opt, bytes));
// ipMreq() builds the IPv4 one.
import { datagramNative } from './datagram-native.js';

const c = datagramNative.datagramConstants;
export const IP_ADD_MEMBERSHIP = c.IP_ADD_MEMBERSHIP!;
export const IP_DROP_MEMBERSHIP = c.IP_DROP_MEMBERSHIP!;
export const IP_MULTICAST_TTL = c.IP_MULTICAST_TTL!;
export const IP_MULTICAST_LOOP = c.IP_MULTICAST_LOOP!;
export const IP_MULTICAST_IF = c.IP_MULTICAST_IF!;
export const IP_TTL = c.IP_TTL!;
export const IPV6_JOIN_GROUP = c.IPV6_JOIN_GROUP!;
export const IPV6_LEAVE_GROUP = c.IPV6_LEAVE_GROUP!;
export const IPV6_MULTICAST_HOPS = c.IPV6_MULTICAST_HOPS!;
export const IPV6_MULTICAST_LOOP = c.IPV6_MULTICAST_LOOP!;
export const IPV6_MULTICAST_IF = c.IPV6_MULTICAST_IF!;

function ipv4Bytes(address: string, name: string): number[] {
  const parts = typeof address === 'string' ? address.split('.') : [];
  const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  if (bytes.length !== 4 || bytes.some((b) => !(b >= 0 && b <= 255))) throw new TypeError(`${name} must be a dotted IPv4 address, got ${String(address)}`);
  return bytes;
}

/** The struct ip_mreq for IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP: group, then local interface (any by default). */
export function ipMreq(group: string, iface = '0.0.0.0'): Buffer {
  return Buffer.from([...ipv4Bytes(group, 'group'), ...ipv4Bytes(iface, 'iface')]);
}
