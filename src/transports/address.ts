// Python-style socket addresses <-> native sockaddr buffers.
import { inspect } from 'node:util';
import { native } from '../select/native.js';
import { OSError, ValueError, check } from '../select/errors.js';
import { AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM } from './constants.js';

/** [host, port] for AF_INET/AF_INET6; a path for AF_UNIX. */
export type Address = [string, number] | string;

/** A resolution failure, shaped like Node's dns errors (code 'ENOTFOUND', ...). */
export class GaiError extends OSError {
  override name = 'GaiError';
  constructor(code: string, message: string, host: string) {
    // Stryker disable next-line UnaryOperator: errno, code and message are all replaced just below
    super(-1, 'getaddrinfo');
    // Resolver failures have no errno: errno is 0 and code says what happened (as Node's dns).
    Object.defineProperty(this, 'code', { value: code });
    Object.defineProperty(this, 'errno', { value: 0 });
    this.message = `getaddrinfo ${code} ${host} (${message})`;
  }
}

function checkPort(port: unknown): number {
  if (typeof port !== 'number') throw new TypeError(`port must be a number, not ${typeof port}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ValueError(`port must be 0-65535, got ${port}`);
  return port;
}

/**
 * A NUL byte would end the name early in the kernel or resolver ('sock\0evil' binds 'sock'), so it
 * is refused, except as the first byte of a Linux abstract socket name, where NULs are part of the
 * name. An empty path is refused (as libuv does): Linux would autobind a random abstract name.
 */
function checkUnixPath(path: string | Uint8Array): void {
  if (path.length === 0) throw new ValueError('AF_UNIX path must not be empty');
  const bytes = typeof path === 'string' ? Buffer.from(path) : path;
  if (bytes[0] !== 0 && bytes.includes(0)) throw new ValueError(`AF_UNIX path must not contain NUL bytes: ${inspect(path)}`);
}

function checkHost(host: string): string {
  if (host.includes('\0')) throw new ValueError(`host must not contain NUL bytes: ${inspect(host)}`);
  return host;
}

/** The sockaddr for an address of `family`; host names resolve (blocking, as in Python). */
// Stryker disable next-line BooleanLiteral: passive (AI_PASSIVE) only matters for a null host, and the '' host (null) forces it below
export function toSockaddr(family: number, address: unknown, socktype = SOCK_STREAM, passive = false): Buffer {
  if (family === AF_UNIX) {
    if (typeof address !== 'string' && !(address instanceof Uint8Array)) {
      throw new TypeError(`AF_UNIX address must be a path string, not ${inspect(address)}`);
    }
    checkUnixPath(address);
    const r = native.unixAddress(address);
    if (typeof r === 'number') check(r, 'bind', '(AF_UNIX path too long)');
    return r as Buffer;
  }
  if (family !== AF_INET && family !== AF_INET6) throw new ValueError(`unsupported address family ${family}`);
  if (!Array.isArray(address) || address.length < 2) {
    throw new TypeError(`${family === AF_INET ? 'AF_INET' : 'AF_INET6'} address must be [host, port], not ${inspect(address)}`);
  }
  const [host, port] = address as unknown[];
  if (typeof host !== 'string') throw new TypeError(`host must be a string, not ${inspect(host)}`);
  checkHost(host);
  // Stryker disable next-line ConditionalExpression,StringLiteral: native resolve() treats '' as null (the wildcard), and AI_PASSIVE changes nothing for a named host
  const result = native.resolve(host === '' ? null : host, checkPort(port), family, socktype, passive || host === '');
  if (!Array.isArray(result)) throw new GaiError(result.code, result.message, host);
  if (result.length === 0) throw new GaiError('ENOTFOUND', 'no address', host);
  return result[0]!;
}

/** Resolves host for a stream connection: the family and sockaddr of each candidate address. */
export function resolveStream(host: string, port: number, passive = false): Array<{ family: number; sockaddr: Buffer }> {
  checkHost(host);
  // Stryker disable next-line ConditionalExpression,StringLiteral: native resolve() treats '' as null
  const result = native.resolve(host === '' ? null : host, checkPort(port), 0, SOCK_STREAM, passive);
  if (!Array.isArray(result)) throw new GaiError(result.code, result.message, host);
  return result.map((sockaddr) => ({ family: native.sockaddrFamily(sockaddr), sockaddr }));
}

/** A `path` option: a string, checked as every AF_UNIX path is (no NUL inside, not empty). */
export function unixPathOption(path: unknown): string {
  if (typeof path !== 'string') throw new TypeError(`path must be a string, not ${path === null ? 'null' : typeof path}`);
  checkUnixPath(path);
  return path;
}
