// Socket constants, read from the platform's headers by the addon.
import { native } from '../select/native.js';

const c = native.socketConstants;
export const AF_INET = c.AF_INET!;
export const AF_INET6 = c.AF_INET6!;
export const AF_UNIX = c.AF_UNIX!;
export const AF_UNSPEC = c.AF_UNSPEC!;
export const SOCK_STREAM = c.SOCK_STREAM!;
export const SOCK_DGRAM = c.SOCK_DGRAM!;
export const SOCK_SEQPACKET = c.SOCK_SEQPACKET!;
export const SOL_SOCKET = c.SOL_SOCKET!;
export const SO_REUSEADDR = c.SO_REUSEADDR!;
export const SO_REUSEPORT = c.SO_REUSEPORT;
export const SO_KEEPALIVE = c.SO_KEEPALIVE!;
export const SO_RCVBUF = c.SO_RCVBUF!;
export const SO_SNDBUF = c.SO_SNDBUF!;
export const SO_ERROR = c.SO_ERROR!;
export const SO_TYPE = c.SO_TYPE!;
export const SO_BROADCAST = c.SO_BROADCAST!;
export const SO_LINGER = c.SO_LINGER!;
export const SO_RCVLOWAT = c.SO_RCVLOWAT!;
export const SO_SNDLOWAT = c.SO_SNDLOWAT!;
export const SO_OOBINLINE = c.SO_OOBINLINE!;
export const IPPROTO_TCP = c.IPPROTO_TCP!;
export const IPPROTO_UDP = c.IPPROTO_UDP!;
export const IPPROTO_IP = c.IPPROTO_IP!;
export const IPPROTO_IPV6 = c.IPPROTO_IPV6!;
export const IPV6_V6ONLY = c.IPV6_V6ONLY!;
export const TCP_NODELAY = c.TCP_NODELAY!;
export const SHUT_RD = c.SHUT_RD!;
export const SHUT_WR = c.SHUT_WR!;
export const SHUT_RDWR = c.SHUT_RDWR!;
export const MSG_PEEK = c.MSG_PEEK!;
export const MSG_OOB = c.MSG_OOB!;
export const MSG_WAITALL = c.MSG_WAITALL!;
export const MSG_DONTWAIT = c.MSG_DONTWAIT!;
/** Linux: recv returns a datagram's real length even when it did not fit (undefined elsewhere). */
export const MSG_TRUNC = c.MSG_TRUNC;
export const SOMAXCONN = c.SOMAXCONN!;

const familyNames = new Map([[AF_INET, 'AF_INET'], [AF_INET6, 'AF_INET6'], [AF_UNIX, 'AF_UNIX']]);
const typeNames = new Map([[SOCK_STREAM, 'SOCK_STREAM'], [SOCK_DGRAM, 'SOCK_DGRAM'], [SOCK_SEQPACKET, 'SOCK_SEQPACKET']]);

export function familyName(family: number): string {
  return familyNames.get(family) ?? String(family);
}

export function typeName(type: number): string {
  return typeNames.get(type) ?? String(type);
}
