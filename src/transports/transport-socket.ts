// The Socket a transport hands out as getExtraInfo('socket') (asyncio's TransportSocket): options
// and addresses work, but the transport owns the fd, so closing or reading/writing it through the
// view throws instead of corrupting the transport.
import { Socket } from './socket.js';

function ownedByTransport(what: string): never {
  const err = new Error(`${what}() on a transport's socket: the transport owns the fd (use the transport instead)`) as Error & { code: string };
  err.code = 'ERR_TRANSPORT_OWNS_SOCKET';
  throw err;
}

const FORBIDDEN = ['close', 'detach', 'recv', 'recvInto', 'recvfrom', 'recvfromInto', 'send', 'sendall', 'sendto', 'accept', 'bind', 'listen', 'connect', 'connectEx', 'shutdown', 'setBlocking'] as const;

class TransportSocket extends Socket {}
for (const name of FORBIDDEN) {
  Object.defineProperty(TransportSocket.prototype, name, {
    value: () => ownedByTransport(name),
    writable: true,
    configurable: true,
  });
}
Object.defineProperty(TransportSocket.prototype, Symbol.dispose, { value: () => ownedByTransport('[Symbol.dispose]'), configurable: true });

/** A Socket view of a transport's non-blocking fd. */
export function transportSocket(fd: number, family: number, type: number): Socket {
  const view = Socket.adopt(fd, family, type, false);
  Object.setPrototypeOf(view, TransportSocket.prototype);
  return view;
}
