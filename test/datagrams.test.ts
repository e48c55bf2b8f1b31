// Datagram endpoints (reactor.createDatagramEndpoint): exact bytes, order, call order, every error
// path, flow control, batching, cleanup; and the LESSONS-v2 (a) regressions, one test each.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reactor } from '../src/loop/index.js';
import { EpollSelector, DefaultSelector, availableSelectors } from '../src/selectors/index.js';
import { native } from '../src/select/native.js';
import { ERRNO } from '../src/select/errors.js';
import {
  Socket, AF_INET, AF_INET6, AF_UNIX, SOCK_DGRAM, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, SO_BROADCAST, SO_RCVBUF, SO_SNDBUF,
  SHUT_WR, OSError, ValueError, DatagramTransport, DATAGRAM_OVERHEAD, DATAGRAM_QUEUE_CAP,
  type DatagramProtocol, type Address,
} from '../src/transports/index.js';
import { datagramNative } from '../src/transports/datagram-native.js';
import { openFdCount, withTimeout } from './helpers/index.js';
import { prng, runBounded, settle, watchedFdCount } from './helpers/reactor.js';
import { throwsClass, throwsCode } from './helpers/assertions.js';

const test = suite('datagrams');
const dn = datagramNative;

/** A protocol that records every call. */
class Recorder implements DatagramProtocol {
  events: string[] = [];
  datagrams: Array<[Buffer, Address | null]> = [];
  errors: Error[] = [];
  lost: Array<Error | null> = [];
  pauses = 0;
  resumes = 0;
  transport!: DatagramTransport;
  onMade?: (t: DatagramTransport) => void;
  onDatagram?: (d: Buffer, a: Address | null) => void;
  onError?: (e: Error) => void;
  connectionMade(t: DatagramTransport): void {
    this.transport = t;
    this.events.push('made');
    this.onMade?.(t);
  }
  datagramReceived(d: Buffer, a: Address | null): void {
    this.events.push('datagram');
    this.datagrams.push([d, a]);
    this.onDatagram?.(d, a);
  }
  errorReceived(e: Error): void {
    this.events.push(`error:${(e as OSError).code}`);
    this.errors.push(e);
    this.onError?.(e);
  }
  connectionLost(e: Error | null): void {
    this.events.push(`lost:${e === null ? 'null' : (e as OSError).code ?? e.message}`);
    this.lost.push(e);
  }
  pauseWriting(): void {
    this.pauses++;
  }
  resumeWriting(): void {
    this.resumes++;
  }
}

function udpSocket(family = AF_INET, host = '127.0.0.1'): Socket {
  const s = new Socket(family, SOCK_DGRAM);
  s.bind([host, 0]);
  return s;
}

/** A port with nothing bound to it (bound, then released). */
function closedPort(): number {
  const s = udpSocket();
  const port = (s.getsockname() as [string, number])[1];
  s.close();
  return port;
}

function runUntil(reactor: Reactor, done: () => boolean, limitMs = 5000): void {
  const tick = (): void => {
    if (done()) reactor.stop();
    else reactor.callLater(1, tick);
  };
  reactor.callSoon(tick);
  assert.not.ok(runBounded(reactor, limitMs), 'timed out');
}

function closeAll(reactor: Reactor, ...transports: DatagramTransport[]): void {
  for (const t of transports) t.abort();
  settle(reactor, 5);
  reactor.close();
}

let tmp: string;
test.before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'selectloop-dgram-'));
});
test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const ipv6Available = (() => {
  try {
    const s = new Socket(AF_INET6, SOCK_DGRAM);
    try {
      s.bind(['::1', 0]);
      return true;
    } finally {
      s.close();
    }
  } catch {
    return false;
  }
})();

// ---- bytes and order ----------------------------------------------------------------------

test('every datagram arrives as exactly its bytes, empty and 60 000-byte ones included, in order', () => {
  const reactor = new Reactor();
  const server = new Recorder();
  const [st] = reactor.createDatagramEndpoint(() => server, { localAddr: ['127.0.0.1', 0] });
  const port = (st.getExtraInfo('sockname') as [string, number])[1];
  const sizes = [0, 1, 7, 64, 1000, 1472, 0, 9000, 32768, 60000, 0, 3];
  const payloads = sizes.map((n) => randomBytes(n));
  const client = new Recorder();
  client.onMade = (t) => {
    for (const p of payloads) t.sendto(p);
  };
  const [ct] = reactor.createDatagramEndpoint(() => client, { remoteAddr: ['127.0.0.1', port] });
  runUntil(reactor, () => server.datagrams.length >= payloads.length);
  assert.is(server.datagrams.length, payloads.length);
  const clientPort = (ct.getExtraInfo('sockname') as [string, number])[1];
  server.datagrams.forEach(([d, a], i) => {
    assert.ok(d.equals(payloads[i]!), `datagram ${i} (${sizes[i]} B) differs`);
    assert.equal(a, ['127.0.0.1', clientPort]);
  });
  assert.equal(server.errors, []);
  closeAll(reactor, st, ct);
});

test('each received Buffer is its own memory: still intact after later batches', () => {
  const reactor = new Reactor();
  const server = new Recorder();
  const [st] = reactor.createDatagramEndpoint(() => server, { localAddr: ['127.0.0.1', 0] });
  const port = (st.getExtraInfo('sockname') as [string, number])[1];
  const sender = udpSocket();
  const total = 400;
  let sent = 0;
  // Paced: at most 50 ahead of the receiver, so loopback never drops one.
  const pump = (): void => {
    while (sent < total && sent - server.datagrams.length < 50) {
      const b = Buffer.alloc(100, sent & 0xff);
      b.writeUInt32BE(sent, 0);
      sender.sendto(b, ['127.0.0.1', port]);
      sent++;
    }
    if (server.datagrams.length < total) reactor.callLater(1, pump);
    else reactor.stop();
  };
  reactor.callSoon(pump);
  assert.not.ok(runBounded(reactor, 10_000));
  server.datagrams.forEach(([d], i) => {
    assert.is(d.length, 100);
    assert.is(d.readUInt32BE(0), i, 'kernel order');
    assert.ok(d.subarray(4).every((x) => x === (i & 0xff)), `datagram ${i} was overwritten`);
  });
  sender.close();
  closeAll(reactor, st);
});

test('call order: connectionMade in the next iteration, datagrams, then connectionLost exactly once', () => {
  const reactor = new Reactor();
  const rec = new Recorder();
  const [t, p] = reactor.createDatagramEndpoint(() => rec, { localAddr: ['127.0.0.1', 0] });
  assert.is(p, rec);
  assert.equal(rec.events, [], 'nothing before the reactor runs');
  const port = (t.getExtraInfo('sockname') as [string, number])[1];
  const s = udpSocket();
  s.sendto('a', ['127.0.0.1', port]);
  runUntil(reactor, () => rec.datagrams.length === 1);
  t.close();
  t.close();
  t.abort();
  settle(reactor, 10);
  assert.equal(rec.events, ['made', 'datagram', 'lost:null']);
  assert.is(t.fileno(), -1);
  s.close();
  reactor.close();
});

