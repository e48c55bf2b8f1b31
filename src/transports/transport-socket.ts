// The Socket that transport.getExtraInfo('socket') returns: a view of an fd the transport owns
// (asyncio's TransportSocket). Options and addresses work; anything that would read, write,
// close or change the fd's mode behind the transport's back throws.
import { native } from '../select/native.js';
import { check, ERRNO, OSError } from '../select/errors.js';
import { Socket } from './socket.js';

/** What the view reads its fd from: the fd while the owner is open, -1 afterwards. */
export interface FdOwner {
  fileno(): number;
}

const scratch = new Int32Array(2);

function ownedByTransport(what: string): Error {
  const err = new Error(`${what} on a transport's socket: the transport owns the fd (use the transport instead)`) as Error & { code: string };
  err.code = 'ERR_TRANSPORT_SOCKET';
  return err;
}

export class TransportSocket extends Socket {
  declare private readonly owner: FdOwner;

  /** @internal A view of `owner`'s open socket fd. */
  static view(owner: FdOwner): TransportSocket {
    const fd = owner.fileno();
    check(native.socketInfo(fd, scratch), 'getsockopt');
    // Not through the constructor: that would open a new socket.
    const view = Object.create(TransportSocket.prototype) as TransportSocket;
    Object.assign(view, { owner, fd: -1, family: scratch[0]!, type: scratch[1]!, blocking: false });
    return view;
  }

  // The fd is always read from the owner, so a view kept past the transport's close never
  // reaches a number the kernel has since given to another file.
  override fileno(): number {
    return this.owner.fileno();
  }

  override get closed(): boolean {
    return this.owner.fileno() < 0;
  }

  protected override liveFd(): number {
    const fd = this.owner.fileno();
    if (fd < 0) throw new OSError(-ERRNO.EBADF, 'socket', '(the transport is closed)');
    return fd;
  }

  override close(): never {
    throw ownedByTransport('close()');
  }

  /** Nothing to free: disposing of (or collecting) a view never closes the transport's fd. */
  override [Symbol.dispose](): void {}

  override detach(): never {
    throw ownedByTransport('detach()');
  }

  override setBlocking(_flag: boolean): never {
    throw ownedByTransport('setBlocking()');
  }

  override bind(): never {
    throw ownedByTransport('bind()');
  }

  override listen(): never {
    throw ownedByTransport('listen()');
  }

  override accept(): never {
    throw ownedByTransport('accept()');
  }

  override connect(): never {
    throw ownedByTransport('connect()');
  }

  override connectEx(): never {
    throw ownedByTransport('connectEx()');
  }

  override recv(): never {
    throw ownedByTransport('recv()');
  }

  override recvInto(): never {
    throw ownedByTransport('recvInto()');
  }

  override recvfrom(): never {
    throw ownedByTransport('recvfrom()');
  }

  override recvfromInto(): never {
    throw ownedByTransport('recvfromInto()');
  }

  override send(): never {
    throw ownedByTransport('send()');
  }

  override sendall(): never {
    throw ownedByTransport('sendall()');
  }

  override sendto(): never {
    throw ownedByTransport('sendto()');
  }
}
