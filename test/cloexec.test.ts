// Atomic close-on-exec (issue #13, point 1): the build compiles in accept4/pipe2/SOCK_CLOEXEC where
// the platform has them, so no fd exists even for an instant without FD_CLOEXEC, and accepted
// connections (Socket.accept, Reactor servers) come out close-on-exec and in the mode asked for.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { platform } from 'node:os';
import { Reactor } from '../src/loop/index.js';
import { native } from '../src/select/native.js';
import { Socket, AF_INET, SOCK_STREAM, type Transport } from '../src/transports/index.js';
import { runBounded } from './helpers/reactor.js';

const test = suite('cloexec');

test('native.features reports four booleans', () => {
  assert.equal(Object.keys(native.features).sort(), ['accept4', 'epollCloexec', 'pipe2', 'sockCloexec']);
  for (const [name, value] of Object.entries(native.features)) assert.type(value, 'boolean', name);
});

test('on Linux every atomic close-on-exec path is compiled in', () => {
  if (platform() !== 'linux') return;
  // Before the CMake checks defined _GNU_SOURCE, accept4 and pipe2 were "not found" on glibc.
  assert.equal(native.features, { accept4: true, pipe2: true, sockCloexec: true, epollCloexec: true });
});

test('Socket.accept() returns a close-on-exec, blocking socket', () => {
  const listener = new Socket(AF_INET, SOCK_STREAM);
  const client = new Socket(AF_INET, SOCK_STREAM);
  try {
    listener.bind(['127.0.0.1', 0]);
    listener.listen();
    client.connect(listener.getsockname());
    const [conn] = listener.accept();
    try {
      assert.is(native.getCloexec(conn.fileno()), 1);
      assert.is(native.getBlocking(conn.fileno()), 1);
      assert.is(conn.getBlocking(), true);
    } finally {
      conn.close();
    }
  } finally {
    client.close();
    listener.close();
  }
});

test('connections a Reactor server accepts are close-on-exec and non-blocking', () => {
  const reactor = new Reactor();
  const clients: Socket[] = [];
  try {
    const accepted: Transport[] = [];
    const server = reactor.createServer(() => ({}), { host: '127.0.0.1', port: 0 });
    server.on('connection', (t: Transport) => {
      accepted.push(t);
      if (accepted.length === 3) reactor.stop();
    });
    for (let i = 0; i < 3; i++) {
      const c = new Socket(AF_INET, SOCK_STREAM);
      clients.push(c);
      c.connect(server.address() as [string, number]);
    }
    assert.not.ok(runBounded(reactor), 'three connections accepted');
    for (const t of accepted) {
      const fd = (t.getExtraInfo('socket') as { fileno(): number }).fileno();
      assert.is(native.getCloexec(fd), 1, `accepted fd ${fd} close-on-exec`);
      assert.is(native.getBlocking(fd), 0, `accepted fd ${fd} non-blocking`);
      t.abort();
    }
    server.close();
  } finally {
    for (const c of clients) c.close();
    reactor.close();
  }
});

test('pipes and sockets from the addon are close-on-exec in both blocking modes', () => {
  const SC = native.socketConstants;
  for (const nonblocking of [false, true]) {
    const p = new Int32Array(2);
    assert.is(native.pipe(p, nonblocking), 0);
    const s = native.socket(SC.AF_INET!, SC.SOCK_DGRAM!, 0, nonblocking);
    assert.ok(s >= 0);
    for (const fd of [p[0]!, p[1]!, s]) {
      assert.is(native.getCloexec(fd), 1);
      assert.is(native.getBlocking(fd), nonblocking ? 0 : 1);
      native.close(fd);
    }
  }
});

test.run();
