// Transports under stress: resets, many clients, fd accounting, EMFILE on accept (LESSONS rows 1, 2, 10).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { connect, type Socket as NetSocket } from 'node:net';
import { writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Reactor } from '../src/loop/index.js';
import type { Protocol, Transport } from '../src/transports/index.js';
import '../src/transports/index.js';
import { openFdCount, withTimeout } from './helpers/index.js';
import { runBounded, settle } from './helpers/reactor.js';

const test = suite('transports-robustness');



const RESETS = ['ECONNRESET', 'EPIPE'];

test('peer reset during a pending write: connectionLost(err) once, no crash, no further callbacks', () => {
  const reactor = new Reactor();
  const reported: unknown[] = [];
  reactor.setExceptionHandler((_r, ctx) => reported.push(ctx));
  let serverT: Transport | undefined;
  const server = reactor.createServer(() => ({
    connectionMade(t: Transport) {
      serverT = t;
      t.pauseReading(); // unread data in our receive queue makes the close a RST
    },
  }));
  const events: string[] = [];
  let lostErr: any;
  const client: Protocol = {
    connectionMade(t) {
      events.push('made');
      t.setWriteBufferLimits({ high: 256 << 20 });
      t.write(Buffer.alloc(16 << 20, 3));
      assert.ok(t.getWriteBufferSize() > 0, 'write expected to be pending');
      reactor.callLater(100, () => serverT!.abort());
    },
    dataReceived: () => events.push('data'),
    eofReceived: () => void events.push('eof'),
    pauseWriting: () => events.push('pause'),
    resumeWriting: () => events.push('resume'),
    connectionLost(err) {
      events.push('lost');
      lostErr = err;
      reactor.callLater(200, () => reactor.stop()); // watch for stray callbacks
    },
  };
  const ct = reactor.createConnection(() => client, { host: '127.0.0.1', port: (server.address() as [string, number])[1] });
  assert.not.ok(runBounded(reactor, 10_000));
  assert.equal(events, ['made', 'lost']);
  assert.ok(RESETS.includes(lostErr?.code), `unexpected error ${lostErr}`);
  assert.is(ct.getWriteBufferSize(), 0);
  assert.is(ct.fileno(), -1);
  assert.throws(() => ct.write('x'), (e: any) => e.code === 'ERR_TRANSPORT_CLOSED');
  assert.equal(reported, [], 'a reset is ordinary: not reported');
  server.close();
  reactor.close();
});

test('peer closing with data still queued: the server gets connectionLost(err) once and keeps serving', () => {
  const reactor = new Reactor();
  const serverLost: any[] = [];
  const server = reactor.createServer(() => ({
    connectionMade(t: Transport) {
      t.setWriteBufferLimits({ high: 256 << 20 });
      t.write(Buffer.alloc(16 << 20, 4));
      assert.ok(t.getWriteBufferSize() > 0);
    },
    dataReceived() {},
    connectionLost(err: Error | null) {
      serverLost.push(err);
      reactor.callLater(100, () => reactor.stop());
    },
  }));
  const client: Protocol = {
    connectionMade(t) {
      t.pauseReading();
      reactor.callLater(100, () => t.abort()); // unread data: RST
    },
  };
  reactor.createConnection(() => client, { host: '127.0.0.1', port: (server.address() as [string, number])[1] });
  assert.not.ok(runBounded(reactor, 10_000));
  assert.is(serverLost.length, 1);
  assert.ok(RESETS.includes(serverLost[0]?.code), `unexpected ${serverLost[0]}`);
  assert.is(server.connections, 0);
  assert.not.ok(server.closed);
  server.close();
  settle(reactor);
  reactor.close();
});