test('a burst from one peer reuses one frozen address array; N peers in one batch get N addresses', () => {
  const reactor = new Reactor();
  const rec = new Recorder();
  const [t] = reactor.createDatagramEndpoint(() => rec, { localAddr: ['127.0.0.1', 0] });
  const port = (t.getExtraInfo('sockname') as [string, number])[1];
  runUntil(reactor, () => rec.events.length === 1);
  const peers = Array.from({ length: 10 }, () => udpSocket());
  // All sent before the reactor reads: one recvmmsg batch holds ten senders, then a burst of one.
  peers.forEach((s, i) => s.sendto(`p${i}`, ['127.0.0.1', port]));
  for (let i = 0; i < 5; i++) peers[0]!.sendto(`burst${i}`, ['127.0.0.1', port]);
  runUntil(reactor, () => rec.datagrams.length === 15);
  peers.forEach((s, i) => {
    const [d, a] = rec.datagrams[i]!;
    assert.is(d.toString(), `p${i}`);
    assert.equal(a, s.getsockname(), `peer ${i}'s address`);
  });
  const burst = rec.datagrams.slice(10);
  assert.equal(burst.map(([d]) => d.toString()), ['burst0', 'burst1', 'burst2', 'burst3', 'burst4']);
  for (const [, a] of burst) assert.is(a, burst[0]![1], 'same array for the same sender');
  assert.ok(Object.isFrozen(burst[0]![1]));
  for (const s of peers) s.close();
  closeAll(reactor, t);
});

test('replying to the received address reaches the sender (echo)', () => {
  const reactor = new Reactor();
  const server = new Recorder();
  server.onDatagram = (d, a) => server.transport.sendto(d, a);
  const [st] = reactor.createDatagramEndpoint(() => server, { localAddr: ['127.0.0.1', 0] });
  const port = (st.getExtraInfo('sockname') as [string, number])[1];
  const client = new Recorder();
  client.onMade = (t) => ['one', '', 'three'].forEach((m) => t.sendto(m, ['127.0.0.1', port]));
  const [ct] = reactor.createDatagramEndpoint(() => client, { localAddr: ['127.0.0.1', 0] });
  runUntil(reactor, () => client.datagrams.length === 3);
  assert.equal(client.datagrams.map(([d]) => d.toString()), ['one', '', 'three']);
  assert.equal(client.datagrams[0]![1], ['127.0.0.1', port]);
  closeAll(reactor, st, ct);
});

test('replies sent during a received batch leave together at its end, in order; close() inside still sends them', () => {
  const reactor = new Reactor();
  const server = new Recorder();
  let sizeDuringBatch = -1;
  server.onDatagram = (d, a) => {
    server.transport.sendto(Buffer.concat([Buffer.from('re:'), d]), a);
    if (d.toString() === 'last') {
      sizeDuringBatch = server.transport.getWriteBufferSize();
      server.transport.close();
    }
  };
  const [st] = reactor.createDatagramEndpoint(() => server, { localAddr: ['127.0.0.1', 0] });
  runUntil(reactor, () => server.events.length === 1);
  const client = udpSocket();
  const msgs = ['a', '', 'b'.repeat(1000), 'last'];
  for (const m of msgs) client.sendto(m, st.getExtraInfo('sockname') as Address);
  runUntil(reactor, () => server.lost.length === 1);
  assert.ok(sizeDuringBatch > 0, 'the batch replies were held until its end');
  assert.equal(server.events, ['made', 'datagram', 'datagram', 'datagram', 'datagram', 'lost:null']);
  client.setBlocking(false);
  const replies: string[] = [];
  for (let i = 0; i < msgs.length; i++) replies.push(client.recvfrom(2000)[0].toString());
  assert.equal(replies, msgs.map((m) => `re:${m}`));
  client.close();
  reactor.close();
});

test('sendto resolves each address right whatever the order: a known sender, a new array, another family', () => {
  const reactor = new Reactor();
  const a = udpSocket();
  const b = udpSocket();
  a.setBlocking(false);
  b.setBlocking(false);
  const rec = new Recorder();
  const [t] = reactor.createDatagramEndpoint(() => rec, { localAddr: ['127.0.0.1', 0] });
  b.sendto('from b', t.getExtraInfo('sockname') as Address);
  runUntil(reactor, () => rec.datagrams.length === 1);
  const bAddr = rec.datagrams[0]![1]!; // a received (known) address
  const aPort = (a.getsockname() as [string, number])[1];
  t.sendto('1', ['127.0.0.1', aPort]);
  t.sendto('2', bAddr);
  t.sendto('3', ['127.0.0.1', aPort]); // a new array with the host and port sent to before
  t.sendto('4', bAddr);
  const drain = (s: Socket) => {
    const got: string[] = [];
    for (;;) {
      try {
        got.push(s.recvfrom(10)[0].toString());
      } catch {
        return got;
      }
    }
  };
  assert.equal(drain(a), ['1', '3']);
  assert.equal(drain(b), ['2', '4']);
  if (ipv6Available) {
    const r6 = new Recorder();
    const [t6] = reactor.createDatagramEndpoint(() => r6, { localAddr: ['::1', 0] });
    throwsClass(() => t6.sendto('x', bAddr), ValueError, 'an IPv4 sender\'s address on an IPv6 endpoint');
    t6.abort();
  }
  a.close();
  b.close();
  closeAll(reactor, t);
});

// ---- errors --------------------------------------------------------------------------------

test('ICMP port unreachable on a connected endpoint: errorReceived(ECONNREFUSED), then later datagrams still arrive', () => {
  const reactor = new Reactor();
  const rec = new Recorder();
  const port = closedPort();
  rec.onMade = (t) => t.sendto('anyone?');
  const [t] = reactor.createDatagramEndpoint(() => rec, { remoteAddr: ['127.0.0.1', port] });
  runUntil(reactor, () => rec.errors.length === 1);
  assert.is((rec.errors[0] as OSError).code, 'ECONNREFUSED');
  assert.instance(rec.errors[0], OSError);
  assert.not.ok(t.isClosing());
  // The peer comes up on that port: its datagram is delivered, and a reply gets there.
  const peer = new Socket(AF_INET, SOCK_DGRAM);
  peer.bind(['127.0.0.1', port]);
  peer.sendto('back', t.getExtraInfo('sockname') as Address);
  runUntil(reactor, () => rec.datagrams.length === 1);
  assert.is(rec.datagrams[0]![0].toString(), 'back');
  t.sendto('again');
  const [reply] = peer.recvfrom(100);
  assert.is(reply.toString(), 'again');
  assert.equal(rec.events, ['made', 'error:ECONNREFUSED', 'datagram']);
  peer.close();
  closeAll(reactor, t);
});

