// The "selectloop/transports — sockets and pipes" contract, sentence by sentence.
// Only 127.0.0.1, ::1 and Unix sockets; every test closes what it opens.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inspect } from 'node:util';
import { spawn } from 'node:child_process';
import { constants as osConstants, tmpdir } from 'node:os';
import { existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  Socket,
  socketpair,
  pipe,
  setBlocking,
  getBlocking,
  read,
  write,
  closeFd,
  ValueError,
  OSError,
  BlockingIOError,
  AF_INET,
  AF_INET6,
  AF_UNIX,
  SOCK_STREAM,
  SOCK_DGRAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_KEEPALIVE,
  SO_RCVBUF,
  SO_SNDBUF,
  IPPROTO_TCP,
  TCP_NODELAY,
  SHUT_RD,
  SHUT_WR,
  SHUT_RDWR,
  type Address,
} from '../src/transports/index.js';
import { native } from '../src/select/native.js';
import { openFdCount, withTimeout } from './helpers/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let unixCounter = 0;
const unixPath = () => join(tmpdir(), `selectloop-sock-${process.pid}-${unixCounter++}.sock`);
const rm = (p: string) => {
  if (existsSync(p)) unlinkSync(p);
};

/** Runs a node snippet in a child process; resolves with its stdout (rejects on non-zero exit). */
function runNode(code: string, args: string[] = [], ms = 10_000): Promise<string> {
  const child = spawn(process.execPath, ['-e', code, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise<string>((resolve, reject) => {
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`))));
  });
  return withTimeout(done, ms, 'child process').catch((e) => {
    child.kill('SIGKILL');
    throw e;
  });
}

function throwsOS(fn: () => unknown, code: string, syscall?: string): OSError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, OSError);
    const err = e as OSError;
    assert.is(err.code, code, err.message);
    assert.ok(err.errno < 0, `errno is negative (${err.errno})`);
    if (code in osConstants.errno) assert.is(err.errno, -osConstants.errno[code as keyof typeof osConstants.errno]);
    if (syscall) assert.is(err.syscall, syscall);
    assert.ok(err.message.includes(code) && err.message.includes(err.syscall), err.message);
    return err;
  }
  assert.unreachable(`expected OSError ${code}`);
  throw new Error('unreachable');
}

/** A listening TCP socket on family's loopback, a connected client and the accepted server side. */
function tcpTriple(family = AF_INET): { listener: Socket; client: Socket; server: Socket; peer: Address; close(): void } {
  const host = family === AF_INET6 ? '::1' : '127.0.0.1';
  const opened: Socket[] = [];
  try {
    const listener = new Socket(family, SOCK_STREAM);
    opened.push(listener);
    listener.bind([host, 0]);
    listener.listen();
    const client = new Socket(family, SOCK_STREAM);
    opened.push(client);
    client.connect(listener.getsockname());
    const [server, peer] = listener.accept();
    opened.push(server);
    return { listener, client, server, peer, close: () => opened.forEach((s) => s.close()) };
  } catch (e) {
    opened.forEach((s) => s.close());
    throw e;
  }
}

// libuv opens a few fds lazily (child-process signal pipe, ...); warm those up before counting.
let fdsBefore = -1;
test('warm-up: baseline fd count', async () => {
  await runNode('process.exit(0)');
  fdsBefore = openFdCount();
});

test('Socket() defaults to AF_INET / SOCK_STREAM and blocking', () => {
  const s = new Socket();
  try {
    assert.is(s.family, AF_INET);
    assert.is(s.type, SOCK_STREAM);
    assert.is(s.getBlocking(), true);
    assert.is(getBlocking(s.fileno()), true);
    assert.ok(s.fileno() >= 0);
    s.setBlocking(false);
    assert.is(s.getBlocking(), false);
    assert.is(getBlocking(s.fileno()), false);
    s.setBlocking(true);
    assert.is(getBlocking(s.fileno()), true);
  } finally {
    s.close();
  }
});

test('constants are distinct integers', () => {
  for (const c of [AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM, SOCK_DGRAM, SOL_SOCKET, SO_REUSEADDR, SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF, IPPROTO_TCP, TCP_NODELAY, SHUT_RD, SHUT_WR, SHUT_RDWR]) {
    assert.ok(Number.isInteger(c), String(c));
  }
  assert.is(new Set([AF_INET, AF_INET6, AF_UNIX]).size, 3);
  assert.is(new Set([SHUT_RD, SHUT_WR, SHUT_RDWR]).size, 3);
});

for (const [name, family, host] of [['AF_INET', AF_INET, '127.0.0.1'], ['AF_INET6', AF_INET6, '::1']] as const) {
  test(`${name}: bind/listen/accept/connect, addresses, recv/send`, () => {
    const t = tcpTriple(family);
    try {
      const laddr = t.listener.getsockname() as [string, number];
      assert.ok(Array.isArray(laddr) && laddr.length === 2);
      assert.is(laddr[0], host);
      assert.ok(Number.isInteger(laddr[1]) && laddr[1] > 0 && laddr[1] <= 65535);
      // accept -> [Socket, [host, port]] where the address is the client's local address
      assert.instance(t.server, Socket);
      assert.is(t.server.family, family);
      assert.is(t.server.type, SOCK_STREAM);
      assert.is(t.server.getBlocking(), true);
      assert.ok(Array.isArray(t.peer));
      assert.equal((t.peer as [string, number]).slice(0, 2), t.client.getsockname());
      assert.is((t.peer as [string, number])[0], host);
      assert.equal(t.client.getpeername(), laddr);
      assert.equal(t.server.getpeername(), t.client.getsockname());
      assert.equal(t.server.getsockname(), laddr);
      // send -> count; recv(n) -> exactly the bytes
      assert.is(t.client.send('hello world'), 11);
      const got = t.server.recv(5);
      assert.instance(got, Buffer);
      assert.is(got.toString(), 'hello');
      const buf = Buffer.alloc(16);
      assert.is(t.server.recvInto(buf, 3), 3);
      assert.is(buf.subarray(0, 3).toString(), ' wo');
      assert.is(t.server.recvInto(buf), 3);
      assert.is(buf.subarray(0, 3).toString(), 'rld');
      assert.is(t.server.send(Buffer.from([1, 2, 3])), 3);
      assert.equal([...t.client.recv(10)], [1, 2, 3]);
      // EOF
      t.client.close();
      const eof = t.server.recv(10);
      assert.instance(eof, Buffer);
      assert.is(eof.length, 0);
    } finally {
      t.close();
    }
  });
}

test("'localhost' resolves for bind and connect", () => {
  const listener = new Socket();
  const client = new Socket();
  let server: Socket | undefined;
  try {
    listener.bind(['localhost', 0]);
    listener.listen(5);
    const [host, port] = listener.getsockname() as [string, number];
    assert.is(host, '127.0.0.1');
    client.connect(['localhost', port]);
    [server] = listener.accept();
    assert.is(client.send('x'), 1);
    assert.is(server.recv(1).toString(), 'x');
  } finally {
    server?.close();
    client.close();
    listener.close();
  }
});

test('AF_UNIX: bind/listen/accept/connect with a path; path addresses', () => {
  const path = unixPath();
  const listener = new Socket(AF_UNIX, SOCK_STREAM);
  const client = new Socket(AF_UNIX);
  let server: Socket | undefined;
  try {
    assert.is(listener.family, AF_UNIX);
    listener.bind(path);
    listener.listen();
    assert.is(listener.getsockname(), path);
    client.connect(path);
    assert.is(client.getpeername(), path);
    const [s, addr] = listener.accept();
    server = s;
    assert.instance(server, Socket);
    assert.is(server.family, AF_UNIX);
    assert.is(typeof addr, 'string');
    assert.is(server.getsockname(), path);
    assert.is(client.sendall('unix!'), undefined);
    assert.is(server.recv(100).toString(), 'unix!');
    assert.ok(native.getCloexec(server.fileno()) === 1);
    client.shutdown(SHUT_WR);
    assert.is(server.recv(100).length, 0);
  } finally {
    server?.close();
    client.close();
    listener.close();
    rm(path);
  }
});

test('accept on a non-blocking listener with no pending connection -> BlockingIOError', () => {
  const listener = new Socket();
  try {
    listener.bind(['127.0.0.1', 0]);
    listener.listen();
    listener.setBlocking(false);
    const err = throwsOS(() => listener.accept(), 'EAGAIN');
    assert.instance(err, BlockingIOError);
  } finally {
    listener.close();
  }
});

test('non-blocking recv on an empty socket -> BlockingIOError (an OSError, EAGAIN)', () => {
  const [a, b] = socketpair();
  try {
    a.setBlocking(false);
    const err = throwsOS(() => a.recv(10), 'EAGAIN');
    assert.instance(err, BlockingIOError);
    assert.instance(err, OSError);
    assert.ok(err.errno === -osConstants.errno.EAGAIN || err.errno === -osConstants.errno.EWOULDBLOCK);
    assert.throws(() => a.recvInto(Buffer.alloc(4)), (e: unknown) => e instanceof BlockingIOError);
    b.send('z');
    assert.is(a.recv(10).toString(), 'z');
  } finally {
    a.close();
    b.close();
  }
});

test('non-blocking send fills up -> BlockingIOError; sendall in non-blocking mode too', () => {
  const [a, b] = socketpair();
  try {
    a.setBlocking(false);
    const chunk = Buffer.alloc(65536, 1);
    let total = 0;
    let err: unknown;
    for (let i = 0; i < 10_000; i++) {
      try {
        total += a.send(chunk);
      } catch (e) {
        err = e;
        break;
      }
    }
    assert.instance(err, BlockingIOError);
    assert.ok(total > 0);
    assert.throws(() => a.sendall(chunk), (e: unknown) => e instanceof BlockingIOError);
  } finally {
    a.close();
    b.close();
  }
});

test('sendall of 4 MiB in blocking mode to a concurrently reading child process', async () => {
  const listener = new Socket();
  let conn: Socket | undefined;
  try {
    listener.bind(['127.0.0.1', 0]);
    listener.listen();
    const port = (listener.getsockname() as [string, number])[1];
    const reader = runNode(
      `const net = require('net'); let n = 0; let sum = 0;
       const c = net.connect(Number(process.argv[1]), '127.0.0.1');
       c.on('data', (d) => { n += d.length; for (const b of d) sum = (sum + b) % 1000000007; });
       c.on('end', () => { process.stdout.write(n + ' ' + sum); c.end(); });`,
      [String(port)],
      20_000,
    );
    // Wait (without blocking the event loop) for the child to connect.
    listener.setBlocking(false);
    const deadline = Date.now() + 10_000;
    while (!conn) {
      try {
        [conn] = listener.accept();
      } catch (e) {
        if (!(e instanceof BlockingIOError) || Date.now() > deadline) throw e;
        await sleep(10);
      }
    }
    assert.is(conn.getBlocking(), true);
    const data = Buffer.alloc(4 * 1024 * 1024);
    let sum = 0;
    for (let i = 0; i < data.length; i++) {
      data[i] = (i * 7 + (i >> 13)) & 0xff;
      sum = (sum + data[i]!) % 1000000007;
    }
    assert.is(conn.sendall(data), undefined);
    conn.shutdown(SHUT_WR);
    const out = await reader;
    assert.is(out, `${data.length} ${sum}`);
    // the child closed after 'end': our side sees EOF
    assert.is(conn.recv(10).length, 0);
  } finally {
    conn?.close();
    listener.close();
  }
});

test('connectEx on a non-blocking socket to a listening port -> EINPROGRESS or 0', async () => {
  const listener = new Socket();
  const client = new Socket();
  let server: Socket | undefined;
  try {
    listener.bind(['127.0.0.1', 0]);
    listener.listen();
    client.setBlocking(false);
    const r = client.connectEx(listener.getsockname());
    assert.ok(r === 0 || r === osConstants.errno.EINPROGRESS, `connectEx returned ${r}`);
    [server] = listener.accept();
    assert.equal(client.getpeername(), listener.getsockname());
    // a non-blocking connect() that would block throws BlockingIOError (EINPROGRESS)
    const c2 = new Socket();
    try {
      c2.setBlocking(false);
      try {
        c2.connect(listener.getsockname());
      } catch (e) {
        assert.instance(e, BlockingIOError);
        assert.is((e as OSError).code, 'EINPROGRESS');
      }
    } finally {
      c2.close();
    }
  } finally {
    server?.close();
    client.close();
    listener.close();
  }
});

test('connect to a closed port -> OSError ECONNREFUSED (negative errno, syscall connect); connectEx returns it', () => {
  // Find a port nobody listens on: bind, note it, close.
  const probe = new Socket();
  probe.bind(['127.0.0.1', 0]);
  const addr = probe.getsockname();
  probe.close();
  const s = new Socket();
  try {
    const err = throwsOS(() => s.connect(addr), 'ECONNREFUSED', 'connect');
    assert.not.instance(err, BlockingIOError);
  } finally {
    s.close();
  }
  const s2 = new Socket();
  try {
    assert.is(s2.connectEx(addr), osConstants.errno.ECONNREFUSED);
  } finally {
    s2.close();
  }
});

test('sendto / recvfrom with SOCK_DGRAM on 127.0.0.1', () => {
  const a = new Socket(AF_INET, SOCK_DGRAM);
  const b = new Socket(AF_INET, SOCK_DGRAM);
  try {
    assert.is(a.type, SOCK_DGRAM);
    a.bind(['127.0.0.1', 0]);
    b.bind(['127.0.0.1', 0]);
    assert.is(b.sendto('datagram', a.getsockname()), 8);
    const [data, from] = a.recvfrom(100);
    assert.instance(data, Buffer);
    assert.is(data.toString(), 'datagram');
    assert.equal(from, b.getsockname());
    // recvfrom(n) truncates to n
    assert.is(a.sendto(Buffer.from('0123456789'), b.getsockname()), 10);
    const [part] = b.recvfrom(4);
    assert.is(part.toString(), '0123');
    b.setBlocking(false);
    assert.throws(() => b.recvfrom(10), (e: unknown) => e instanceof BlockingIOError);
  } finally {
    a.close();
    b.close();
  }
});

test('shutdown(SHUT_WR) makes the peer recv return empty, the other direction still works', () => {
  const t = tcpTriple();
  try {
    t.client.send('last');
    t.client.shutdown(SHUT_WR);
    assert.is(t.server.recv(100).toString(), 'last');
    assert.is(t.server.recv(100).length, 0);
    assert.is(t.server.send('reply'), 5);
    assert.is(t.client.recv(100).toString(), 'reply');
    t.server.shutdown(SHUT_RDWR);
    assert.is(t.client.recv(100).length, 0);
  } finally {
    t.close();
  }
});

test('close() is idempotent; fileno() is -1 after; operations on a closed socket throw OSError EBADF', () => {
  const s = new Socket();
  s.bind(['127.0.0.1', 0]);
  s.close();
  assert.is(s.fileno(), -1);
  s.close();
  assert.is(s.fileno(), -1);
  throwsOS(() => s.recv(1), 'EBADF');
  throwsOS(() => s.send('x'), 'EBADF');
  throwsOS(() => s.sendall('x'), 'EBADF');
  throwsOS(() => s.bind(['127.0.0.1', 0]), 'EBADF');
  throwsOS(() => s.listen(), 'EBADF');
  throwsOS(() => s.accept(), 'EBADF');
  throwsOS(() => s.connect(['127.0.0.1', 1]), 'EBADF');
  throwsOS(() => s.connectEx(['127.0.0.1', 1]), 'EBADF');
  throwsOS(() => s.getsockname(), 'EBADF');
  throwsOS(() => s.getpeername(), 'EBADF');
  throwsOS(() => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1), 'EBADF');
  throwsOS(() => s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 'EBADF');
  throwsOS(() => s.setBlocking(false), 'EBADF');
  throwsOS(() => s.getBlocking(), 'EBADF');
  throwsOS(() => s.shutdown(SHUT_RDWR), 'EBADF');
  throwsOS(() => s.sendto('x', ['127.0.0.1', 1]), 'EBADF');
  throwsOS(() => s.recvfrom(1), 'EBADF');
  throwsOS(() => s.recvInto(Buffer.alloc(1)), 'EBADF');
  assert.match(inspect(s), /closed/);
});

test('setsockopt / getsockopt round-trips', () => {
  const s = new Socket();
  try {
    for (const opt of [SO_REUSEADDR, SO_KEEPALIVE]) {
      s.setsockopt(SOL_SOCKET, opt, 1);
      assert.ok(s.getsockopt(SOL_SOCKET, opt) !== 0);
      s.setsockopt(SOL_SOCKET, opt, 0);
      assert.is(s.getsockopt(SOL_SOCKET, opt), 0);
      s.setsockopt(SOL_SOCKET, opt, true);
      assert.ok(s.getsockopt(SOL_SOCKET, opt) !== 0);
    }
    if (SO_REUSEPORT !== undefined) {
      s.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
      assert.ok(s.getsockopt(SOL_SOCKET, SO_REUSEPORT) !== 0);
      s.setsockopt(SOL_SOCKET, SO_REUSEPORT, 0);
      assert.is(s.getsockopt(SOL_SOCKET, SO_REUSEPORT), 0);
    }
    for (const opt of [SO_RCVBUF, SO_SNDBUF]) {
      s.setsockopt(SOL_SOCKET, opt, 65536);
      assert.ok(s.getsockopt(SOL_SOCKET, opt) >= 65536, `buffer ${s.getsockopt(SOL_SOCKET, opt)}`);
    }
    s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
    assert.ok(s.getsockopt(IPPROTO_TCP, TCP_NODELAY) !== 0);
    s.setsockopt(IPPROTO_TCP, TCP_NODELAY, false);
    assert.is(s.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
  } finally {
    s.close();
  }
});

test('[Symbol.dispose] closes the socket (and `using` works)', () => {
  const s = new Socket();
  const fd = s.fileno();
  s[Symbol.dispose]();
  assert.is(s.fileno(), -1);
  assert.is(native.getCloexec(fd) < 0, true, 'the fd itself is closed');
  let kept: Socket;
  {
    using t = new Socket(AF_UNIX);
    kept = t;
    assert.ok(t.fileno() >= 0);
  }
  assert.is(kept.fileno(), -1);
});

test('util.inspect form', () => {
  const s = new Socket();
  try {
    s.bind(['127.0.0.1', 0]);
    const port = (s.getsockname() as [string, number])[1];
    const text = inspect(s);
    assert.is(text, `<Socket fd=${s.fileno()} family=AF_INET type=SOCK_STREAM laddr=['127.0.0.1', ${port}]>`);
    assert.match(text, /^<Socket fd=\d+ family=AF_INET type=SOCK_STREAM laddr=\['127\.0\.0\.1', \d+\]>$/);
  } finally {
    s.close();
  }
  const t = tcpTriple(AF_INET6);
  try {
    assert.match(inspect(t.client), /^<Socket fd=\d+ family=AF_INET6 type=SOCK_STREAM laddr=\['::1', \d+\] raddr=\['::1', \d+\]>$/);
  } finally {
    t.close();
  }
  const d = new Socket(AF_INET, SOCK_DGRAM);
  try {
    assert.match(inspect(d), new RegExp(`^<Socket fd=${d.fileno()} family=AF_INET type=SOCK_DGRAM`));
  } finally {
    d.close();
  }
});

test('socketpair() defaults to AF_UNIX / SOCK_STREAM; Socket.fromFd reports family and type', () => {
  const [a, b] = socketpair();
  let c: Socket | undefined;
  try {
    assert.is(a.family, AF_UNIX);
    assert.is(a.type, SOCK_STREAM);
    assert.is(b.family, AF_UNIX);
    assert.is(a.getBlocking(), true);
    a.sendall('ping');
    assert.is(b.recv(4).toString(), 'ping');
    c = Socket.fromFd(b.detach());
    assert.is(c.family, AF_UNIX);
    assert.is(c.type, SOCK_STREAM);
    assert.is(c.getBlocking(), true);
    a.send('pong');
    assert.is(c.recv(4).toString(), 'pong');
  } finally {
    a.close();
    b.close();
    c?.close();
  }
  const [d1, d2] = socketpair(AF_UNIX, SOCK_DGRAM);
  let d3: Socket | undefined;
  try {
    assert.is(d1.type, SOCK_DGRAM);
    d3 = Socket.fromFd(d2.detach());
    assert.is(d3.family, AF_UNIX);
    assert.is(d3.type, SOCK_DGRAM);
  } finally {
    d1.close();
    d2.close();
    d3?.close();
  }
  // a pipe fd is not a socket
  const [r, w] = pipe();
  try {
    assert.throws(() => Socket.fromFd(r), (e: unknown) => e instanceof OSError);
  } finally {
    closeFd(r);
    closeFd(w);
  }
});

test('pipe(): read/write round-trip, non-blocking read -> BlockingIOError, EOF, closeFd', () => {
  const [r, w] = pipe();
  let rOpen = true;
  let wOpen = true;
  try {
    assert.ok(Number.isInteger(r) && Number.isInteger(w) && r !== w);
    assert.is(getBlocking(r), true);
    assert.is(write(w, 'abc'), 3);
    assert.is(write(w, Buffer.from('def')), 3);
    const got = read(r, 4);
    assert.instance(got, Buffer);
    assert.is(got.toString(), 'abcd');
    assert.is(read(r, 100).toString(), 'ef');
    setBlocking(r, false);
    assert.is(getBlocking(r), false);
    const err = throwsOS(() => read(r, 10), 'EAGAIN');
    assert.instance(err, BlockingIOError);
    setBlocking(r, true);
    assert.is(getBlocking(r), true);
    closeFd(w);
    wOpen = false;
    assert.is(read(r, 10).length, 0);
    closeFd(r);
    rOpen = false;
    throwsOS(() => closeFd(r), 'EBADF');
  } finally {
    if (rOpen) closeFd(r);
    if (wOpen) closeFd(w);
  }
});

test('every fd is close-on-exec', () => {
  const opened: Socket[] = [];
  const fds: number[] = [];
  try {
    const t = tcpTriple();
    opened.push(t.listener, t.client, t.server);
    const [a, b] = socketpair();
    opened.push(a, b);
    const d = new Socket(AF_INET, SOCK_DGRAM);
    opened.push(d);
    const u = new Socket(AF_UNIX);
    opened.push(u);
    const [r, w] = pipe();
    fds.push(r, w);
    for (const s of opened) assert.is(native.getCloexec(s.fileno()), 1, inspect(s));
    for (const fd of fds) assert.is(native.getCloexec(fd), 1, `pipe fd ${fd}`);
  } finally {
    opened.forEach((s) => s.close());
    fds.forEach((fd) => closeFd(fd));
  }
});

test('bad input: types and values', () => {
  assert.throws(() => new Socket('x' as unknown as number), (e: unknown) => e instanceof TypeError);
  assert.throws(() => new Socket(AF_INET, 'y' as unknown as number), (e: unknown) => e instanceof TypeError);
  const s = new Socket();
  try {
    assert.throws(() => s.bind(['127.0.0.1', 70000]), (e: unknown) => e instanceof ValueError);
    assert.throws(() => s.bind(['127.0.0.1', -1]), (e: unknown) => e instanceof ValueError);
    assert.throws(() => s.bind('notarray'), (e: unknown) => e instanceof TypeError);
    assert.throws(() => s.connect(['127.0.0.1'] as unknown as Address), (e: unknown) => e instanceof TypeError);
    assert.throws(() => s.bind([1, 2] as unknown as Address), (e: unknown) => e instanceof TypeError);
    assert.throws(() => s.recv(-1), (e: unknown) => e instanceof ValueError);
    assert.throws(() => s.recv(1.5), (e: unknown) => e instanceof ValueError);
    assert.throws(() => s.recv('4' as unknown as number), (e: unknown) => e instanceof TypeError);
    assert.throws(() => s.send(123 as unknown as string), (e: unknown) => e instanceof TypeError);
    assert.throws(() => s.sendall({} as unknown as string), (e: unknown) => e instanceof TypeError);
    assert.throws(() => s.recvInto('buf' as unknown as Buffer), (e: unknown) => e instanceof TypeError);
    assert.throws(() => s.recvInto(Buffer.alloc(2), 5), (e: unknown) => e instanceof ValueError);
    assert.throws(() => s.setBlocking(1 as unknown as boolean), (e: unknown) => e instanceof TypeError);
    assert.ok(s.fileno() >= 0, 'bad input does not close the socket');
  } finally {
    s.close();
  }
  const u = new Socket(AF_UNIX);
  try {
    assert.throws(() => u.bind(['127.0.0.1', 0] as unknown as string), (e: unknown) => e instanceof TypeError);
    throwsOS(() => u.bind(join(tmpdir(), 'x'.repeat(120))), 'ENAMETOOLONG');
    throwsOS(() => u.connect('/' + 'y'.repeat(200)), 'ENAMETOOLONG');
  } finally {
    u.close();
  }
});

test('an unknown host -> OSError with code ENOTFOUND', async () => {
  const host = 'selectloop-no-such-host.invalid';
  // Resolution is synchronous here; probe it in a child first so a slow resolver cannot hang us.
  try {
    await runNode(
      `require('dns').lookup(process.argv[1], (err) => process.exit(err ? 0 : 1))`,
      [host],
      5_000,
    );
  } catch {
    console.log('  (skipped: resolving a .invalid name did not fail within 5 s)');
    return;
  }
  for (const op of ['connect', 'bind', 'sendto'] as const) {
    const s = new Socket(AF_INET, op === 'sendto' ? SOCK_DGRAM : SOCK_STREAM);
    try {
      const started = Date.now();
      let err: unknown;
      try {
        if (op === 'sendto') s.sendto('x', [host, 9]);
        else s[op]([host, 80]);
      } catch (e) {
        err = e;
      }
      assert.instance(err, OSError, `${op} with an unknown host`);
      assert.is((err as OSError).code, 'ENOTFOUND');
      assert.is((err as OSError).syscall, 'getaddrinfo');
      assert.ok((err as Error).message.includes(host));
      assert.ok(Date.now() - started < 5_000);
    } finally {
      s.close();
    }
  }
});

test('AF_UNIX SOCK_DGRAM: sendto / recvfrom with path addresses', () => {
  const pa = unixPath();
  const pb = unixPath();
  const a = new Socket(AF_UNIX, SOCK_DGRAM);
  const b = new Socket(AF_UNIX, SOCK_DGRAM);
  try {
    a.bind(pa);
    b.bind(pb);
    assert.is(b.sendto('hi', pa), 2);
    const [data, from] = a.recvfrom(10);
    assert.is(data.toString(), 'hi');
    assert.is(from, pb);
  } finally {
    a.close();
    b.close();
    rm(pa);
    rm(pb);
  }
});

test('no fd leaks across the suite', async () => {
  await sleep(50);
  if (fdsBefore < 0) return; // not Linux
  assert.is(openFdCount(), fdsBefore);
});

test.run();
