// Inputs the native layer used to mishandle (issue #13, point 2): MSG_TRUNC handing uninitialised
// memory to JS, NUL bytes truncating Unix paths and host names, an empty path autobinding an
// abstract socket, EAI_SOCKTYPE reported as EAI_FAIL.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, unlinkSync } from 'node:fs';
import { platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reactor } from '../src/loop/index.js';
import { native } from '../src/select/native.js';
import { ValueError } from '../src/select/errors.js';
import { Socket, socketpair, AF_INET, AF_UNIX, SOCK_DGRAM, SOCK_STREAM, MSG_TRUNC } from '../src/transports/index.js';
import { throwsExactly, type ErrorClass } from './helpers/assertions.js';

const test = suite('native-input');
const isLinux = platform() === 'linux';

/** fn throws exactly cls with a message naming the problem. */
function throwsClass(fn: () => unknown, cls: ErrorClass, what: string, message: RegExp): void {
  assert.match(throwsExactly(fn, cls, what).message, message, what);
}

/** A datagram pair with a 100-byte datagram of known bytes waiting on b. */
function pendingDatagram(): [Socket, Socket, Buffer] {
  const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM);
  const payload = Buffer.alloc(100, 0);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + 3) & 0xff;
  assert.is(a.send(payload), 100);
  return [a, b, payload];
}

test('recv(n, MSG_TRUNC) returns only the n bytes copied, not the datagram length', () => {
  if (MSG_TRUNC === undefined) return;
  const [a, b, payload] = pendingDatagram();
  try {
    // Dirty the read slab first: uninitialised bytes there would show up past the copied ones.
    const [c, d] = socketpair(AF_UNIX, SOCK_STREAM);
    c.sendall(Buffer.alloc(4096, 0xee));
    d.recv(4096);
    c.close();
    d.close();
    const got = b.recv(10, MSG_TRUNC);
    assert.is(got.length, 10);
    assert.equal([...got], [...payload.subarray(0, 10)]);
  } finally {
    a.close();
    b.close();
  }
});

test('recvfrom(n, MSG_TRUNC) returns the n bytes copied', () => {
  if (MSG_TRUNC === undefined) return;
  const [a, b, payload] = pendingDatagram();
  try {
    const [data] = b.recvfrom(16, MSG_TRUNC);
    assert.is(data.length, 16);
    assert.equal([...data], [...payload.subarray(0, 16)]);
  } finally {
    a.close();
    b.close();
  }
});

test('recvInto(buf, n, MSG_TRUNC) reports the real length (as Python) and writes only n bytes', () => {
  if (MSG_TRUNC === undefined) return;
  const [a, b, payload] = pendingDatagram();
  try {
    const buf = Buffer.alloc(32, 0xaa);
    assert.is(b.recvInto(buf, 8, MSG_TRUNC), 100);
    assert.equal([...buf.subarray(0, 8)], [...payload.subarray(0, 8)]);
    assert.ok(buf.subarray(8).every((x) => x === 0xaa), 'nothing written past n');
  } finally {
    a.close();
    b.close();
  }
});

test('recv(n, MSG_TRUNC) on a TCP socket (the kernel copies nothing) hands out no stale memory', () => {
  if (MSG_TRUNC === undefined || !isLinux) return;
  const listener = new Socket(AF_INET, SOCK_STREAM);
  const client = new Socket(AF_INET, SOCK_STREAM);
  try {
    listener.bind(['127.0.0.1', 0]);
    listener.listen();
    client.connect(listener.getsockname());
    const [conn] = listener.accept();
    try {
      client.sendall('secret-data');
      const got = conn.recv(6, MSG_TRUNC);
      assert.is(got.length, 6);
      assert.ok(got.every((x) => x === 0), `discarded bytes read as zeros, got ${got.toString('hex')}`);
      assert.is(conn.recv(100).toString(), '-data');
    } finally {
      conn.close();
    }
  } finally {
    client.close();
    listener.close();
  }
});

const unixPath = (tag: string) => join(tmpdir(), `selectloop-nul-${process.pid}-${tag}.sock`);

test("a Unix path with an embedded NUL is a ValueError, and binds nothing ('sock\\0evil')", () => {
  const path = unixPath('a');
  for (const address of [`${path}\0evil`, Buffer.from(`${path}\0evil`)]) {
    const s = new Socket(AF_UNIX, SOCK_STREAM);
    try {
      throwsClass(() => s.bind(address as string), ValueError, 'bind', /NUL/);
      throwsClass(() => s.connect(address as string), ValueError, 'connect', /NUL/);
    } finally {
      s.close();
    }
    assert.not.ok(existsSync(path), 'the truncated path was not created');
  }
  // The native layer refuses it on its own too.
  throwsClass(() => native.unixAddress(`${path}\0evil`), TypeError, 'native', /NUL/);
});

test('createServer/createConnection refuse the same paths before touching the filesystem', () => {
  const reactor = new Reactor();
  try {
    const path = unixPath('a');
    for (const bad of [`${path}\0evil`, '']) {
      throwsClass(() => reactor.createServer(() => ({}), { path: bad }), ValueError, `createServer(${JSON.stringify(bad)})`, /NUL|empty/);
      throwsClass(() => reactor.createConnection(() => ({}), { path: bad }), ValueError, `createConnection(${JSON.stringify(bad)})`, /NUL|empty/);
    }
    assert.not.ok(existsSync(path));
  } finally {
    reactor.close();
  }
});

test('an empty Unix path is a ValueError (no silent abstract autobind)', () => {
  const s = new Socket(AF_UNIX, SOCK_STREAM);
  try {
    throwsClass(() => s.bind(''), ValueError, 'bind', /empty/);
    assert.is(s.getsockname(), '', 'still unbound');
  } finally {
    s.close();
  }
  throwsClass(() => native.unixAddress(''), TypeError, 'native', /empty/);
});

test('a leading NUL names a Linux abstract socket, NULs inside it included', () => {
  if (!isLinux) return;
  const name = `\0selectloop-abstract-${process.pid}\0tail`;
  const s = new Socket(AF_UNIX, SOCK_STREAM);
  const c = new Socket(AF_UNIX, SOCK_STREAM);
  try {
    s.bind(name);
    s.listen();
    assert.is(s.getsockname(), name);
    c.connect(name);
    const [conn] = s.accept();
    conn.close();
  } finally {
    c.close();
    s.close();
  }
});

test('a host name with a NUL byte is a ValueError, not a lookup of its prefix', () => {
  const s = new Socket(AF_INET, SOCK_STREAM);
  try {
    throwsClass(() => s.bind(['127.0.0.1\0evil', 0]), ValueError, 'bind', /NUL/);
    throwsClass(() => s.connect(['localhost\0.example', 80]), ValueError, 'connect', /NUL/);
  } finally {
    s.close();
  }
  throwsClass(() => native.resolve('localhost\0evil', 80, AF_INET, SOCK_STREAM, false), TypeError, 'native', /NUL/);
});

test('getaddrinfo EAI_SOCKTYPE is reported as EAI_SOCKTYPE', () => {
  const r = native.resolve('127.0.0.1', 80, AF_INET, 12345, false);
  assert.ok(!Array.isArray(r), 'a bogus socket type fails');
  assert.is((r as { code: string }).code, 'EAI_SOCKTYPE');
});

test.after(() => {
  for (const tag of ['a']) if (existsSync(unixPath(tag))) unlinkSync(unixPath(tag));
});

test.run();