test('a pending ICMP error met by the next send is reported, and that datagram still goes (it was not its fault)', () => {
  const reactor = new Reactor();
  const rec = new Recorder();
  const port = closedPort();
  const [t] = reactor.createDatagramEndpoint(() => rec, { remoteAddr: ['127.0.0.1', port] });
  runUntil(reactor, () => rec.events.length === 1);
  t.pauseReading(); // nothing reads the socket: the ICMP error stays pending on it
  t.sendto('into the void');
  settle(reactor, 30);
  const peer = new Socket(AF_INET, SOCK_DGRAM);
  peer.bind(['127.0.0.1', port]);
  t.sendto('hello');
  assert.equal(rec.events, ['made', 'error:ECONNREFUSED']);
  peer.setBlocking(false); // a dropped datagram fails the test instead of hanging it
  assert.is(peer.recvfrom(100)[0].toString(), 'hello');
  assert.not.ok(t.isClosing());
  peer.close();
  closeAll(reactor, t);
});

test('after an ICMP error the loop does not spin: few wakeups over 100 ms with no traffic (epoll)', () => {
  if (!availableSelectors().includes('EpollSelector')) return;
  const selector = new EpollSelector<never>();
  let wakeups = 0;
  const select = selector.selectReady.bind(selector);
  selector.selectReady = (timeout: number) => {
    wakeups++;
    return select(timeout);
  };
  const reactor = new Reactor({ selector });
  const rec = new Recorder();
  rec.onMade = (t) => t.sendto('x');
  const [t] = reactor.createDatagramEndpoint(() => rec, { remoteAddr: ['127.0.0.1', closedPort()] });
  runUntil(reactor, () => rec.errors.length === 1);
  wakeups = 0;
  settle(reactor, 100);
  // An unconsumed EPOLLERR would wake the loop thousands of times in 100 ms.
  assert.ok(wakeups <= 5, `${wakeups} wakeups in an idle 100 ms`);
  assert.is(rec.errors.length, 1);
  assert.not.ok(t.isClosing());
  closeAll(reactor, t);
});

test('an ICMP error from peer A never surfaces on an unconnected endpoint (no IP_RECVERR): B still gets its datagram', () => {
  const reactor = new Reactor();
  const rec = new Recorder();
  const b = udpSocket();
  const portA = closedPort();
  rec.onMade = (t) => {
    t.sendto('to A', ['127.0.0.1', portA]);
    reactor.callLater(20, () => t.sendto('to B', b.getsockname() as Address));
  };
  const [t] = reactor.createDatagramEndpoint(() => rec, { localAddr: ['127.0.0.1', 0] });
  settle(reactor, 60);
  const [got] = b.recvfrom(100);
  assert.is(got.toString(), 'to B');
  assert.equal(rec.errors, []);
  assert.not.ok(t.isClosing());
  b.close();
  closeAll(reactor, t);
});

test('EMSGSIZE on send goes to errorReceived; the endpoint stays open and keeps sending', () => {
  const reactor = new Reactor();
  const rec = new Recorder();
  const peer = udpSocket();
  rec.onMade = (t) => {
    t.sendto(Buffer.alloc(70_000));
    t.sendto('fits');
  };
  const [t] = reactor.createDatagramEndpoint(() => rec, { remoteAddr: peer.getsockname() as Address });
  runUntil(reactor, () => rec.events.length >= 2);
  assert.equal(rec.events, ['made', 'error:EMSGSIZE']);
  assert.not.ok(t.isClosing());
  assert.is(peer.recvfrom(100)[0].toString(), 'fits');
  peer.close();
  closeAll(reactor, t);
});

test('a datagram larger than the receive slot is never delivered cut short: errorReceived(EMSGSIZE), neighbours intact', () => {
  const reactor = new Reactor();
  const rec = new Recorder();
  const path = join(tmp, 'trunc.sock');
  const [t] = reactor.createDatagramEndpoint(() => rec, { localAddr: path });
  runUntil(reactor, () => rec.events.length === 1);
  const sender = new Socket(AF_UNIX, SOCK_DGRAM);
  sender.setsockopt(SOL_SOCKET, SO_SNDBUF, 1 << 20);
  const big = randomBytes(100_000);
  sender.sendto('before', path);
  sender.sendto(big, path);
  sender.sendto('after', path);
  runUntil(reactor, () => rec.events.length >= 4);
  assert.equal(rec.events, ['made', 'datagram', 'error:EMSGSIZE', 'datagram']);
  assert.equal(rec.datagrams.map(([d]) => d.toString()), ['before', 'after']);
  assert.not.ok(t.isClosing());
  sender.close();
  closeAll(reactor, t);
});

test('a fatal error (EPIPE after shutdown) reaches connectionLost(err) exactly once and closes the fd', () => {
  const reactor = new Reactor();
  const errors: unknown[] = [];
  reactor.setExceptionHandler((_r, ctx) => errors.push(ctx.exception));
  const rec = new Recorder();
  const peer = udpSocket();
  const [t] = reactor.createDatagramEndpoint(() => rec, { remoteAddr: peer.getsockname() as Address });
  runUntil(reactor, () => rec.events.length === 1);
  native.shutdown(t.fileno(), SHUT_WR);
  t.sendto('x');
  settle(reactor, 10);
  assert.equal(rec.events, ['made', 'lost:EPIPE']);
  assert.is(rec.lost.length, 1);
  assert.is(t.fileno(), -1);
  assert.is(errors.length, 1, 'reported to the exception handler once');
  throwsCode(() => t.sendto('z'), 'ERR_TRANSPORT_CLOSED', 'sendto after a fatal error');
  peer.close();
  reactor.close();
});

test('a throwing datagramReceived is fatal: connectionLost(err) once, nothing delivered after', () => {
  const reactor = new Reactor();
  reactor.setExceptionHandler(() => {});
  const rec = new Recorder();
  const boom = new Error('boom');
  rec.onDatagram = () => {
    throw boom;
  };
  const [t] = reactor.createDatagramEndpoint(() => rec, { localAddr: ['127.0.0.1', 0] });
  const s = udpSocket();
  for (let i = 0; i < 5; i++) s.sendto(`d${i}`, t.getExtraInfo('sockname') as Address);
  settle(reactor, 30);
  assert.equal(rec.events, ['made', 'datagram', 'lost:boom']);
  assert.is(rec.lost[0], boom);
  s.close();
  reactor.close();
});

