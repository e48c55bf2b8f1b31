// TLS: the bugs other stacks shipped (LESSONS-v2.md, section c), each a test. The peers are
// node:tls sockets in this process, some over a relay Duplex that lets the test prepend bytes to
// the first flight or send a TCP FIN without close_notify.
import * as assert from 'uvu/assert';
import * as nodeTls from 'node:tls';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import '../src/transports/index.js';
import { TlsTransport, type BufferedProtocol, type Protocol, type Transport } from '../src/transports/index.js';
import { withTimeout } from './helpers/index.js';
import { makeTestCerts, NO_OPENSSL_MESSAGE } from './helpers/tls-certs.js';
import { tlsSuite, code, Recorder, patternBytes, waitFor } from './helpers/tls.js';

const certs = makeTestCerts();

const t = tlsSuite('tls-lessons', certs);

/** A Duplex over a TCP socket for a node:tls client: can prepend bytes to the first write, and end TCP behind TLS's back. */
class Relay extends Duplex {
  constructor(
    readonly sock: net.Socket,
    private prefix: Buffer | null = null,
  ) {
    super();
    sock.on('data', (d: Buffer) => {
      if (!this.push(d)) sock.pause();
    });
    sock.on('end', () => this.push(null));
    sock.on('error', (err) => this.destroy(err));
  }
  override _read(): void {
    this.sock.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const data = this.prefix !== null ? Buffer.concat([this.prefix, chunk]) : chunk;
    this.prefix = null;
    this.sock.write(data, cb);
  }
  override _final(cb: () => void): void {
    this.sock.end();
    cb();
  }
  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.sock.destroy();
    cb(err);
  }
}