test('200 concurrent clients x 100 messages of random sizes up to 64 KiB, verified by checksum', () => {
  const reactor = new Reactor();
  const started = Date.now();
  let failures = 0;
  reactor.setExceptionHandler((_r, ctx) => {
    failures++;
    console.error(ctx.message, ctx.exception);
  });
  const server = reactor.createServer(
    () => {
      let t: Transport;
      return {
        connectionMade: (tr: Transport) => void (t = tr),
        dataReceived: (d: Buffer) => t.write(d),
        pauseWriting: () => t.pauseReading(),
        resumeWriting: () => t.resumeReading(),
        eofReceived: () => false, // close() flushes what is left
      } satisfies Protocol;
    },
    { backlog: 511 },
  );
  const port = (server.address() as [string, number])[1];
  const pool = randomBytes(1 << 20);
  const CLIENTS = 200;
  const MESSAGES = 100;
  let done = 0;
  const results: { sentBytes: number; gotBytes: number; sent: string; got: string; err: Error | null }[] = [];
  for (let c = 0; c < CLIENTS; c++) {
    const sentHash = createHash('sha256');
    const gotHash = createHash('sha256');
    let sentBytes = 0;
    let gotBytes = 0;
    let m = 0;
    let paused = false;
    let t: Transport;
    const pump = () => {
      while (!paused && m < MESSAGES) {
        const size = 1 + Math.floor(Math.random() * 65536);
        const off = Math.floor(Math.random() * (pool.length - size));
        const msg = pool.subarray(off, off + size);
        sentHash.update(msg);
        sentBytes += size;
        m++;
        t.write(msg);
      }
      if (m === MESSAGES && !t.isClosing()) {
        m++;
        t.writeEof();
      }
    };
    reactor.createConnection(
      () => ({
        connectionMade(tr: Transport) {
          t = tr;
          pump();
        },
        dataReceived(d: Buffer) {
          gotHash.update(d);
          gotBytes += d.length;
        },
        eofReceived: () => false,
        pauseWriting: () => void (paused = true),
        resumeWriting() {
          paused = false;
          pump();
        },
        connectionLost(err: Error | null) {
          results.push({ sentBytes, gotBytes, sent: sentHash.digest('hex'), got: gotHash.digest('hex'), err });
          if (++done === CLIENTS) reactor.stop();
        },
      }),
      { host: '127.0.0.1', port },
    );
  }
  assert.not.ok(runBounded(reactor, 50_000), `time limit hit with ${done} clients done`);
  settle(reactor);
  assert.is(results.length, CLIENTS);
  for (const r of results) {
    assert.is(r.err, null);
    assert.is(r.gotBytes, r.sentBytes);
    assert.is(r.got, r.sent);
  }
  assert.is(failures, 0);
  assert.is(server.connections, 0);
  const total = results.reduce((a, r) => a + r.sentBytes, 0);
  console.log(`  200 x 100: ${(total / 1048576).toFixed(0)} MiB echoed in ${Date.now() - started} ms`);
  server.close();
  reactor.close();
});

test('2 000 connections opened and closed: fd count back to its starting value', () => {
  const before = openFdCount();
  const reactor = new Reactor();
  const server = reactor.createServer(() => {
    let t: Transport;
    return {
      connectionMade: (tr: Transport) => void (t = tr),
      dataReceived: (d: Buffer) => t.write(d),
    } satisfies Protocol;
  });
  const port = (server.address() as [string, number])[1];
  const TOTAL = 2000;
  const CONCURRENCY = 50;
  let started = 0;
  let finished = 0;
  let errors = 0;
  let peak = 0;
  const startOne = () => {
    started++;
    let t: Transport;
    reactor.createConnection(
      () => ({
        connectionMade(tr: Transport) {
          t = tr;
          t.write('x');
        },
        dataReceived: () => t.close(),
        connectionLost(err: Error | null) {
          if (err) errors++;
          finished++;
          if (started < TOTAL) startOne();
          else if (finished === TOTAL) reactor.stop();
        },
      }),
      { host: '127.0.0.1', port },
    );
    peak = Math.max(peak, server.connections);
  };
  for (let i = 0; i < CONCURRENCY; i++) startOne();
  assert.not.ok(runBounded(reactor, 30_000), `limit hit at ${finished}`);
  settle(reactor, 100);
  assert.is(finished, TOTAL);
  assert.is(errors, 0);
  assert.is(server.connections, 0);
  server.close();
  reactor.close();
  if (before >= 0) assert.is(openFdCount(), before, 'fds leaked');
});

// ---- EMFILE on accept, in a child with `ulimit -n 64` -----------------------------------------