test('each non-fatal errno, whether sendto meets it at once, the queued send later, or the receive side: errorReceived, endpoint open', () => {
  const codes = ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EMSGSIZE'] as const;
  for (const code of codes) {
    const errno = ERRNO[code];
    const reactor = new Reactor();
    const rec = new Recorder();
    const peer = udpSocket();
    peer.setBlocking(false);
    const [t] = reactor.createDatagramEndpoint(() => rec, { remoteAddr: peer.getsockname() as Address });
    runUntil(reactor, () => rec.events.length === 1);
    // At once: the direct send fails.
    let failures = 1;
    const restore = injectSendFailures(() => failures-- > 0, errno);
    t.sendto('first');
    restore();
    // An ICMP-type error may be an earlier datagram's: the datagram is tried once more and goes;
    // EMSGSIZE is the datagram's own, and drops it.
    const retried = code !== 'EMSGSIZE';
    // Later: queued behind an EAGAIN, then the batched send fails on the head datagram only.
    let step = 0;
    const n = native as unknown as Record<string, (...a: unknown[]) => number>;
    const d = dn as unknown as Record<string, (...a: unknown[]) => number>;
    const saved = { send: n.send!, sendDatagrams: d.sendDatagrams! };
    n.send = () => -ERRNO.EAGAIN;
    d.sendDatagrams = (...a) => (step++ === 0 ? -errno : saved.sendDatagrams(...a));
    try {
      t.sendto('head');
      t.sendto('second');
      runUntil(reactor, () => t.getWriteBufferSize() === 0);
    } finally {
      n.send = saved.send;
      d.sendDatagrams = saved.sendDatagrams;
    }
    // The receive side reports it too (as an ICMP error read from the socket would).
    const recv = d.recvDatagrams!;
    let once = true;
    d.recvDatagrams = (...a) => (once ? ((once = false), -errno) : recv(...a));
    try {
      peer.sendto('to you', t.getExtraInfo('sockname') as Address);
      runUntil(reactor, () => rec.datagrams.length === 1);
    } finally {
      d.recvDatagrams = recv;
    }
    assert.equal(rec.events, ['made', `error:${code}`, `error:${code}`, `error:${code}`, 'datagram'], code);
    assert.not.ok(t.isClosing(), `${code} is not fatal`);
    const got: string[] = [];
    for (;;) {
      try {
        got.push(peer.recvfrom(100)[0].toString());
      } catch {
        break;
      }
    }
    assert.equal(got, retried ? ['first', 'head', 'second'] : ['second'], `${code}: what reached the peer`);
    t.sendto('still open');
    assert.is(peer.recvfrom(100)[0].toString(), 'still open');
    peer.close();
    closeAll(reactor, t);
  }
});

test('bad input throws a clear error and changes nothing', () => {
  const reactor = new Reactor();
  const rec = new Recorder();
  const peer = udpSocket();
  const peerAddr = peer.getsockname() as [string, number];
  const [u] = reactor.createDatagramEndpoint(() => rec, { localAddr: ['127.0.0.1', 0] });
  const [c] = reactor.createDatagramEndpoint(() => new Recorder(), { remoteAddr: peerAddr });
  throwsClass(() => u.sendto(42 as never, peerAddr), TypeError, 'number data');
  throwsClass(() => u.sendto({} as never, peerAddr), TypeError, 'object data');
  throwsClass(() => u.sendto('x'), ValueError, 'no address on an unconnected endpoint');
  throwsClass(() => u.sendto('x', null), ValueError, 'null address on an unconnected endpoint');
  throwsClass(() => u.sendto('x', ['127.0.0.1'] as never), TypeError, 'address without a port');
  throwsClass(() => u.sendto('x', ['127.0.0.1', 70000]), ValueError, 'port above 65535');
  throwsClass(() => u.sendto('x', ['127.0.0.1', -1]), ValueError, 'negative port');
  throwsClass(() => u.sendto('x', ['127.0.0.1', 0]), ValueError, 'port 0');
  throwsClass(() => u.sendto('x', ['127.0.0.1', 1.5]), ValueError, 'fractional port');
  throwsClass(() => u.sendto('x', [42, 1] as never), TypeError, 'host not a string');
  throwsClass(() => u.sendto('x', '/tmp/x' as never), TypeError, 'a path on a UDP endpoint');
  throwsClass(() => c.sendto('x', ['127.0.0.1', peerAddr[1] === 9 ? 10 : 9]), ValueError, 'not the connected peer');
  c.sendto('ok', peerAddr); // its own peer, given explicitly, is fine
  assert.is(u.getWriteBufferSize(), 0);
  assert.is(c.getWriteBufferSize(), 0);
  settle(reactor, 10);
  assert.is(peer.recvfrom(10)[0].toString(), 'ok');
  peer.setBlocking(false);
  throwsClass(() => peer.recvfrom(10), OSError, 'nothing else was sent');
  assert.equal(rec.events, ['made']);
  u.close();
  throwsCode(() => u.sendto('x', peerAddr), 'ERR_TRANSPORT_CLOSED', 'sendto after close');
  throwsClass(() => u.setWriteBufferLimits({ high: -1 }), ValueError, 'negative high');
  throwsClass(() => u.setWriteBufferLimits({ high: 1, low: 2 }), ValueError, 'high < low');
  peer.close();
  closeAll(reactor, c);
});

