// Property tests (fast-check): a server-side stream transport against a model. A raw peer socket
// sends in random chunks and half-closes; the protocol pauses and resumes reading and writes
// around the water marks; the transport half-closes, closes or aborts. The bytes each side
// receives and the order of protocol calls must be exactly what the model says.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Reactor, Socket, type Transport, type Protocol } from '../src/index.js';
import { SHUT_WR } from '../src/transports/constants.js';
import { isWouldBlock } from '../src/select/errors.js';
import { openFdCount } from './helpers/index.js';
import { propertyOptions } from './helpers/property.js';

type Op =
  | { op: 'peerSend'; n: number }
  | { op: 'peerRecv' }
  | { op: 'peerShutdown' }
  | { op: 'pauseReading' | 'resumeReading' | 'writeEof' | 'close' | 'abort' | 'spin' }
  | { op: 'write'; n: number }
  | { op: 'limits'; high: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('peerSend' as const), n: fc.integer({ min: 1, max: 40_000 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('peerRecv' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('peerShutdown' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('pauseReading' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('resumeReading' as const) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('write' as const), n: fc.integer({ min: 0, max: 90_000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('limits' as const), high: fc.integer({ min: 0, max: 100_000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('writeEof' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('close' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('abort' as const) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('spin' as const) }) },
);

/** Deterministic content: byte i of a stream is a function of i, so any loss or reordering shows. */
function streamBytes(start: number, n: number, salt: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = ((start + i) * 31 + salt) & 0xff;
  return b;
}
function checkStream(data: Buffer, start: number, salt: number, what: string): void {
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== (((start + i) * 31 + salt) & 0xff)) assert.unreachable(`${what}: wrong byte at ${start + i}`);
  }
}

class Model implements Protocol {
  calls: string[] = [];
  received = 0;
  readPaused = false;
  writePaused = false;
  transport!: Transport;
  keepOpenOnEof = true;
  connectionMade(t: Transport) {
    this.transport = t;
    this.calls.push('made');
  }
  dataReceived(d: Buffer) {
    assert.not.ok(this.readPaused, 'dataReceived while reading is paused');
    checkStream(d, this.received, 1, 'transport received');
    this.received += d.length;
    if (this.calls[this.calls.length - 1] !== 'data') this.calls.push('data');
  }
  eofReceived() {
    this.calls.push('eof');
    return this.keepOpenOnEof;
  }
  pauseWriting() {
    assert.not.ok(this.writePaused, 'pauseWriting twice');
    const { high } = this.transport.getWriteBufferLimits();
    assert.ok(this.transport.getWriteBufferSize() > high, 'pauseWriting at or below the high-water mark');
    this.writePaused = true;
    this.calls.push('pause');
  }
  resumeWriting() {
    assert.ok(this.writePaused, 'resumeWriting without pauseWriting');
    const { low } = this.transport.getWriteBufferLimits();
    assert.ok(this.transport.getWriteBufferSize() <= low, 'resumeWriting above the low-water mark');
    this.writePaused = false;
    this.calls.push('resume');
  }
  connectionLost(err: Error | null) {
    this.calls.push(err === null ? 'lost' : `lost ${(err as { code?: string }).code}`);
  }
}

function runTransportOps(reactor: Reactor, port: number, takeModel: () => Model | null, ops: Op[], keepOpenOnEof: boolean): void {
  const peer = new Socket();
  peer.connect(['127.0.0.1', port]);
  peer.setBlocking(false);
  let model: Model | null = null;
  for (let i = 0; i < 200 && (model = takeModel()) === null; i++) reactor.runOnce(5);
  assert.ok(model !== null, 'accepted');
  const m = model!;
  m.keepOpenOnEof = keepOpenOnEof;
  for (let i = 0; i < 200 && m.transport === undefined; i++) reactor.runOnce(5);
  const t = m.transport;
  let peerSent = 0;
  let peerShut = false;
  let peerGot = 0;
  let peerEof = false;
  let peerReset = false;
  let written = 0;
  let eofWritten = false;
  let closed: 'no' | 'close' | 'abort' = 'no';
  const peerRecv = () => {
    for (;;) {
      let chunk: Buffer;
      try {
        chunk = peer.recv(65536);
      } catch (err) {
        if (isWouldBlock((err as { errno?: number }).errno ?? 0) || (err as { code?: string }).code === 'EAGAIN') return;
        // A socket closed with unread input sends RST instead of FIN (TCP): after abort, or close()
        // before the peer's bytes were read.
        if ((err as { code?: string }).code === 'ECONNRESET') {
          peerReset = peerEof = true;
          return;
        }
        throw err;
      }
      if (chunk.length === 0) {
        peerEof = true;
        return;
      }
      assert.not.ok(peerEof, 'data after EOF');
      checkStream(chunk, peerGot, 2, 'peer received');
      peerGot += chunk.length;
    }
  };
  const shutdownPeer = () => {
    if (peerShut) return;
    peerShut = true;
    try {
      peer.shutdown(SHUT_WR);
    } catch (err) {
      // Reset by the transport's close with unread input (the RST not read yet).
      if ((err as { code?: string }).code !== 'ENOTCONN') throw err;
      peerReset = true;
    }
  };
  const lost = () => m.calls.some((c) => c.startsWith('lost'));
  try {
    for (const o of ops) {
      switch (o.op) {
        case 'peerSend':
          if (peerShut || lost()) break;
          try {
            peerSent += peer.send(streamBytes(peerSent, o.n, 1));
          } catch (err) {
            if ((err as { code?: string }).code !== 'EAGAIN' && !lost() && closed === 'no') throw err;
          }
          break;
        case 'peerRecv':
          peerRecv();
          break;
        case 'peerShutdown':
          shutdownPeer();
          break;
        case 'pauseReading':
          t.pauseReading();
          if (!t.isClosing()) m.readPaused = true;
          break;
        case 'resumeReading':
          t.resumeReading();
          m.readPaused = false;
          break;
        case 'write':
          if (t.isClosing() || eofWritten) break;
          t.write(streamBytes(written, o.n, 2));
          written += o.n;
          break;
        case 'limits':
          if (t.isClosing()) break;
          t.setWriteBufferLimits({ high: o.high });
          break;
        case 'writeEof':
          if (t.isClosing() || eofWritten) break;
          t.writeEof();
          eofWritten = true;
          break;
        case 'close':
          if (closed === 'no') closed = 'close';
          t.close();
          break;
        case 'abort':
          if (closed === 'no' && !lost()) closed = 'abort';
          t.abort();
          break;
        case 'spin':
          reactor.runOnce(0);
          // eofReceived() returning true keeps the transport open for writing (asyncio); false closes it.
          if (m.calls.includes('eof') && closed === 'no' && !eofWritten) assert.is(t.isClosing(), !m.keepOpenOnEof, 'eofReceived() result');
          break;
      }
    }
    // Drain: resume reading and half-close the peer; once the transport has seen everything (or is
    // closing by itself), close it, which flushes what it still buffers.
    m.readPaused = false;
    t.resumeReading();
    shutdownPeer();
    for (let i = 0; i < 2000 && !lost() && !t.isClosing() && !m.calls.includes('eof'); i++) {
      peerRecv();
      reactor.runOnce(1);
    }
    t.close();
    for (let i = 0; i < 2000 && !(lost() && peerEof); i++) {
      peerRecv();
      reactor.runOnce(1);
    }
    peerRecv();
  } finally {
    peer.close();
  }
  // connectionMade first, connectionLost once and last, eofReceived at most once and after the data.
  const calls = m.calls.filter((c) => c !== 'pause' && c !== 'resume');
  assert.is(calls[0], 'made');
  assert.is(m.calls.filter((c) => c.startsWith('lost')).length, 1, `lost once: ${m.calls.join(' ')}`);
  assert.ok(m.calls[m.calls.length - 1]!.startsWith('lost'), `lost last: ${m.calls.join(' ')}`);
  assert.ok(m.calls.filter((c) => c === 'eof').length <= 1);
  const eofAt = m.calls.indexOf('eof');
  if (eofAt >= 0) assert.not.ok(m.calls.slice(eofAt + 1).includes('data'), 'data after eofReceived');
  // pause/resume strictly alternate, starting with pause.
  const flow = m.calls.filter((c) => c === 'pause' || c === 'resume');
  flow.forEach((c, i) => assert.is(c, i % 2 === 0 ? 'pause' : 'resume'));
  if (closed === 'abort' || peerReset) {
    // Aborted or reset: prefixes only (the rest was dropped), and the peer sees the connection end.
    assert.ok(m.received <= peerSent);
    assert.ok(peerGot <= written);
  } else {
    // Every byte written reaches the peer, in order, exactly once, then EOF. The transport reads
    // everything the peer sent and its EOF, unless it was closed first (close() stops reading).
    assert.is(peerGot, written, `peer received ${peerGot} of ${written}`);
    assert.ok(peerEof, 'the peer saw EOF');
    assert.is(m.calls[m.calls.length - 1], 'lost');
    if (closed === 'no') {
      assert.is(m.received, peerSent, `transport received ${m.received} of ${peerSent}`);
      assert.ok(m.calls.includes('eof'), 'eofReceived after the peer half-closed');
    } else {
      assert.ok(m.received <= peerSent);
    }
  }
}

function withServer(body: (reactor: Reactor, port: number, take: () => Model | null) => void): void {
  const before = openFdCount();
  const reactor = new Reactor();
  const accepted: Model[] = [];
  const server = reactor.createServer(
    () => {
      const m = new Model();
      accepted.push(m);
      return m;
    },
    { host: '127.0.0.1', port: 0 },
  );
  try {
    body(reactor, (server.address() as [string, number])[1], () => accepted.shift() ?? null);
  } finally {
    server.close();
    for (let i = 0; i < 5; i++) reactor.runOnce(0);
    reactor.close();
  }
  assert.is(openFdCount(), before, 'fd leak');
}

// Shrunk counterexamples (of a mutant that ignored eofReceived()'s result), now ordinary tests.
test('eofReceived() returning true keeps the transport open after the peer half-closes', () => {
  withServer((reactor, port, take) => runTransportOps(reactor, port, take, [{ op: 'peerShutdown' }, { op: 'spin' }, { op: 'spin' }, { op: 'write', n: 10 }], true));
});

test('eofReceived() returning false closes the transport after the peer half-closes', () => {
  withServer((reactor, port, take) => runTransportOps(reactor, port, take, [{ op: 'peerShutdown' }, { op: 'spin' }, { op: 'spin' }], false));
});

test('stream transport: random chunking, pause/resume reading, water marks, half-close, close, abort match the model', () => {
  const before = openFdCount();
  const reactor = new Reactor();
  const accepted: Model[] = [];
  const server = reactor.createServer(
    () => {
      const m = new Model();
      accepted.push(m);
      return m;
    },
    { host: '127.0.0.1', port: 0 },
  );
  const port = (server.address() as [string, number])[1];
  try {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), fc.boolean(), (ops, keepOpen) => runTransportOps(reactor, port, () => accepted.shift() ?? null, ops, keepOpen)),
      propertyOptions(150),
    );
  } finally {
    server.close();
    for (let i = 0; i < 5; i++) reactor.runOnce(0);
    reactor.close();
  }
  assert.is(openFdCount(), before, 'fd leak');
});

test.run();
