// Server details: events, TCP_NODELAY on both ends, reusePort, and Ctrl-C on the protocol echo.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from 'node:net';
import { Reactor } from '../src/loop/index.js';
import { native } from '../src/select/native.js';
import { IPPROTO_TCP, TCP_NODELAY, SOL_SOCKET, SO_REUSEPORT, type Protocol, type Transport } from '../src/transports/index.js';
import { startExample } from './helpers/server.js';
import { withTimeout } from './helpers/index.js';
import { runBounded } from './helpers/reactor.js';

const test = suite('server');


function sockopt(fd: number, level: number, option: number): number {
  const out = new Int32Array(1);
  assert.is(native.getsockopt(fd, level, option, out), 0);
  return out[0]!;
}

test("emits 'connection' with the transport, sets TCP_NODELAY on both ends, emits 'close'", () => {
  const reactor = new Reactor();
  try {
    const server = reactor.createServer(() => ({}), { port: 0 });
    const events: string[] = [];
    let accepted: Transport | undefined;
    server.on('connection', (t: Transport) => {
      events.push('connection');
      accepted = t;
    });
    server.on('close', () => events.push('close'));
    const [, port] = server.address() as [string, number];
    let client: Transport | undefined;
    const clientProtocol: Protocol = {
      connectionMade(t) {
        client = t;
      },
    };
    reactor.createConnection(() => clientProtocol, { host: '127.0.0.1', port });
    // Until both ends are up (not a fixed 50 ms: under ASan on a loaded machine that is too short).
    const untilConnected = () => (accepted && client ? reactor.stop() : reactor.callLater(5, untilConnected));
    reactor.callLater(5, untilConnected);
    assert.not.ok(runBounded(reactor));
    assert.equal(events, ['connection']);
    assert.is(server.connections, 1);
    assert.is(sockopt(accepted!.fileno(), IPPROTO_TCP, TCP_NODELAY) !== 0, true);
    assert.is(sockopt(client!.fileno(), IPPROTO_TCP, TCP_NODELAY) !== 0, true);
    server.close();
    server.close();
    assert.equal(events, ['connection', 'close']);
    assert.ok(server.closed);
    client!.abort();
    accepted!.abort();
    reactor.callLater(20, () => reactor.stop());
    runBounded(reactor);
    assert.is(server.connections, 0);
  } finally {
    reactor.close();
  }
});

test('reusePort lets two servers (one per worker, say) listen on one port', () => {
  if (SO_REUSEPORT === undefined) return;
  const reactor = new Reactor();
  try {
    const a = reactor.createServer(() => ({}), { port: 0, reusePort: true });
    const [, port] = a.address() as [string, number];
    const b = reactor.createServer(() => ({}), { port, reusePort: true });
    assert.equal(b.address(), a.address());
    let err: unknown;
    try {
      reactor.createServer(() => ({}), { port });
    } catch (e) {
      err = e;
    }
    assert.is((err as { code?: string }).code, 'EADDRINUSE');
    a.close();
    b.close();
  } finally {
    reactor.close();
  }
});

for (const mode of ['blocking', 'attached'] as const) {
test(`SIGINT stops the protocol echo server (${mode}) cleanly: sockets closed, exit code 0`, async () => {
  const server = await startExample('examples/echo-protocol.js', mode === 'attached' ? ['0', '--attach'] : ['0']);
  try {
    const ended = await withTimeout(
      new Promise<string>((resolve, reject) => {
        const sock = connect(server.port, '127.0.0.1', () => {
          sock.write('before ctrl-c\n');
        });
        let got = '';
        sock.on('data', (d) => {
          got += d.toString();
          if (got === 'before ctrl-c\n') server.child.kill('SIGINT');
        });
        sock.on('end', () => resolve(got));
        sock.on('error', reject);
      }),
      10_000,
      'echo + SIGINT',
    );
    assert.is(ended, 'before ctrl-c\n');
    const code = await withTimeout(
      new Promise<number | null>((resolve) => {
        if (server.child.exitCode !== null) resolve(server.child.exitCode);
        else server.child.once('exit', (c) => resolve(c));
      }),
      10_000,
      'exit',
    );
    assert.is(code, 0);
    // connectionLost ran before exit: the connection was closed by the server, not by the kernel.
    assert.match(server.output(), /SIGINT: shutting down\nconnection closed/);
  } finally {
    await server.stop();
  }
});
}

test.run();