test('createDatagramEndpoint: bad options throw and leave no fd behind; bind/connect failures are OSError', () => {
  const reactor = new Reactor();
  const before = openFdCount();
  const f = () => new Recorder();
  throwsClass(() => reactor.createDatagramEndpoint(f, {}), ValueError, 'no address');
  throwsClass(() => reactor.createDatagramEndpoint(f, null as never), TypeError, 'null options');
  throwsClass(() => reactor.createDatagramEndpoint(f, { localAddr: ['127.0.0.1', 65536] }), ValueError, 'port too big');
  throwsClass(() => reactor.createDatagramEndpoint(f, { remoteAddr: ['127.0.0.1', 0] }), ValueError, 'remote port 0');
  throwsClass(() => reactor.createDatagramEndpoint(f, { localAddr: ['127.0.0.1', 0], family: 12345 }), ValueError, 'bad family');
  throwsClass(() => reactor.createDatagramEndpoint(f, { localAddr: ['127.0.0.1', 0], reuseAddress: 1 as never }), TypeError, 'reuseAddress not boolean');
  throwsClass(() => reactor.createDatagramEndpoint(f, { localAddr: 42 as never }), TypeError, 'address not an array or path');
  throwsClass(() => reactor.createDatagramEndpoint(null as never, { localAddr: ['127.0.0.1', 0] }), TypeError, 'factory not a function');
  throwsClass(() => reactor.createDatagramEndpoint(f, { localAddr: '/tmp/x', remoteAddr: ['127.0.0.1', 9] }), TypeError, 'mixed families');
  throwsClass(() => reactor.createDatagramEndpoint(f, { localAddr: '' }), ValueError, 'empty AF_UNIX path');
  throwsClass(() => reactor.createDatagramEndpoint(f, { localAddr: join(tmp, 'a\0b') }), ValueError, 'NUL in an AF_UNIX path');
  throwsClass(() => reactor.createDatagramEndpoint(f, { remoteAddr: ['127.0.0.1\0evil', 9] }), ValueError, 'NUL in a host');
  const taken = udpSocket();
  const err = throwsClass(() => reactor.createDatagramEndpoint(f, { localAddr: taken.getsockname() as Address }), OSError, 'port in use');
  assert.is((err as OSError).code, 'EADDRINUSE');
  const missing = throwsClass(() => reactor.createDatagramEndpoint(f, { remoteAddr: join(tmp, 'nobody.sock') }), OSError, 'no such Unix peer');
  assert.is((missing as OSError).code, 'ENOENT');
  taken.close();
  if (before >= 0) assert.is(openFdCount(), before, 'no fd left behind');
  reactor.close();
  throwsCode(() => reactor.createDatagramEndpoint(f, { localAddr: ['127.0.0.1', 0] }), 'ERR_REACTOR_CLOSED', 'closed reactor');
});

test('the default endpoint sets neither SO_REUSEADDR nor SO_REUSEPORT; each is an explicit option', () => {
  const reactor = new Reactor();
  const [d] = reactor.createDatagramEndpoint(() => new Recorder(), { localAddr: ['127.0.0.1', 0] });
  const sock = d.getExtraInfo('socket') as Socket;
  assert.is(sock.getsockopt(SOL_SOCKET, SO_REUSEADDR), 0);
  if (SO_REUSEPORT !== undefined) assert.is(sock.getsockopt(SOL_SOCKET, SO_REUSEPORT), 0);
  assert.is(sock.getsockopt(SOL_SOCKET, SO_BROADCAST), 0);
  const [e] = reactor.createDatagramEndpoint(() => new Recorder(), {
    localAddr: ['127.0.0.1', 0], reuseAddress: true, reusePort: SO_REUSEPORT !== undefined, allowBroadcast: true,
  });
  const esock = e.getExtraInfo('socket') as Socket;
  assert.ok(esock.getsockopt(SOL_SOCKET, SO_REUSEADDR) !== 0);
  if (SO_REUSEPORT !== undefined) assert.ok(esock.getsockopt(SOL_SOCKET, SO_REUSEPORT) !== 0);
  assert.ok(esock.getsockopt(SOL_SOCKET, SO_BROADCAST) !== 0);
  // The transport owns the fd: the view cannot close it.
  throwsCode(() => esock.close(), 'ERR_TRANSPORT_SOCKET', 'close through the view');
  assert.ok(e.fileno() >= 0);
  closeAll(reactor, d, e);
});

// ---- writing: queue, accounting, flow control ---------------------------------------------

/** Makes the next `n` sends (direct and batched) fail with `errno` (would-block, ENOBUFS, ...). */
function injectSendFailures(shouldFail: () => boolean, errno: number): () => void {
  const n = native as unknown as Record<string, (...a: unknown[]) => number>;
  const d = dn as unknown as Record<string, (...a: unknown[]) => number>;
  const saved = { send: n.send!, sendto: n.sendto!, sendDatagrams: d.sendDatagrams! };
  n.send = (...a) => (shouldFail() ? -errno : saved.send(...a));
  n.sendto = (...a) => (shouldFail() ? -errno : saved.sendto(...a));
  d.sendDatagrams = (...a) => (shouldFail() ? -errno : saved.sendDatagrams(...a));
  return () => {
    n.send = saved.send;
    n.sendto = saved.sendto;
    d.sendDatagrams = saved.sendDatagrams;
  };
}

test('property: random sendto sequences with EAGAIN injected: every datagram once, in order; the buffer returns to 0; pauses and resumes pair', () => {
  for (let seed = 1; seed <= 6; seed++) {
    const rand = prng(seed);
    const reactor = new Reactor();
    const server = new Recorder();
    const [st] = reactor.createDatagramEndpoint(() => server, { localAddr: ['127.0.0.1', 0] });
    (st.getExtraInfo('socket') as Socket).setsockopt(SOL_SOCKET, SO_RCVBUF, 1 << 20);
    const client = new Recorder();
    const [ct] = reactor.createDatagramEndpoint(() => client, { remoteAddr: st.getExtraInfo('sockname') as Address });
    ct.setWriteBufferLimits({ high: 2000, low: 500 });
    runUntil(reactor, () => client.events.length === 1 && server.events.length === 1);
    let failing = true;
    const restore = injectSendFailures(() => failing && rand() < 0.7, ERRNO.EAGAIN);
    const expected: string[] = [];
    let sequence = 0;
    let maxPending = 0;
    try {
      // About 200 datagrams per seed: even all at once they fit a default-sized receive buffer
      // (net.core.rmem_max may cap SO_RCVBUF at 208 KiB), so loopback never drops one.
      for (let round = 0; round < 20; round++) {
        const burst = Math.floor(rand() * 20);
        for (let i = 0; i < burst; i++) {
          const size = rand() < 0.3 ? 0 : Math.floor(rand() * 200);
          const msg = size === 0 ? '' : `${sequence++}:`.padEnd(size, 'x');
          expected.push(msg);
          ct.sendto(msg);
          assert.ok(client.pauses - client.resumes === 0 || client.pauses - client.resumes === 1, 'pause/resume alternate');
        }
        maxPending = Math.max(maxPending, ct.getWriteBufferSize());
        reactor.runOnce(0);
        reactor.runOnce(0);
      }
      failing = false;
      runUntil(reactor, () => ct.getWriteBufferSize() === 0 && server.datagrams.length === expected.length);
    } finally {
      restore();
    }
    assert.is(ct.getWriteBufferSize(), 0, `seed ${seed}: buffer size back to 0`);
    assert.is(client.pauses, client.resumes, `seed ${seed}: every pauseWriting has its resumeWriting`);
    assert.ok(client.pauses > 0, `seed ${seed}: the writer was paused at least once`);
    assert.ok(maxPending > 0, `seed ${seed}: something was queued`);
    assert.equal(server.datagrams.map(([d]) => d.toString()), expected, `seed ${seed}: each datagram once, in order`);
    assert.equal(client.errors, []);
    closeAll(reactor, st, ct);
  }
});

