// Socket addresses (src/transports/address.ts): what toSockaddr / resolveStream / unixPathOption
// accept, the sockaddr they make, and the exact errors for everything else. No DNS: numeric
// hosts, '' (the wildcard) and paths only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toSockaddr, resolveStream, unixPathOption, GaiError } from '../src/transports/address.js';
import { AF_INET, AF_INET6, AF_UNIX, SOCK_DGRAM } from '../src/transports/constants.js';
import { native } from '../src/select/native.js';
import { ValueError, OSError } from '../src/select/errors.js';
import { throwsExactly } from './helpers/assertions.js';

function message(fn: () => unknown, cls: new (...args: never[]) => Error): string {
  return throwsExactly(fn, cls, String(fn)).message;
}

test('AF_INET / AF_INET6: numeric hosts, the port range ends, and "" as the wildcard', () => {
  assert.equal(native.parseAddress(toSockaddr(AF_INET, ['127.0.0.1', 0])), ['127.0.0.1', 0]);
  assert.equal(native.parseAddress(toSockaddr(AF_INET, ['127.0.0.1', 65535])), ['127.0.0.1', 65535]);
  assert.equal(native.parseAddress(toSockaddr(AF_INET, ['', 80])), ['0.0.0.0', 80]);
  assert.equal(native.parseAddress(toSockaddr(AF_INET, ['', 80], SOCK_DGRAM)), ['0.0.0.0', 80]);
  assert.equal(native.parseAddress(toSockaddr(AF_INET6, ['::1', 443])), ['::1', 443]);
  assert.equal(native.parseAddress(toSockaddr(AF_INET6, ['', 443])), ['::', 443]);
  // Extra elements (flowinfo, scope id in Python) are allowed and ignored.
  assert.equal(native.parseAddress(toSockaddr(AF_INET, ['127.0.0.1', 1, 0])), ['127.0.0.1', 1]);
});

test('AF_INET / AF_INET6: bad addresses, hosts and ports are named', () => {
  assert.is(message(() => toSockaddr(AF_INET, ['127.0.0.1', 65536]), ValueError), 'port must be 0-65535, got 65536');
  assert.is(message(() => toSockaddr(AF_INET, ['127.0.0.1', -1]), ValueError), 'port must be 0-65535, got -1');
  assert.is(message(() => toSockaddr(AF_INET, ['127.0.0.1', 1.5]), ValueError), 'port must be 0-65535, got 1.5');
  assert.is(message(() => toSockaddr(AF_INET, ['127.0.0.1', '80']), TypeError), 'port must be a number, not string');
  assert.is(message(() => toSockaddr(AF_INET, ['127.0.0.1']), TypeError), "AF_INET address must be [host, port], not [ '127.0.0.1' ]");
  assert.is(message(() => toSockaddr(AF_INET6, 'x'), TypeError), "AF_INET6 address must be [host, port], not 'x'");
  assert.is(message(() => toSockaddr(AF_INET, [1, 80]), TypeError), 'host must be a string, not 1');
  assert.is(message(() => toSockaddr(AF_INET, ['127.0.0.1\0evil', 80]), ValueError), "host must not contain NUL bytes: '127.0.0.1\\x00evil'");
  assert.is(message(() => toSockaddr(12345, ['127.0.0.1', 80]), ValueError), 'unsupported address family 12345');
});

test('AF_UNIX: paths, abstract names; empty, NUL inside and non-paths refused', () => {
  assert.is(native.parseAddress(toSockaddr(AF_UNIX, '/tmp/selectloop-address.sock')), '/tmp/selectloop-address.sock');
  assert.is(native.sockaddrFamily(toSockaddr(AF_UNIX, Buffer.from('/tmp/x.sock'))), AF_UNIX);
  if (process.platform === 'linux') assert.is(native.sockaddrFamily(toSockaddr(AF_UNIX, '\0abstract\0name')), AF_UNIX);
  assert.is(message(() => toSockaddr(AF_UNIX, ''), ValueError), 'AF_UNIX path must not be empty');
  assert.is(message(() => toSockaddr(AF_UNIX, new Uint8Array(0)), ValueError), 'AF_UNIX path must not be empty');
  assert.is(message(() => toSockaddr(AF_UNIX, 'sock\0evil'), ValueError), "AF_UNIX path must not contain NUL bytes: 'sock\\x00evil'");
  assert.is(message(() => toSockaddr(AF_UNIX, 5), TypeError), 'AF_UNIX address must be a path string, not 5');
  const tooLong = message(() => toSockaddr(AF_UNIX, `/tmp/${'x'.repeat(200)}`), OSError);
  assert.match(tooLong, /^bind \w+ \(.*\) \(AF_UNIX path too long\)$/);
});

test('unixPathOption: a checked string', () => {
  assert.is(unixPathOption('/tmp/a.sock'), '/tmp/a.sock');
  assert.is(message(() => unixPathOption(null), TypeError), 'path must be a string, not null');
  assert.is(message(() => unixPathOption(3), TypeError), 'path must be a string, not number');
  assert.is(message(() => unixPathOption(''), ValueError), 'AF_UNIX path must not be empty');
});

test('resolveStream: each candidate with its family; bad ports and hosts named', () => {
  const [v4] = resolveStream('127.0.0.1', 8080);
  assert.is(v4!.family, AF_INET);
  assert.equal(native.parseAddress(v4!.sockaddr), ['127.0.0.1', 8080]);
  const [v6] = resolveStream('::1', 8080);
  assert.is(v6!.family, AF_INET6);
  assert.equal(native.parseAddress(v6!.sockaddr), ['::1', 8080]);
  // '' is the loopback for a connection (not passive): never the wildcard.
  const hosts = resolveStream('', 8080).map(({ sockaddr }) => (native.parseAddress(sockaddr) as [string, number])[0]);
  assert.ok(hosts.length > 0 && hosts.every((h) => h === '127.0.0.1' || h === '::1'), hosts.join());
  assert.is(message(() => resolveStream('127.0.0.1', 70000), ValueError), 'port must be 0-65535, got 70000');
  assert.is(message(() => resolveStream('a\0b', 1), ValueError), "host must not contain NUL bytes: 'a\\x00b'");
});

test('GaiError: a resolver failure shaped like a dns error (code, errno 0), also for an empty answer', () => {
  const realResolve = native.resolve;
  try {
    (native as { resolve: unknown }).resolve = () => ({ code: 'EAI_AGAIN', message: 'temporary failure' });
    const err = throwsExactly(() => toSockaddr(AF_INET, ['example.test', 80]), GaiError, 'failure') as GaiError;
    assert.instance(err, OSError);
    assert.is(err.name, 'GaiError');
    assert.is(err.code, 'EAI_AGAIN');
    assert.is(err.errno, 0);
    assert.is(err.syscall, 'getaddrinfo');
    assert.is(err.message, 'getaddrinfo EAI_AGAIN example.test (temporary failure)');
    assert.is(message(() => resolveStream('example.test', 80), GaiError), 'getaddrinfo EAI_AGAIN example.test (temporary failure)');
    (native as { resolve: unknown }).resolve = () => [];
    assert.is(message(() => toSockaddr(AF_INET, ['example.test', 80]), GaiError), 'getaddrinfo ENOTFOUND example.test (no address)');
  } finally {
    (native as { resolve: unknown }).resolve = realResolve;
  }
});

test.run();
