// TLS transports end to end (createServer/createConnection with `tls`, startTls), with a CA and
// certificates made for the test by the openssl CLI: trusted, untrusted, wrong servername, ALPN,
// client certificates, 4 MiB byte-exact both ways, an upgrade in place, abort during the
// handshake, and the attach requirement. Every test ends with nothing registered or open.
import * as assert from 'uvu/assert';
import * as nodeTls from 'node:tls';
import * as net from 'node:net';
import { Reactor } from '../src/loop/index.js';
import '../src/transports/index.js';
import { TlsTransport, ValueError, type Protocol, type Transport } from '../src/transports/index.js';
import { openFdCount, withTimeout } from './helpers/index.js';
import { makeTestCerts, NO_OPENSSL_MESSAGE } from './helpers/tls-certs.js';
import { tlsSuite, code, Recorder, FlowEcho, patternBytes, waitFor } from './helpers/tls.js';

const certs = makeTestCerts();

const t = tlsSuite('tls', certs);

if (certs === null) {
  console.log(NO_OPENSSL_MESSAGE);
} else {
  const c = certs;
  const serverTls = { key: c.serverKey, cert: c.serverCert };

  t('trusted: handshake, ALPN, extra info, echo, close_notify both ways; call order exact', async ({ reactor }) => {
    const serverSide = new Recorder();
    const server = reactor.createServer(() => {
      const p = new Recorder();
      p.dataReceived = (d) => {
        Recorder.prototype.dataReceived.call(p, d);
        p.transport!.write(d);
      };
      Object.assign(serverSide, { ref: p });
      return p;
    }, { tls: { ...serverTls, ALPNProtocols: ['b', 'a'] } });
    const port = (server.address() as [string, number])[1];
    const client = new Recorder();
    const transport = reactor.createConnection(() => client, { host: '127.0.0.1', port }, { tls: { ca: c.ca, servername: 'localhost', ALPNProtocols: ['a', 'b'] } });
    assert.ok(transport instanceof TlsTransport);
    transport.write('written before the handshake|');
    await client.until(() => client.events.includes('made'), 'connectionMade');
    // The fast path (ciphertext straight to Node's TLS engine handle) must not be lost silently
    // on a new Node; tls-duplex-path.test.ts runs this file again over the Duplex alone.
    assert.is(transport.usesWire, TlsTransport.useWire, 'the wire path');
    assert.is(transport.usesEngineHandle, !TlsTransport.useWire && TlsTransport.useEngineHandle, 'the engine handle path');
    assert.is(client.transport, transport);
    assert.is(transport.getExtraInfo('alpnProtocol'), 'b');
    assert.is(transport.getExtraInfo('tlsProtocol'), 'TLSv1.3');
    assert.is((transport.getExtraInfo('peercert') as { subject: { CN: string } }).subject.CN, 'localhost');
    assert.type((transport.getExtraInfo('cipher') as { name: string }).name, 'string');
    assert.equal(transport.getExtraInfo('peername'), ['127.0.0.1', port]);
    assert.is(transport.getExtraInfo('nothing', 'dflt'), 'dflt');
    assert.is(transport.canWriteEof(), false);
    transport.write('after');
    const expected = 'written before the handshake|after';
    await client.until(() => client.bytes === expected.length, 'the echo');
    assert.is(client.received.toString(), expected);
    transport.close();
    assert.is(transport.isClosing(), true);
    await client.lost();
    assert.equal(client.events, ['made', 'data', 'lost']);
    assert.is(client.lostError, null);
    const peer = (serverSide as unknown as { ref: Recorder }).ref;
    await peer.lost();
    // The server read our close_notify: its EOF, then its own close.
    assert.equal(peer.events, ['made', 'data', 'eof', 'lost']);
    assert.is(peer.lostError, null);
    server.close();
  });

  t('untrusted: a self-signed server certificate fails with DEPTH_ZERO_SELF_SIGNED_CERT, no connectionMade', async ({ reactor }) => {
    const server = reactor.createServer(() => new FlowEcho(), { tls: { key: c.selfSignedKey, cert: c.selfSignedCert } });
    const port = (server.address() as [string, number])[1];
    const client = new Recorder();
    reactor.createConnection(() => client, { host: '127.0.0.1', port }, { tls: { servername: 'localhost' } });
    await client.lost();
    assert.equal(client.events, ['lost']);
    assert.is(code(client.lostError), 'DEPTH_ZERO_SELF_SIGNED_CERT');
    await waitFor(() => server.connections === 0, 'the server side to close');
    server.close();
  });

  t('untrusted: a certificate from an unknown CA fails with UNABLE_TO_VERIFY_LEAF_SIGNATURE', async ({ reactor }) => {
    const server = reactor.createServer(() => new FlowEcho(), { tls: serverTls });
    const port = (server.address() as [string, number])[1];
    const client = new Recorder();
    reactor.createConnection(() => client, { host: '127.0.0.1', port }, { tls: {} });
    await client.lost();
    assert.equal(client.events, ['lost']);
    assert.is(code(client.lostError), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    await waitFor(() => server.connections === 0, 'the server side to close');
    server.close();
  });

  t('wrong servername fails with ERR_TLS_CERT_ALTNAME_INVALID; rejectUnauthorized: false accepts it', async ({ reactor }) => {
    const server = reactor.createServer(() => new FlowEcho(), { tls: serverTls });
    const port = (server.address() as [string, number])[1];
    const wrong = new Recorder();
    reactor.createConnection(() => wrong, { host: '127.0.0.1', port }, { tls: { ca: c.ca, servername: 'example.org' } });
    await wrong.lost();
    assert.equal(wrong.events, ['lost']);
    assert.is(code(wrong.lostError), 'ERR_TLS_CERT_ALTNAME_INVALID');
    const lax = new Recorder();
    const transport = reactor.createConnection(() => lax, { host: '127.0.0.1', port }, { tls: { servername: 'example.org', rejectUnauthorized: false } });
    await lax.until(() => lax.events.includes('made'), 'connectionMade');
    transport.write('x');
    await lax.until(() => lax.bytes === 1, 'the echo');
    transport.close();
    await lax.lost();
    assert.equal(lax.events, ['made', 'data', 'lost']);
    await waitFor(() => server.connections === 0, 'the server side to close');
    server.close();
  });

  t('the host is the name checked when no servername is given: 127.0.0.1 is in the certificate', async ({ reactor }) => {
    const server = reactor.createServer(() => new FlowEcho(), { tls: serverTls });
    const port = (server.address() as [string, number])[1];
    const client = new Recorder();
    const transport = reactor.createConnection(() => client, { host: '127.0.0.1', port }, { tls: { ca: c.ca } });
    await client.until(() => client.events.includes('made'), 'connectionMade');
    transport.close();
    await client.lost();
    assert.is(client.lostError, null);
    await waitFor(() => server.connections === 0, 'the server side to close');
    server.close();
  });

  t('ALPN: no common protocol fails the handshake with the alert code; none offered gives no alpnProtocol', async ({ reactor }) => {
    const server = reactor.createServer(() => new FlowEcho(), { tls: { ...serverTls, ALPNProtocols: ['h2'] } });
    const port = (server.address() as [string, number])[1];
    const client = new Recorder();
    reactor.createConnection(() => client, { host: '127.0.0.1', port }, { tls: { ca: c.ca, ALPNProtocols: ['http/1.1'] } });
    await client.lost();
    assert.equal(client.events, ['lost']);
    assert.is(code(client.lostError), 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
    const plain = new Recorder();
    const transport = reactor.createConnection(() => plain, { host: '127.0.0.1', port }, { tls: { ca: c.ca } });
    await plain.until(() => plain.events.includes('made'), 'connectionMade');
    assert.is(transport.getExtraInfo('alpnProtocol'), undefined);
    assert.is(transport.getExtraInfo('alpnProtocol', null), null);
    transport.close();
    await plain.lost();
    await waitFor(() => server.connections === 0, 'the server sides to close');
    server.close();
  });

  t('client certificates: verified with requestCert; missing or untrusted ones are refused', async ({ reactor }) => {
    let serverPeer: Transport | null = null;
    const server = reactor.createServer(
      () => {
        const p = new FlowEcho();
        p.connectionMade = (tr) => {
          p.transport = tr;
          serverPeer = tr;
        };
        return p;
      },
      { tls: { ...serverTls, ca: c.ca, requestCert: true } },
    );
    const port = (server.address() as [string, number])[1];
    const good = new Recorder();
    const transport = reactor.createConnection(() => good, { host: '127.0.0.1', port }, { tls: { ca: c.ca, key: c.clientKey, cert: c.clientCert } });
    await good.until(() => good.events.includes('made'), 'connectionMade');
    transport.write('hi');
    await good.until(() => good.bytes === 2, 'the echo');
    assert.is((serverPeer!.getExtraInfo('peercert') as { subject: { CN: string } }).subject.CN, 'test client');
    transport.close();
    await good.lost();
    assert.is(good.lostError, null);
    // No certificate: OpenSSL refuses it in the handshake (TLS 1.3 reports it after the client's Finished).
    const none = new Recorder();
    reactor.createConnection(() => none, { host: '127.0.0.1', port }, { tls: { ca: c.ca } });
    await none.lost();
    assert.ok(none.lostError !== null, 'a client without a certificate is refused');
    // An untrusted certificate: the server refuses it after checking the chain.
    const bad = new Recorder();
    reactor.createConnection(() => bad, { host: '127.0.0.1', port }, { tls: { ca: c.ca, key: c.selfSignedKey, cert: c.selfSignedCert } });
    await bad.lost();
    assert.ok(bad.lostError !== null, 'an untrusted client certificate is refused');
    await waitFor(() => server.connections === 0, 'the server sides to close');
    server.close();
  });

  t('4 MiB byte-exact both ways, selectloop client and server, with flow control', async ({ reactor }) => {
    const server = reactor.createServer(() => new FlowEcho(), { tls: serverTls });
    const port = (server.address() as [string, number])[1];
    const payload = patternBytes(4 * 1024 * 1024, 11);
    const client = new Recorder();
    let sent = 0;
    let paused = false;
    const pump = (): void => {
      while (!paused && sent < payload.length) {
        const n = Math.min(100_003, payload.length - sent);
        client.transport!.write(payload.subarray(sent, sent + n));
        sent += n;
      }
    };
    client.pauseWriting = () => void (paused = true);
    client.resumeWriting = () => {
      paused = false;
      pump();
    };
    const made = client.connectionMade.bind(client);
    client.connectionMade = (tr) => {
      made(tr);
      pump();
    };
    const transport = reactor.createConnection(() => client, { host: '127.0.0.1', port }, { tls: { ca: c.ca } });
    await client.until(() => client.bytes >= payload.length, '4 MiB echoed', 60_000);
    assert.ok(client.received.equals(payload), 'the echo is byte-exact');
    // Over the wire the engine writes to its own libuv handle; else at most one write in flight into the raw transport.
    assert.is((transport as TlsTransport).maxWritesInFlight, (transport as TlsTransport).usesWire ? 0 : 1, 'writes in flight into the raw transport');
    transport.close();
    await client.lost();
    assert.is(client.lostError, null);
    await waitFor(() => server.connections === 0, 'the server side to close');
    server.close();
  });

  t('4 MiB byte-exact both ways against node:tls (our client to its server, its client to our server)', async ({ reactor }) => {
    const payload = patternBytes(4 * 1024 * 1024, 5);
    // Our server, Node's client.
    const server = reactor.createServer(() => new FlowEcho(), { tls: serverTls });
    const port = (server.address() as [string, number])[1];
    const got: Buffer[] = [];
    let gotBytes = 0;
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        const s = nodeTls.connect({ port, host: '127.0.0.1', ca: c.ca, servername: 'localhost' }, () => s.end(payload));
        s.on('data', (d: Buffer) => {
          got.push(d);
          gotBytes += d.length;
        });
        s.on('error', reject);
        s.on('close', () => resolve());
      }),
      60_000,
      'node client echo',
    );
    assert.is(gotBytes, payload.length);
    assert.ok(Buffer.concat(got).equals(payload));
    await waitFor(() => server.connections === 0, 'the server side to close');
    server.close();
    // Node's server, our client.
    const nodeServer = nodeTls.createServer({ key: c.serverKey, cert: c.serverCert }, (s) => s.pipe(s));
    await new Promise<void>((r) => nodeServer.listen(0, '127.0.0.1', () => r()));
    const client = new Recorder();
    const transport = reactor.createConnection(() => client, { host: '127.0.0.1', port: (nodeServer.address() as net.AddressInfo).port }, { tls: { ca: c.ca } });
    transport.write(payload);
    await client.until(() => client.bytes >= payload.length, '4 MiB echoed by node:tls', 60_000);
    assert.ok(client.received.equals(payload));
    transport.close();
    await client.lost();
    assert.is(client.lostError, null);
    await new Promise<void>((r) => nodeServer.close(() => r()));
  });

  t('startTls: a plaintext line protocol upgrades both ends in place (STARTTLS), then echoes', async ({ reactor }) => {
    const upgraded: { server?: Recorder } = {};
    const server = reactor.createServer(() => {
      const p: Protocol & { t?: Transport } = {
        connectionMade(tr) {
          p.t = tr;
        },
        dataReceived(d) {
          assert.is(d.toString(), 'STARTTLS\n');
          p.t!.write('OK\n');
          const inner = new Recorder();
          inner.dataReceived = (x) => {
            Recorder.prototype.dataReceived.call(inner, x);
            inner.transport!.write(x);
          };
          upgraded.server = inner;
          void reactor.startTls(p.t!, inner, { server: true, ...serverTls }).then((tt) => (inner.transport = tt));
        },
      };
      return p;
    }, {});
    const port = (server.address() as [string, number])[1];
    const inner = new Recorder();
    let tlsTransport = null as TlsTransport | null;
    const outer: Protocol & { t?: Transport } = {
      connectionMade(tr) {
        outer.t = tr;
        tr.write('STARTTLS\n');
      },
      dataReceived(d) {
        assert.is(d.toString(), 'OK\n');
        void reactor.startTls(outer.t!, inner, { ca: c.ca, servername: 'localhost' }).then((tt) => {
          tlsTransport = tt;
          inner.transport = tt;
          tt.write('secret');
        });
      },
      connectionLost() {
        throw new Error('the plaintext protocol must not hear of the TLS connection');
      },
    };
    const plain = reactor.createConnection(() => outer, { host: '127.0.0.1', port });
    await inner.until(() => inner.bytes === 6, 'the echo over TLS');
    assert.is(inner.received.toString(), 'secret');
    assert.ok(tlsTransport !== null);
    assert.is(tlsTransport!.getExtraInfo('tlsProtocol'), 'TLSv1.3');
    assert.is(plain.getProtocol(), (tlsTransport as unknown as { rawProtocol: unknown }).rawProtocol);
    tlsTransport!.close();
    await inner.lost();
    assert.equal(inner.events, ['data', 'lost'], 'startTls calls no connectionMade (asyncio)');
    await upgraded.server!.lost();
    assert.equal(upgraded.server!.events, ['data', 'eof', 'lost']);
    server.close();
  });

  t('abort during the handshake: connectionLost(null) once, no connectionMade, fd closed', async ({ reactor }) => {
    // A TCP server that accepts and never speaks: the handshake cannot finish.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => void sockets.add(s.on('error', () => {})));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    const first = new Recorder();
    const early = reactor.createConnection(() => first, { host: '127.0.0.1', port }, { tls: { ca: c.ca } });
    early.abort(); // before the TCP connect completed
    await first.lost();
    assert.equal(first.events, ['lost']);
    assert.is(first.lostError, null);
    const second = new Recorder();
    const later = reactor.createConnection(() => second, { host: '127.0.0.1', port }, { tls: { ca: c.ca } }) as TlsTransport;
    await waitFor(() => later.state === 'DO_HANDSHAKE' && sockets.size > 0, 'the handshake to start');
    later.abort();
    await second.lost();
    assert.equal(second.events, ['lost']);
    assert.is(second.lostError, null);
    assert.is(later.fileno(), -1);
    // The server side of the handshake, aborted by the peer: a RST before any ClientHello.
    const victim = new Recorder();
    const server = reactor.createServer(() => victim, { tls: serverTls });
    const raw = net.connect((server.address() as [string, number])[1], '127.0.0.1');
    await new Promise<void>((r) => raw.once('connect', () => r()));
    await waitFor(() => server.connections === 1, 'the accept');
    raw.resetAndDestroy();
    await victim.lost();
    assert.equal(victim.events, ['lost']);
    assert.is(code(victim.lostError), 'ECONNRESET');
    server.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  });

  t('handshake timeout: a peer that never answers fails with ERR_TLS_HANDSHAKE_TIMEOUT', async ({ reactor }) => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => void sockets.add(s.on('error', () => {})));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const client = new Recorder();
    reactor.createConnection(() => client, { host: '127.0.0.1', port: (silent.address() as net.AddressInfo).port }, { tls: { ca: c.ca, handshakeTimeout: 100 } });
    await client.lost();
    assert.equal(client.events, ['lost']);
    assert.is(code(client.lostError), 'ERR_TLS_HANDSHAKE_TIMEOUT');
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  });

  t('streams: startServer and openConnection with tls (the options forwarded to createServer/createConnection)', async ({ reactor }) => {
    const server = reactor.startServer(
      async (reader, writer) => {
        for await (const line of reader) {
          writer.write(line);
          await writer.drain();
        }
        writer.close();
      },
      { port: 0, tls: serverTls },
    );
    const [reader, writer] = await reactor.openConnection({ host: '127.0.0.1', port: (server.address() as [string, number])[1] }, { tls: { ca: c.ca } });
    assert.is(writer.getExtraInfo('tlsProtocol'), 'TLSv1.3');
    writer.write('over tls\n');
    assert.is((await withTimeout(reader.readLine(), 10_000, 'the echoed line')).toString(), 'over tls\n');
    writer.close();
    await withTimeout(writer.waitClosed(), 10_000, 'waitClosed');
    await waitFor(() => server.connections === 0, 'the server side to close');
    server.close();
  });

  t('closing the server side: close() sends close_notify after the buffered data; the peer reads it all', async ({ reactor }) => {
    const payload = patternBytes(1024 * 1024, 3);
    const server = reactor.createServer(() => ({ connectionMade: (tr: Transport) => (tr.write(payload), tr.close()) }), { tls: serverTls });
    const port = (server.address() as [string, number])[1];
    const got: Buffer[] = [];
    let ended = false;
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        const s = nodeTls.connect({ port, host: '127.0.0.1', ca: c.ca, servername: 'localhost' });
        s.on('data', (d: Buffer) => got.push(d));
        s.on('end', () => (ended = true));
        s.on('error', reject);
        s.on('close', () => resolve());
      }),
      20_000,
      'node client read',
    );
    assert.ok(ended, "the peer saw a clean end (our close_notify)");
    assert.ok(Buffer.concat(got).equals(payload));
    await waitFor(() => server.connections === 0, 'the server side to close');
    server.close();
  });

  t('setWriteBufferLimits({ max }): a protocol that ignores pauseWriting fails with ERR_WRITE_BUFFER_FULL, not reported', async ({ reactor }) => {
    const reported: unknown[] = [];
    reactor.setExceptionHandler((_r, ctx) => reported.push(ctx.exception));
    let serverSide: Recorder | null = null;
    const server = reactor.createServer(() => {
      const p = (serverSide = new Recorder());
      p.connectionMade = (tr) => {
        Recorder.prototype.connectionMade.call(p, tr);
        tr.pauseReading(); // a peer that does not read (until the end)
      };
      return p;
    }, { tls: serverTls });
    const port = (server.address() as [string, number])[1];
    const client = new Recorder();
    const transport = reactor.createConnection(() => client, { host: '127.0.0.1', port }, { tls: { ca: c.ca, servername: 'localhost' } });
    assert.equal(transport.getWriteBufferLimits(), { high: 65536, low: 16384, max: Infinity });
    assert.throws(() => transport.setWriteBufferLimits({ high: 1 << 20, max: 1000 }), (e: unknown) => e instanceof ValueError);
    transport.setWriteBufferLimits({ max: 8 << 20 });
    assert.equal(transport.getWriteBufferLimits(), { high: 65536, low: 16384, max: 8 << 20 });
    await client.until(() => client.events.includes('made'), 'connectionMade');
    const chunk = Buffer.alloc(1 << 20, 0x41);
    let writes = 0;
    // One write per turn of the loop, so the peer reads what it will before it stops.
    while (!transport.isClosing() && writes < 64) {
      transport.write(chunk); // pauseWriting ignored
      writes++;
      await new Promise((r) => setImmediate(r));
    }
    assert.throws(() => transport.write('x'), (e: unknown) => code(e) === 'ERR_TRANSPORT_CLOSED');
    await client.lost();
    assert.ok(writes > 8 && writes < 64, `failed after ${writes} MiB`);
    assert.equal(client.events, ['made', 'lost']);
    assert.is(code(client.lostError), 'ERR_WRITE_BUFFER_FULL');
    assert.equal(reported, [], 'a slow peer is not reported');
    // A paused transport does not watch its socket (as asyncio): the peer's reset is seen on resume.
    serverSide!.transport!.resumeReading();
    await serverSide!.lost();
    assert.ok(serverSide!.bytes > 0 && serverSide!.bytes < writes << 20, `the peer read ${serverSide!.bytes} bytes`);
    assert.ok(serverSide!.received.every((b) => b === 0x41), 'what arrived is intact');
    await waitFor(() => server.connections === 0, 'the server side to close');
    server.close();
  });
}