test('a flood of empty datagrams reaches the high-water mark (per-datagram overhead counted)', () => {
  const reactor = new Reactor();
  const client = new Recorder();
  const peer = udpSocket();
  const [t] = reactor.createDatagramEndpoint(() => client, { remoteAddr: peer.getsockname() as Address });
  t.setWriteBufferLimits({ high: 10 * DATAGRAM_OVERHEAD, low: 0 });
  let fail = true;
  const restore = injectSendFailures(() => fail, ERRNO.EAGAIN);
  try {
    for (let i = 0; i < 20; i++) t.sendto('');
    assert.is(t.getWriteBufferSize(), 20 * DATAGRAM_OVERHEAD);
    assert.is(client.pauses, 1);
    fail = false;
    runUntil(reactor, () => t.getWriteBufferSize() === 0);
  } finally {
    restore();
  }
  assert.is(client.resumes, 1);
  peer.setBlocking(false);
  let got = 0;
  for (;;) {
    try {
      assert.is(peer.recvfrom(10)[0].length, 0);
      got++;
    } catch {
      break;
    }
  }
  assert.is(got, 20);
  peer.close();
  closeAll(reactor, t);
});

test('ENOBUFS is retried like EAGAIN, not fatal; the queue has a cap (errorReceived ENOBUFS past it)', () => {
  const reactor = new Reactor();
  const client = new Recorder();
  const peer = udpSocket();
  peer.setsockopt(SOL_SOCKET, SO_RCVBUF, 1 << 20);
  const [t] = reactor.createDatagramEndpoint(() => client, { remoteAddr: peer.getsockname() as Address });
  runUntil(reactor, () => client.events.length === 1);
  let fail = true;
  const restore = injectSendFailures(() => fail, ERRNO.ENOBUFS);
  try {
    t.sendto('queued');
    assert.is(t.getWriteBufferSize(), 6 + DATAGRAM_OVERHEAD);
    reactor.runOnce(0);
    assert.not.ok(t.isClosing(), 'ENOBUFS is not fatal');
    fail = false;
    runUntil(reactor, () => t.getWriteBufferSize() === 0);
    assert.is(peer.recvfrom(100)[0].toString(), 'queued');
    // The cap: datagrams past DATAGRAM_QUEUE_CAP counted bytes are dropped with ENOBUFS.
    fail = true;
    const big = Buffer.alloc(60_000);
    const fits = Math.floor(DATAGRAM_QUEUE_CAP / (big.length + DATAGRAM_OVERHEAD));
    for (let i = 0; i < fits + 3; i++) t.sendto(big);
    assert.is(t.getWriteBufferSize(), fits * (big.length + DATAGRAM_OVERHEAD));
    assert.equal(client.errors.map((e) => (e as OSError).code), ['ENOBUFS', 'ENOBUFS', 'ENOBUFS']);
  } finally {
    restore();
  }
  assert.not.ok(t.isClosing());
  peer.close();
  closeAll(reactor, t);
});

test('close() sends what is queued, then closes; abort() drops it', () => {
  const reactor = new Reactor();
  const peer = udpSocket();
  peer.setsockopt(SOL_SOCKET, SO_RCVBUF, 1 << 20);
  const a = new Recorder();
  const b = new Recorder();
  const [ta] = reactor.createDatagramEndpoint(() => a, { remoteAddr: peer.getsockname() as Address });
  const [tb] = reactor.createDatagramEndpoint(() => b, { remoteAddr: peer.getsockname() as Address });
  runUntil(reactor, () => a.events.length === 1 && b.events.length === 1);
  let fail = true;
  const restore = injectSendFailures(() => fail, ERRNO.EAGAIN);
  try {
    ta.sendto('a1');
    ta.sendto('a2');
    tb.sendto('b1');
    ta.close();
    tb.abort();
    assert.is(tb.getWriteBufferSize(), 0);
    reactor.runOnce(0);
    assert.equal(a.lost, [], 'close waits for the queue');
    fail = false;
    runUntil(reactor, () => a.lost.length === 1 && b.lost.length === 1);
  } finally {
    restore();
  }
  peer.setBlocking(false);
  const got: string[] = [];
  for (;;) {
    try {
      got.push(peer.recvfrom(10)[0].toString());
    } catch {
      break;
    }
  }
  assert.equal(got, ['a1', 'a2']);
  assert.equal(a.events, ['made', 'lost:null']);
  assert.equal(b.events, ['made', 'lost:null']);
  peer.close();
  reactor.close();
});

// ---- reading flow control -----------------------------------------------------------------

test('pauseReading/resumeReading under a burst of 2 000 datagrams: none lost, none duplicated, none while paused', () => {
  const reactor = new Reactor();
  const server = new Recorder();
  let paused = false;
  let deliveredWhilePaused = 0;
  server.onDatagram = () => {
    if (paused) deliveredWhilePaused++;
    // Pause every 150 datagrams (mid-batch), resume a little later.
    if (server.datagrams.length % 150 === 0) {
      server.transport.pauseReading();
      paused = true;
      assert.not.ok(server.transport.isReading());
      reactor.callLater(2, () => {
        paused = false;
        server.transport.resumeReading();
      });
    }
  };
  const [st] = reactor.createDatagramEndpoint(() => server, { localAddr: ['127.0.0.1', 0] });
  const port = (st.getExtraInfo('sockname') as [string, number])[1];
  const sender = udpSocket();
  const total = 2000;
  let sent = 0;
  const pump = (): void => {
    // At most 100 unread datagrams in the kernel's buffer: loopback never has to drop one.
    while (sent < total && sent - server.datagrams.length < 100) sender.sendto(String(sent++), ['127.0.0.1', port]);
    if (server.datagrams.length < total) reactor.callLater(1, pump);
    else reactor.stop();
  };
  reactor.callSoon(pump);
  assert.not.ok(runBounded(reactor, 20_000), 'timed out');
  assert.is(deliveredWhilePaused, 0);
  assert.equal(server.datagrams.map(([d]) => Number(d.toString())), Array.from({ length: total }, (_, i) => i));
  sender.close();
  closeAll(reactor, st);
});

// ---- cleanup ------------------------------------------------------------------------------

test('fds and reactor registrations are gone after close and after abort', () => {
  const selector = new DefaultSelector<never>();
  const reactor = new Reactor({ selector });
  const before = openFdCount();
  const recs = [new Recorder(), new Recorder(), new Recorder()];
  const [t1] = reactor.createDatagramEndpoint(() => recs[0]!, { localAddr: ['127.0.0.1', 0] });
  const [t2] = reactor.createDatagramEndpoint(() => recs[1]!, { remoteAddr: t1.getExtraInfo('sockname') as Address });
  const [t3] = reactor.createDatagramEndpoint(() => recs[2]!, { localAddr: join(tmp, 'cleanup.sock') });
  runUntil(reactor, () => recs.every((r) => r.events.length === 1));
  assert.is(watchedFdCount(reactor), 3);
  t2.sendto('x');
  t1.close();
  t2.abort();
  t3.close();
  settle(reactor, 10);
  assert.is(watchedFdCount(reactor), 0, 'no registration left');
  if (before >= 0) assert.is(openFdCount(), before, 'every fd closed');
  for (const r of recs) assert.is(r.lost.length, 1);
  reactor.close();
});