function connectRaw(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** The client finishes its handshake over the upgraded connection and gets 'over tls' echoed. */
async function assertEchoAfterUpgrade(client: nodeTls.TLSSocket): Promise<void> {
  client.on('error', () => {});
  const echoed = await withTimeout(
    new Promise<string>((resolve) => {
      client.once('secureConnect', () => client.write('over tls'));
      client.once('data', (d: Buffer) => resolve(d.toString()));
    }),
    10_000,
    'the echo after the upgrade',
  );
  assert.is(echoed, 'over tls');
}

function closed(s: net.Socket | nodeTls.TLSSocket): Promise<void> {
  return s.destroyed ? Promise.resolve() : new Promise((r) => s.once('close', () => r()));
}

function rawOf(tr: Transport): Transport {
  return (tr as unknown as { raw: Transport }).raw;
}

if (certs === null) {
  console.log(NO_OPENSSL_MESSAGE);
} else {
  const c = certs;
  const serverTls = { key: c.serverKey, cert: c.serverCert };
  const clientOpts = { ca: c.ca, servername: 'localhost' };

  t('a ClientHello already waiting when the connection is accepted is not lost (bpo-33674)', async ({ reactor }) => {
    const server = reactor.createServer(() => {
      const p: Protocol & { tr?: Transport } = { connectionMade: (tr) => void (p.tr = tr), dataReceived: (d) => p.tr!.write(d) };
      return p;
    }, { tls: serverTls });
    const port = (server.address() as [string, number])[1];
    reactor.detach(); // nothing is accepted or read until attach()
    const sock = await connectRaw(port);
    let helloSent = false;
    const relay = new Relay(sock);
    const origWrite = relay._write.bind(relay);
    relay._write = (chunk, enc, cb) => origWrite(chunk, enc, (err) => ((helloSent = true), cb(err)));
    const client = nodeTls.connect({ ...clientOpts, socket: relay });
    client.on('error', () => {});
    await waitFor(() => helloSent, 'the ClientHello to be sent');
    reactor.attach(); // accept, connectionMade and the first read, with the ClientHello already there
    const echoed = await withTimeout(
      new Promise<string>((resolve) => {
        client.once('secureConnect', () => client.write('ping'));
        client.once('data', (d: Buffer) => resolve(d.toString()));
      }),
      10_000,
      'the echo',
    );
    assert.is(echoed, 'ping');
    client.end();
    await closed(client);
    await waitFor(() => server.connections === 0, 'the server side to close');
    server.close();
  });

  t('startTls with read-ahead: a plaintext prefix and the ClientHello in one write (cpython#142352)', async ({ reactor }) => {
    let sameRead = false;
    let upgraded: Recorder | null = null;
    const server = reactor.createServer(() => {
      const p: Protocol & { tr?: Transport } = {
        connectionMade: (tr) => void (p.tr = tr),
        dataReceived(d) {
          const nl = d.indexOf(10);
          assert.is(d.subarray(0, nl + 1).toString(), 'STARTTLS\n');
          sameRead = d.length > nl + 1;
          const inner = new Recorder();
          inner.dataReceived = (x) => {
            Recorder.prototype.dataReceived.call(inner, x);
            inner.transport!.write(x);
          };
          upgraded = inner;
          void reactor.startTls(p.tr!, inner, { server: true, ...serverTls, readAhead: d.subarray(nl + 1) }).then((tt) => (inner.transport = tt));
        },
      };
      return p;
    }, {});
    const port = (server.address() as [string, number])[1];
    const sock = await connectRaw(port);
    const client = nodeTls.connect({ ...clientOpts, socket: new Relay(sock, Buffer.from('STARTTLS\n')) });
    await assertEchoAfterUpgrade(client);
    assert.ok(sameRead, 'the prefix and the ClientHello arrived in one read');
    client.end();
    await closed(client);
    await upgraded!.lost();
    assert.equal(upgraded!.events, ['data', 'eof', 'lost']);
    server.close();
  });

  t('startTls on a transport still holding 8 MiB to send, paused for writing (cpython#109051): the plaintext leaves first, then TLS', async ({ reactor }) => {
    const plaintext = patternBytes(8 * 1024 * 1024, 5);
    const inner = new Recorder();
    inner.dataReceived = (x) => {
      Recorder.prototype.dataReceived.call(inner, x);
      inner.transport!.write(x);
    };
    const tlsProtocolCalls: string[] = [];
    inner.pauseWriting = () => void tlsProtocolCalls.push('pause');
    inner.resumeWriting = () => void tlsProtocolCalls.push('resume');
    let upgraded: TlsTransport | null = null;
    let bufferedAtUpgrade = 0;
    const plainCalls: string[] = [];
    const server = reactor.createServer(() => {
      const p: Protocol = {
        connectionMade: (tr) => {
          tr.write(plaintext);
          bufferedAtUpgrade = tr.getWriteBufferSize();
          void reactor.startTls(tr, inner, { server: true, ...serverTls }).then((tt) => {
            upgraded = tt;
            inner.transport = tt;
          });
        },
        pauseWriting: () => void plainCalls.push('pause'),
        resumeWriting: () => void plainCalls.push('resume'),
      };
      return p;
    }, {});
    const sock = await connectRaw((server.address() as [string, number])[1]);
    const got: Buffer[] = [];
    let gotBytes = 0;
    await withTimeout(
      new Promise<void>((resolve) => {
        sock.on('data', (d: Buffer) => {
          got.push(d);
          gotBytes += d.length;
          if (gotBytes >= plaintext.length) resolve();
        });
      }),
      20_000,
      'the plaintext',
    );
    sock.removeAllListeners('data');
    sock.pause();
    assert.is(gotBytes, plaintext.length, 'nothing but the plaintext before the client speaks TLS');
    assert.ok(Buffer.concat(got).equals(plaintext), 'the plaintext byte-exact, ahead of any TLS record');
    assert.ok(bufferedAtUpgrade > 64 * 1024, `the raw transport held ${bufferedAtUpgrade} bytes (above high-water) at startTls`);
    assert.equal(plainCalls, ['pause'], 'the plaintext protocol was paused, and is not resumed after it handed over');
    const client = nodeTls.connect({ ...clientOpts, socket: sock });
    await assertEchoAfterUpgrade(client);
    assert.is(upgraded!.usesWire, false, 'bytes still to send: the engine writes through the raw transport, behind them');
    assert.ok(!tlsProtocolCalls.includes('resume') || tlsProtocolCalls[0] === 'pause', `no resumeWriting without pauseWriting: ${tlsProtocolCalls.join(',')}`);
    client.end();
    await closed(client);
    await inner.lost();
    server.close();
  });

  for (const how of ['FIN', 'RST', 'timeout'] as const) {
    t(`startTls: ${how} during the handshake rejects, closes the fd, and the protocol hears nothing`, async ({ reactor }) => {
      let outcome: Promise<TlsTransport> | null = null;
      let plain: Transport | null = null;
      const inner = new Recorder();
      const server = reactor.createServer(() => {
        const p: Protocol = {
          connectionMade: (tr) => void (plain = tr),
          dataReceived() {
            outcome = reactor.startTls(plain!, inner, { server: true, ...serverTls, handshakeTimeout: 150 });
            outcome.catch(() => {});
          },
        };
        return p;
      }, {});
      const sock = await connectRaw((server.address() as [string, number])[1]);
      sock.on('error', () => {});
      sock.write('STARTTLS\n');
      await waitFor(() => outcome !== null, 'startTls to be called');
      if (how === 'FIN') sock.end();
      else if (how === 'RST') sock.resetAndDestroy();
      const err = await withTimeout(outcome!.then(() => null, (e: unknown) => e), 10_000, 'the rejection');
      assert.is(code(err), how === 'timeout' ? 'ERR_TLS_HANDSHAKE_TIMEOUT' : 'ECONNRESET');
      assert.is(plain!.fileno(), -1, 'the fd is closed when the promise rejects');
      assert.equal(inner.events, [], 'the application protocol saw no callback');
      sock.destroy();
      await closed(sock);
      server.close();
    });
  }

  t('close() against a peer that never answers close_notify ends within shutdownTimeout; abort() is immediate', async ({ reactor }) => {
    const sides: Recorder[] = [];
    const server = reactor.createServer(() => {
      const p = new Recorder();
      sides.push(p);
      return p;
    }, { tls: { ...serverTls, shutdownTimeout: 200 } });
    const port = (server.address() as [string, number])[1];
    // allowHalfOpen: Node's client reads our close_notify and FIN and answers neither.
    const mute = nodeTls.connect({ ...clientOpts, port, host: '127.0.0.1', allowHalfOpen: true } as nodeTls.ConnectionOptions);
    mute.on('error', () => {});
    let peerEnded = false;
    mute.on('data', () => {});
    mute.on('end', () => (peerEnded = true));
    await waitFor(() => sides[0]?.events.includes('made') === true, 'the first connection');
    sides[0]!.transport!.write('bye');
    sides[0]!.transport!.close();
    await sides[0]!.lost();
    assert.is(sides[0]!.lostError, null, 'everything was sent: a clean close after the timeout');
    assert.ok(peerEnded, 'the peer got our close_notify');
    // abort(): no waiting at all, even with a long shutdown in progress.
    const server2 = reactor.createServer(() => {
      const p = new Recorder();
      sides.push(p);
      return p;
    }, { tls: { ...serverTls, shutdownTimeout: 60_000 } });
    const mute2 = nodeTls.connect({ ...clientOpts, port: (server2.address() as [string, number])[1], host: '127.0.0.1', allowHalfOpen: true } as nodeTls.ConnectionOptions);
    mute2.on('error', () => {});
    await waitFor(() => sides[1]?.events.includes('made') === true, 'the second connection');
    sides[1]!.transport!.close();
    sides[1]!.transport!.abort();
    await sides[1]!.lost(5000);
    assert.is(sides[1]!.lostError, null);
    mute.destroy();
    mute2.destroy();
    await Promise.all([closed(mute), closed(mute2)]);
    server.close();
    server2.close();
  });

  t('a TCP FIN without close_notify is reported as truncation, after the data that came before', async ({ reactor }) => {
    const side = new Recorder();
    const server = reactor.createServer(() => side, { tls: serverTls });
    const sock = await connectRaw((server.address() as [string, number])[1]);
    const relay = new Relay(sock);
    const client = nodeTls.connect({ ...clientOpts, socket: relay });
    client.on('error', () => {});
    await new Promise<void>((r) => client.once('secureConnect', () => r()));
    client.write('all of it');
    await side.until(() => side.bytes === 9, 'the data');
    sock.end(); // FIN under TLS's feet: no close_notify
    await side.lost();
    assert.equal(side.events, ['made', 'data', 'lost'], 'no eofReceived: this is not a clean EOF');
    assert.is(code(side.lostError), 'ERR_SSL_UNEXPECTED_EOF_WHILE_READING');
    assert.is(side.received.toString(), 'all of it');
    client.destroy();
    await closed(client);
    server.close();
  });

  t('canWriteEof() is false and writeEof() throws: TLS has no half-close', async ({ reactor }) => {
    const side = new Recorder();
    const server = reactor.createServer(() => side, { tls: serverTls });
    const client = nodeTls.connect({ ...clientOpts, port: (server.address() as [string, number])[1], host: '127.0.0.1' });
    client.on('error', () => {});
    await side.until(() => side.events.includes('made'), 'connectionMade');
    assert.is(side.transport!.canWriteEof(), false);
    assert.throws(() => side.transport!.writeEof(), /half-close/);
    side.transport!.close();
    await side.lost();
    client.destroy();
    await closed(client);
    server.close();
  });

  t('16 MiB written to a peer that does not read stays bounded by the water marks; then arrives byte-exact', async ({ reactor }) => {
    const HIGH = 256 * 1024;
    const CHUNK = 64 * 1024;
    const total = 16 * 1024 * 1024;
    const payload = patternBytes(total, 9);
    let tr: Transport | null = null;
    let written = 0;
    let paused = false;
    let maxBuffered = 0;
    let maxRaw = 0;
    let pauses = 0;
    const pump = (): void => {
      while (!paused && written < total) {
        tr!.write(payload.subarray(written, written + CHUNK));
        written += CHUNK;
        maxBuffered = Math.max(maxBuffered, tr!.getWriteBufferSize());
        maxRaw = Math.max(maxRaw, rawOf(tr!).getWriteBufferSize());
      }
      if (written === total) tr!.close();
    };
    const side = new Recorder();
    side.connectionMade = (x) => {
      tr = x;
      x.setWriteBufferLimits({ high: HIGH });
      pump();
    };
    side.pauseWriting = () => {
      paused = true;
      pauses++;
    };
    side.resumeWriting = () => {
      paused = false;
      pump();
    };
    const server = reactor.createServer(() => side, { tls: serverTls });
    const sock = await connectRaw((server.address() as [string, number])[1]);
    const client = nodeTls.connect({ ...clientOpts, socket: new Relay(sock) });
    client.on('error', () => {});
    client.pause(); // reads nothing until told
    // The kernel's buffers absorb some megabytes; then the writer stays paused.
    for (let last = -1; last !== written || !paused; ) {
      last = written;
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.ok(written < total, 'the peer not reading stops the writer');
    assert.ok(maxBuffered <= HIGH + 2 * CHUNK + 16 * 1024, `buffered ${maxBuffered} bytes: bounded by the high-water mark`);
    assert.ok(maxRaw <= 64 * 1024 + CHUNK + 16 * 1024, `raw transport buffered ${maxRaw} bytes`);
    const got: Buffer[] = [];
    let gotBytes = 0;
    client.on('data', (d: Buffer) => {
      got.push(d);
      gotBytes += d.length;
    });
    client.resume();
    await waitFor(() => gotBytes === total, '16 MiB at the peer', 60_000);
    assert.ok(Buffer.concat(got).equals(payload), 'byte-exact');
    assert.ok(pauses >= 1);
    assert.ok(maxBuffered <= HIGH + 2 * CHUNK + 16 * 1024, `buffered at most ${maxBuffered} bytes over the whole run`);
    assert.is((tr as unknown as TlsTransport).maxWritesInFlight, (tr as unknown as TlsTransport).usesWire ? 0 : 1);
    await side.lost(20_000);
    assert.is(side.lostError, null);
    client.destroy();
    await closed(client);
    server.close();
  });

  t('reading paused: TLS records still read below the limit, the raw socket paused above it; resume delivers everything', async ({ reactor }) => {
    const total = 4 * 1024 * 1024;
    const payload = patternBytes(total, 21);
    const side = new Recorder();
    side.connectionMade = (x) => {
      side.transport = x;
      x.pauseReading();
    };
    const server = reactor.createServer(() => side, { tls: serverTls });
    const client = nodeTls.connect({ ...clientOpts, port: (server.address() as [string, number])[1], host: '127.0.0.1' });
    client.on('error', () => {});
    await new Promise<void>((r) => client.once('secureConnect', () => r()));
    client.write(payload);
    const tr = () => side.transport as TlsTransport;
    const backlog = () => (tr() as unknown as { backlogBytes: number }).backlogBytes;
    // Still read while the backlog is small (a paused reader does not stop TLS), then held.
    await waitFor(() => side.transport !== null && !rawOf(tr()).isReading(), 'the raw transport to stop reading');
    assert.is(side.bytes, 0, 'nothing delivered while paused');
    assert.is(tr().isReading(), false);
    // The limit (256 KiB) plus at most what one read of the socket (a 256 KiB slab) decrypts to.
    assert.ok(backlog() >= 256 * 1024 && backlog() <= 512 * 1024, `backlog ${backlog()} bounded`);
    tr().resumeReading();
    await side.until(() => side.bytes === total, 'all 4 MiB after resume', 60_000);
    assert.ok(side.received.equals(payload));
    tr().close();
    await side.lost();
    client.destroy();
    await closed(client);
    server.close();
  });

  t('data already decrypted when reading was paused arrives on resume with no new traffic (envoy#13234)', async ({ reactor }) => {
    const message = patternBytes(100_000, 2);
    const side = new Recorder();
    side.dataReceived = (d) => {
      Recorder.prototype.dataReceived.call(side, d);
      side.transport!.pauseReading(); // after the first chunk of the message
    };
    const server = reactor.createServer(() => side, { tls: serverTls });
    const client = nodeTls.connect({ ...clientOpts, port: (server.address() as [string, number])[1], host: '127.0.0.1' });
    client.on('error', () => {});
    await new Promise<void>((r) => client.once('secureConnect', () => r()));
    client.write(message);
    const backlog = () => (side.transport as unknown as { backlogBytes: number }).backlogBytes;
    await waitFor(() => side.transport !== null && side.bytes + backlog() === message.length, 'the whole message decrypted');
    assert.ok(side.bytes < message.length, 'part of it waits');
    await new Promise((r) => setTimeout(r, 20)); // no traffic comes
    side.dataReceived = (d) => Recorder.prototype.dataReceived.call(side, d);
    side.transport!.resumeReading();
    await side.until(() => side.bytes === message.length, 'the rest after resume');
    assert.ok(side.received.equals(message));
    side.transport!.close();
    await side.lost();
    client.destroy();
    await closed(client);
    server.close();
  });

  t('client-initiated renegotiation is refused (TLS 1.2): the connection fails with ERR_TLS_RENEGOTIATION_DISABLED', async ({ reactor }) => {
    const side = new Recorder();
    const server = reactor.createServer(() => side, { tls: { ...serverTls, maxVersion: 'TLSv1.2' } });
    const client = nodeTls.connect({ ...clientOpts, port: (server.address() as [string, number])[1], host: '127.0.0.1' });
    client.on('error', () => {});
    client.resume();
    await new Promise<void>((r) => client.once('secureConnect', () => r()));
    assert.is(client.getProtocol(), 'TLSv1.2');
    await side.until(() => side.events.includes('made'), 'connectionMade');
    let handshakes = 0;
    (side.transport!.getExtraInfo('tlsSocket') as nodeTls.TLSSocket).on('secure', () => handshakes++);
    client.renegotiate({}, () => {});
    await side.lost();
    assert.equal(side.events, ['made', 'lost']);
    assert.is(code(side.lostError), 'ERR_TLS_RENEGOTIATION_DISABLED');
    assert.is(handshakes, 0, 'no second handshake completed');
    await closed(client);
    server.close();
  });

  t('isClosing() mirrors the raw transport underneath (cpython#118950)', async ({ reactor }) => {
    let plain: Transport | null = null;
    let upgrading: Promise<TlsTransport> | null = null;
    const inner = new Recorder();
    // Upgraded at once, before the first read: the ClientHello comes right after the connect.
    const server = reactor.createServer(() => ({ connectionMade: (tr: Transport) => void ((plain = tr), (upgrading = reactor.startTls(tr, inner, { server: true, ...serverTls }))) }), {});
    const client = nodeTls.connect({ ...clientOpts, port: (server.address() as [string, number])[1], host: '127.0.0.1' });
    client.on('error', () => {});
    await waitFor(() => upgrading !== null, 'the plain connection');
    const tlsTransport = await withTimeout(upgrading!, 10_000, 'the upgrade');
    assert.is(tlsTransport.isClosing(), false);
    plain!.abort();
    assert.is(tlsTransport.isClosing(), true, 'the raw transport is closing: so is the TLS one');
    await inner.lost();
    assert.equal(inner.events, ['lost']);
    client.destroy();
    await closed(client);
    server.close();
  });

  t('a BufferedProtocol over TLS gets the exact bytes in its own small buffer (cpython#156275)', async ({ reactor }) => {
    const payload = patternBytes(1024 * 1024, 33);
    const received = Buffer.alloc(payload.length);
    let at = 0;
    let lost: Error | null | undefined;
    const buf = new Uint8Array(1000);
    const proto: BufferedProtocol = {
      getBuffer: () => buf,
      bufferUpdated(n) {
        received.set(buf.subarray(0, n), at);
        at += n;
        buf.fill(0); // stale bytes must never be mistaken for new ones
      },
      connectionLost: (e) => void (lost = e),
    };
    const server = reactor.createServer(() => proto, { tls: serverTls });
    const client = nodeTls.connect({ ...clientOpts, port: (server.address() as [string, number])[1], host: '127.0.0.1' }, () => client.end(payload));
    client.on('error', () => {});
    await waitFor(() => lost !== undefined, 'the connection to end');
    assert.is(at, payload.length);
    assert.ok(received.equals(payload), 'the bytes, not just the count');
    assert.is(lost, null);
    await closed(client);
    server.close();
  });
}

t.run();