t('ERR_TLS_NEEDS_ATTACH at once when the reactor is not attached; nothing is opened', () => {
  const reactor = new Reactor();
  const fds = openFdCount();
  try {
    const expectNeedsAttach = (fn: () => unknown): void => {
      try {
        fn();
      } catch (err) {
        assert.is(code(err), 'ERR_TLS_NEEDS_ATTACH');
        assert.match((err as Error).message, /attach\(\)/);
        assert.match((err as Error).message, /Reactor\.run/);
        return;
      }
      assert.unreachable('no ERR_TLS_NEEDS_ATTACH');
    };
    let made = 0;
    const factory = () => ((made++, {}) as Protocol);
    expectNeedsAttach(() => reactor.createServer(factory, { tls: { key: 'k', cert: 'c' } }));
    expectNeedsAttach(() => reactor.createConnection(factory, { host: '127.0.0.1', port: 9 }, { tls: {} }));
    assert.is(made, 0, 'no protocol made');
    assert.is(openFdCount(), fds);
  } finally {
    reactor.close();
  }
});

t('bad tls options throw synchronously and leave no fd open', ({ reactor, fds }) => {
  assert.throws(() => reactor.createServer(() => ({}), { tls: {} }), (e: unknown) => e instanceof ValueError && /key and cert/.test((e as Error).message));
  assert.throws(() => reactor.createServer(() => ({}), { tls: { key: 'not a key', cert: 'not a cert' } }));
  assert.throws(() => reactor.createServer(() => ({}), { tls: null as never }), (e: unknown) => e instanceof TypeError);
  assert.throws(() => reactor.createConnection(() => ({}), { host: '127.0.0.1', port: 9 }, { tls: { handshakeTimeout: -1 } }), (e: unknown) => e instanceof ValueError);
  assert.throws(() => reactor.createConnection(() => ({}), { host: '127.0.0.1', port: 9 }, { tls: { servername: 5 as never } }), (e: unknown) => e instanceof TypeError);
  assert.is(openFdCount(), fds);
});

t.run();