test('reactor.close() with live endpoints frees their fds; connectionLost once (ERR_REACTOR_CLOSED, or null after a flushed close)', () => {
  const before = openFdCount();
  const reactor = new Reactor();
  const live = new Recorder();
  const closed = new Recorder();
  const unstarted = new Recorder();
  const [t1] = reactor.createDatagramEndpoint(() => live, { localAddr: ['127.0.0.1', 0] });
  const [t2] = reactor.createDatagramEndpoint(() => closed, { localAddr: ['127.0.0.1', 0] });
  runUntil(reactor, () => live.events.length === 1 && closed.events.length === 1);
  t2.close();
  reactor.createDatagramEndpoint(() => unstarted, { localAddr: ['127.0.0.1', 0] });
  reactor.close();
  assert.equal(live.events, ['made', 'lost:ERR_REACTOR_CLOSED']);
  assert.equal(closed.events, ['made', 'lost:null']);
  assert.equal(unstarted.events, [], 'connectionMade never ran: nothing to hear');
  assert.is(t1.fileno(), -1);
  if (before >= 0) assert.is(openFdCount(), before, 'the reactor and all three endpoints closed their fds');
});

test('a throwing connectionMade closes the endpoint: connectionLost(err) once, fd freed', () => {
  const reactor = new Reactor();
  reactor.setExceptionHandler(() => {});
  const rec = new Recorder();
  const boom = new Error('made failed');
  rec.onMade = () => {
    throw boom;
  };
  const [t] = reactor.createDatagramEndpoint(() => rec, { localAddr: ['127.0.0.1', 0] });
  // Until connectionLost, not for a fixed time (a loaded machine may take longer than any).
  const connectionLost = rec.connectionLost.bind(rec);
  rec.connectionLost = (e) => {
    connectionLost(e);
    reactor.stop();
  };
  assert.is(runBounded(reactor), false, 'connectionLost never came');
  settle(reactor, 5); // nothing more arrives
  assert.equal(rec.events, ['made', 'lost:made failed']);
  assert.is(rec.lost[0], boom);
  assert.is(t.fileno(), -1);
  reactor.close();
});

// ---- IPv6 and AF_UNIX ---------------------------------------------------------------------

test('IPv6 on ::1 (skipped where ::1 is unavailable)', () => {
  if (!ipv6Available) {
    console.log('  (skipped: ::1 is unavailable)');
    return;
  }
  const reactor = new Reactor();
  const server = new Recorder();
  server.onDatagram = (d, a) => server.transport.sendto(d, a);
  const [st] = reactor.createDatagramEndpoint(() => server, { localAddr: ['::1', 0] });
  assert.is(st.family, AF_INET6);
  const client = new Recorder();
  const payload = randomBytes(1200);
  client.onMade = (t) => t.sendto(payload);
  const [ct] = reactor.createDatagramEndpoint(() => client, { remoteAddr: st.getExtraInfo('sockname') as Address });
  runUntil(reactor, () => client.datagrams.length === 1);
  assert.ok(client.datagrams[0]![0].equals(payload));
  assert.is((server.datagrams[0]![1] as [string, number])[0], '::1');
  closeAll(reactor, st, ct);
});

test('AF_UNIX datagram endpoints: bound server and client exchange exact bytes; an unnamed sender has address null', () => {
  const reactor = new Reactor();
  const serverPath = join(tmp, 'server.sock');
  const clientPath = join(tmp, 'client.sock');
  const server = new Recorder();
  server.onDatagram = (d, a) => {
    if (a !== null) server.transport.sendto(d, a);
  };
  const [st] = reactor.createDatagramEndpoint(() => server, { localAddr: serverPath });
  assert.is(st.family, AF_UNIX);
  const client = new Recorder();
  client.onMade = (t) => ['', 'hello', 'x'.repeat(50_000)].forEach((m) => t.sendto(m));
  const [ct] = reactor.createDatagramEndpoint(() => client, { localAddr: clientPath, remoteAddr: serverPath });
  assert.is(ct.getExtraInfo('peername'), serverPath);
  runUntil(reactor, () => client.datagrams.length === 3);
  assert.equal(client.datagrams.map(([d]) => d.length), [0, 5, 50_000]);
  assert.equal(client.datagrams.map(([, a]) => a), [serverPath, serverPath, serverPath]);
  assert.equal(server.datagrams.map(([, a]) => a), [clientPath, clientPath, clientPath]);
  // An unnamed sender (namelen 0) has no address: null, never a stale slot's bytes; the named
  // sender after it is still decoded right.
  const anon = new Socket(AF_UNIX, SOCK_DGRAM);
  anon.sendto('anon', serverPath);
  const named = new Socket(AF_UNIX, SOCK_DGRAM);
  named.bind(join(tmp, 'named.sock'));
  named.sendto('named', serverPath);
  runUntil(reactor, () => server.datagrams.length === 5);
  assert.equal(server.datagrams.slice(3).map(([d, a]) => [d.toString(), a]), [['anon', null], ['named', join(tmp, 'named.sock')]]);
  anon.close();
  named.close();
  closeAll(reactor, st, ct);
  assert.ok(existsSync(serverPath), 'the socket file is the caller\'s to remove (as asyncio)');
});

test('attached to Node\'s loop: a datagram endpoint talks to node:dgram while promises and timers run', async () => {
  const { createSocket } = await import('node:dgram');
  const reactor = new Reactor();
  const server = new Recorder();
  server.onDatagram = (d, a) => server.transport.sendto(Buffer.concat([d, d]), a);
  const [st] = reactor.createDatagramEndpoint(() => server, { localAddr: ['127.0.0.1', 0] });
  reactor.attach();
  const sock = createSocket('udp4');
  try {
    const port = (st.getExtraInfo('sockname') as [string, number])[1];
    const reply = withTimeout(new Promise<Buffer>((res) => sock.once('message', (m) => res(m))), 5000, 'reply');
    sock.send('ab', port, '127.0.0.1');
    assert.is((await reply).toString(), 'abab');
  } finally {
    sock.close();
    st.close();
    await new Promise((r) => setTimeout(r, 20));
    reactor.detach();
    reactor.close();
  }
  assert.equal(server.events, ['made', 'datagram', 'lost:null']);
});