const distSrc = fileURLToPath(new URL('../src/', import.meta.url));
const childScript = `
import { writeSync, readSync } from 'node:fs';
const { Reactor } = await import(${JSON.stringify(pathToFileURL(join(distSrc, 'loop/index.js')).href)});
await import(${JSON.stringify(pathToFileURL(join(distSrc, 'transports/index.js')).href)});
const say = (s) => writeSync(1, s + '\\n');
const reactor = new Reactor();
let reports = 0;
let other = 0;
let firstAt = null;
let accepted = 0;
const conns = new Set();
reactor.setExceptionHandler((_r, ctx) => {
  const code = ctx.exception && ctx.exception.code;
  if (code === 'EMFILE' || code === 'ENFILE') {
    reports++;
    if (firstAt === null) {
      firstAt = { wall: performance.now(), cpu: process.cpuUsage(), reports };
      reactor.callLater(1000, () => {
        const wall = performance.now() - firstAt.wall;
        const cpu = process.cpuUsage(firstAt.cpu);
        say('stuck ' + JSON.stringify({ wall, cpuMs: (cpu.user + cpu.system) / 1000, reports: reports - firstAt.reports + 1, accepted }));
      });
    }
  } else {
    other++;
    say('other ' + ctx.message + ' ' + (ctx.exception && ctx.exception.message));
  }
});
const server = reactor.createServer(() => {
  let t;
  return {
    connectionMade(tr) { t = tr; conns.add(t); accepted++; },
    dataReceived(d) { t.write(d); },
    connectionLost() { conns.delete(t); },
  };
}, { port: 0 });
reactor.connectReadPipe(() => ({
  dataReceived(d) {
    if (String(d).includes('quit')) {
      server.close();
      for (const t of conns) t.abort();
      reactor.callLater(20, () => reactor.stop());
    }
  },
}), 0);
reactor.callLater(30000, () => { say('child time limit'); reactor.stop(); });
say('port ' + server.address()[1]);
reactor.runForever();
reactor.close();
say('exit ' + JSON.stringify({ reports, other, accepted }));
`;

function openNet(port: number): Promise<NetSocket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

function echoOnce(port: number, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(msg));
    let got = '';
    s.on('data', (d) => {
      got += d;
      if (got.length >= msg.length) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', reject);
  });
}

test('EMFILE on accept: no busy loop, one report per pause, accepts again once fds are free', async () => {
  const scriptPath = join(tmpdir(), `selectloop-emfile-${process.pid}.mjs`);
  writeFileSync(scriptPath, childScript);
  const child = spawn('sh', ['-c', `ulimit -n 64 && exec "${process.execPath}" "${scriptPath}"`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  child.stdout.on('data', (d) => {
    out += d;
    for (const w of [...waiters]) {
      const m = w.re.exec(out);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  const waitFor = (re: RegExp, ms: number, what: string) =>
    withTimeout(
      new Promise<RegExpExecArray>((resolve) => {
        const m = re.exec(out);
        if (m) resolve(m);
        else waiters.push({ re, resolve });
      }),
      ms,
      `${what} (child stdout: ${out} stderr: ${err})`,
    );
  const sockets: NetSocket[] = [];
  try {
    const port = Number((await waitFor(/port (\d+)/, 10_000, 'child port'))[1]);
    for (let i = 0; i < 100; i++) sockets.push(await openNet(port));
    const stuck = JSON.parse((await waitFor(/stuck (\{.*\})/, 10_000, 'EMFILE in the child'))[1]!);
    console.log(`  stuck at EMFILE: ${JSON.stringify(stuck)}`);
    assert.ok(stuck.accepted > 0 && stuck.accepted < 64, `accepted ${stuck.accepted}`);
    assert.ok(stuck.reports >= 1 && stuck.reports <= 6, `exception handler called ${stuck.reports} times in ~1 s (busy loop?)`);
    assert.ok(stuck.cpuMs < 0.25 * stuck.wall, `CPU ${stuck.cpuMs} ms over ${stuck.wall} ms of being stuck`);
    for (const s of sockets) s.destroy();
    sockets.length = 0;
    // The retry timer re-arms the listener (backoff at most 1 s); then new clients are served.
    const back = await withTimeout(echoOnce(port, 'alive after EMFILE'), 5000, 'echo after EMFILE');
    assert.is(back, 'alive after EMFILE');
    child.stdin.write('quit\n');
    assert.is(await withTimeout(exited, 10_000, 'child exit'), 0);
    const summary = JSON.parse(/exit (\{.*\})/.exec(out)![1]!);
    assert.is(summary.other, 0, out);
    assert.ok(summary.accepted >= 100, `server accepted ${summary.accepted}`);
    assert.ok(summary.reports < 20, `reports ${summary.reports}`);
  } finally {
    for (const s of sockets) s.destroy();
    if (child.exitCode === null) child.kill('SIGKILL');
    try {
      unlinkSync(scriptPath);
    } catch {
      // gone
    }
  }
});

test.run();
