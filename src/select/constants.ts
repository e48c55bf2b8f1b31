// Constants of Python's select module, read from the platform's headers by the addon.
import { native } from './native.js';

const p = native.pollConstants;
const e = native.epollConstants ?? {};

export const POLLIN = p.POLLIN!;
export const POLLPRI = p.POLLPRI!;
export const POLLOUT = p.POLLOUT!;
export const POLLERR = p.POLLERR!;
export const POLLHUP = p.POLLHUP!;
export const POLLNVAL = p.POLLNVAL!;
export const POLLRDNORM = p.POLLRDNORM;
export const POLLRDBAND = p.POLLRDBAND;
export const POLLWRNORM = p.POLLWRNORM;
export const POLLWRBAND = p.POLLWRBAND;
export const POLLRDHUP = p.POLLRDHUP;

// On platforms without epoll these keep Linux's values so code that names them still loads.
export const EPOLLIN = e.EPOLLIN ?? 0x001;
export const EPOLLPRI = e.EPOLLPRI ?? 0x002;
export const EPOLLOUT = e.EPOLLOUT ?? 0x004;
export const EPOLLERR = e.EPOLLERR ?? 0x008;
export const EPOLLHUP = e.EPOLLHUP ?? 0x010;
export const EPOLLRDNORM = e.EPOLLRDNORM ?? 0x040;
export const EPOLLRDBAND = e.EPOLLRDBAND ?? 0x080;
export const EPOLLWRNORM = e.EPOLLWRNORM ?? 0x100;
export const EPOLLWRBAND = e.EPOLLWRBAND ?? 0x200;
export const EPOLLMSG = e.EPOLLMSG ?? 0x400;
export const EPOLLRDHUP = e.EPOLLRDHUP ?? 0x2000;
export const EPOLLEXCLUSIVE = e.EPOLLEXCLUSIVE ?? 1 << 28;
export const EPOLLONESHOT = e.EPOLLONESHOT ?? 1 << 30;
export const EPOLLET = e.EPOLLET ?? 2 ** 31;

export const PIPE_BUF = native.socketConstants.PIPE_BUF!;
export const FD_SETSIZE = native.FD_SETSIZE;