// ---- Socket additions and the native layer ------------------------------------------------

test('Socket.recvfromInto, SO_BROADCAST, IPV6_V6ONLY and the multicast options', async () => {
  const { IP_MULTICAST_TTL, IP_MULTICAST_LOOP, IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP, IPPROTO_IP, IPPROTO_IPV6, IPV6_V6ONLY, ipMreq } = await import('../src/transports/index.js');
  const a = udpSocket();
  const b = udpSocket();
  b.sendto('hello world', a.getsockname());
  const buf = Buffer.alloc(32, 0xee);
  const [n, from] = a.recvfromInto(buf, 5);
  assert.is(n, 5, 'at most n bytes');
  assert.is(buf.subarray(0, 5).toString(), 'hello');
  assert.is(buf[5], 0xee, 'nothing written past n');
  assert.equal(from, b.getsockname());
  throwsClass(() => a.recvfromInto(buf, 33), ValueError, 'n larger than the buffer');
  throwsClass(() => a.recvfromInto('x' as never), TypeError, 'not a buffer');
  a.setsockopt(SOL_SOCKET, SO_BROADCAST, true);
  assert.ok(a.getsockopt(SOL_SOCKET, SO_BROADCAST) !== 0);
  a.setsockopt(IPPROTO_IP, IP_MULTICAST_TTL, 7);
  assert.is(a.getsockopt(IPPROTO_IP, IP_MULTICAST_TTL), 7);
  a.setsockopt(IPPROTO_IP, IP_MULTICAST_LOOP, 0);
  assert.is(a.getsockopt(IPPROTO_IP, IP_MULTICAST_LOOP), 0);
  // IP_ADD_MEMBERSHIP takes a struct ip_mreq: its bytes, as Python's setsockopt(level, opt, bytes).
  try {
    a.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, ipMreq('239.255.1.2', '127.0.0.1'));
    a.setsockopt(IPPROTO_IP, IP_DROP_MEMBERSHIP, ipMreq('239.255.1.2', '127.0.0.1'));
  } catch (err) {
    // A sandbox without a multicast-capable interface refuses the group, as an OSError.
    assert.instance(err, OSError);
  }
  throwsClass(() => a.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, Buffer.alloc(3)), OSError, 'a struct of the wrong size');
  throwsClass(() => ipMreq('239.1.2'), TypeError, 'malformed group');
  throwsClass(() => ipMreq('239.1.2.300'), TypeError, 'octet out of range');
  if (ipv6Available) {
    const s6 = new Socket(AF_INET6, SOCK_DGRAM);
    s6.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
    assert.is(s6.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY), 1);
    s6.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, false);
    assert.is(s6.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY), 0);
    s6.close();
  }
  a.close();
  b.close();
});

test('native datagram functions validate every argument (TypeError/RangeError, no crash)', () => {
  const s = udpSocket();
  const fd = s.fileno();
  const BATCH = dn.datagramConstants.BATCH_MAX!;
  const SLOT = dn.datagramConstants.NAME_SLOT!;
  const results = new Int32Array(4 * BATCH);
  const names = new Uint8Array((BATCH + 1) * SLOT);
  const buf = Buffer.alloc(4 * 100);
  throwsClass(() => dn.recvDatagrams(fd, buf, 0, 100, 5, results, names), RangeError, 'slots past the buffer');
  throwsClass(() => dn.recvDatagrams(fd, buf, 1, 100, 4, results, names), RangeError, 'offset pushes slots past the end');
  throwsClass(() => dn.recvDatagrams(fd, buf, 0, 0, 4, results, names), RangeError, 'zero slot size');
  throwsClass(() => dn.recvDatagrams(fd, buf, 0, 100, 0, results, names), RangeError, 'zero count');
  throwsClass(() => dn.recvDatagrams(fd, buf, 0, 1, BATCH + 1, results, names), RangeError, 'count above the batch');
  throwsClass(() => dn.recvDatagrams(fd, buf, 0, 100, 4, new Int32Array(15), names), RangeError, 'results too short');
  throwsClass(() => dn.recvDatagrams(fd, buf, 0, 100, 4, new Float64Array(16) as never, names), TypeError, 'results not Int32Array');
  throwsClass(() => dn.recvDatagrams(fd, buf, 0, 100, 4, results, new Uint8Array(SLOT * 5)), RangeError, 'names too short');
  throwsClass(() => dn.recvDatagrams(-1, buf, 0, 100, 4, results, names), RangeError, 'negative fd');
  throwsClass(() => dn.recvDatagrams(fd, 'x' as never, 0, 100, 4, results, names), TypeError, 'buffer not bytes');
  assert.is(dn.recvDatagrams(fd, buf, 0, 100, 4, results, names), -ERRNO.EAGAIN, 'nothing waiting: -EAGAIN, never blocks');
  const addr = native.resolve('127.0.0.1', 9, AF_INET, SOCK_DGRAM, false) as Buffer[];
  throwsClass(() => dn.sendDatagrams(fd, 'x' as never, [], 0, 0), TypeError, 'datas not an array');
  throwsClass(() => dn.sendDatagrams(fd, ['x' as never], [addr[0]!], 0, 1), TypeError, 'datagram not bytes');
  throwsClass(() => dn.sendDatagrams(fd, [new Uint16Array(2) as never], [addr[0]!], 0, 1), TypeError, 'datagram not a Uint8Array');
  throwsClass(() => dn.sendDatagrams(fd, [Buffer.from('x')], [Buffer.alloc(1)], 0, 1), RangeError, 'address too short');
  throwsClass(() => dn.sendDatagrams(fd, [Buffer.from('x')], [Buffer.alloc(200)], 0, 1), RangeError, 'address too long');
  throwsClass(() => dn.sendDatagrams(fd, [Buffer.from('x')], [], 0, 1), RangeError, 'addrs shorter than datas');
  throwsClass(() => dn.sendDatagrams(fd, [Buffer.from('x')], [addr[0]!], 0, 2), RangeError, 'count past the end');
  throwsClass(() => dn.sendDatagrams(fd, [Buffer.from('x')], [addr[0]!], 2, 0), RangeError, 'start past the end');
  throwsClass(() => dn.datagramAddress(names, BATCH + 1, 16), RangeError, 'slot outside names');
  throwsClass(() => dn.datagramAddress(names, 0, SLOT + 1), RangeError, 'length above a slot');
  throwsClass(() => dn.setsockoptBytes(fd, SOL_SOCKET, SO_BROADCAST, 'x' as never), TypeError, 'value not bytes');
  throwsClass(() => dn.setsockoptBytes(fd, SOL_SOCKET, SO_BROADCAST, Buffer.alloc(2000)), RangeError, 'value too long');
  s.close();
});

test.run();
