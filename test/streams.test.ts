// Streams (asyncio.streams): StreamReader semantics fed directly, then openConnection/startServer
// end to end with flow control both ways, connection loss, and AbortSignal at every await point.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExceptionContext } from '../src/loop/index.js';
import {
  StreamReader, StreamWriter, IncompleteReadError, LimitOverrunError, ValueError, type Server,
} from '../src/transports/index.js';
import { hostResolver } from '../src/transports/host-resolver.js';
import { openFdCount } from './helpers/index.js';
import { reader, rejection, run, sleep } from './helpers/streams.js';

const unit = suite('stream-reader');
const e2e = suite('streams');
const fdsAtStart = openFdCount();
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');


/** Feeds chunks one macrotask apart, so reads really wait between them. */
async function feedLater(r: StreamReader, chunks: Array<string | Buffer>, eof = true): Promise<void> {
  for (const c of chunks) {
    await new Promise((resolve) => setImmediate(resolve));
    r.feedData(typeof c === 'string' ? Buffer.from(c) : c);
  }
  await new Promise((resolve) => setImmediate(resolve));
  if (eof) r.feedEof();
}

unit('read(-1) reads to EOF across chunks; at EOF an empty Buffer; read(n) gives at most n', async () => {
  const [r] = reader();
  const feeding = feedLater(r, ['ab', 'cd', 'ef']);
  assert.is((await r.read(-1)).toString(), 'abcdef');
  await feeding;
  assert.is((await r.read()).length, 0);
  assert.ok(r.atEof());
  const [r2] = reader();
  r2.feedData(Buffer.from('hello'));
  assert.is((await r2.read(2)).toString(), 'he');
  assert.is((await r2.read(100)).toString(), 'llo');
  assert.is((await r2.read(0)).length, 0);
});

unit('read(-1) of 10 × limit and readExactly(3 × limit) complete: a waiting read resumes the paused transport', async () => {
  const limit = 16;
  const [r, t] = reader(limit);
  const big = randomBytes(10 * limit);
  for (let i = 0; i < big.length; i += 8) r.feedData(big.subarray(i, i + 8));
  assert.is(t.reading, false, 'paused above 2 × limit');
  assert.is(t.pauses, 1);
  const reading = r.read(-1);
  r.feedEof();
  assert.equal(await reading, big);
  const [r2, t2] = reader(limit);
  const exact = r2.readExactly(3 * limit);
  const data = randomBytes(3 * limit);
  for (let i = 0; i < data.length; i += 8) {
    r2.feedData(data.subarray(i, i + 8));
    await Promise.resolve();
  }
  assert.equal(await exact, data);
  assert.ok(t2.resumes >= 1, 'resumed by the waiting read');
});

unit('the transport pauses above 2 × limit unread and resumes at limit', async () => {
  const [r, t] = reader(10);
  r.feedData(Buffer.alloc(20));
  assert.is(t.pauses, 0, '2 × limit exactly: still reading');
  r.feedData(Buffer.alloc(1));
  assert.is(t.pauses, 1);
  await r.read(5); // 16 left > limit
  assert.is(t.resumes, 0);
  await r.read(6); // 10 left = limit
  assert.is(t.resumes, 1);
});

unit('readLine: through "\\n"; the partial last line at EOF; then empty', async () => {
  const [r] = reader();
  const feeding = feedLater(r, ['one\ntw', 'o\nthr', 'ee']);
  assert.is((await r.readLine()).toString(), 'one\n');
  assert.is((await r.readLine()).toString(), 'two\n');
  assert.is((await r.readLine()).toString(), 'three');
  assert.is((await r.readLine()).length, 0);
  await feeding;
});

unit('for await yields each line, the partial last one included', async () => {
  const [r] = reader();
  const feeding = feedLater(r, ['a\nb', '\n', 'c']);
  const lines: string[] = [];
  for await (const line of r) lines.push(line.toString());
  assert.equal(lines, ['a\n', 'b\n', 'c']);
  await feeding;
});

unit('readUntil table: straddling separator; ending at limit, limit + 1 and past it; earliest of several wins', async () => {
  {
    const [r] = reader();
    const p = r.readUntil('\r\n');
    r.feedData(Buffer.from('abc\r'));
    await Promise.resolve();
    r.feedData(Buffer.from('\ndef'));
    assert.is((await p).toString(), 'abc\r\n', 'a separator split across chunks is found');
  }
  const L = 8;
  {
    const [r] = reader(L);
    r.feedData(Buffer.from('x'.repeat(L) + '\n'));
    assert.is((await r.readUntil('\n')).length, L + 1, 'L bytes before the separator: allowed');
  }
  {
    const [r] = reader(L);
    r.feedData(Buffer.from('x'.repeat(L + 1) + '\nrest'));
    const err = (await rejection(r.readUntil('\n'))) as LimitOverrunError;
    assert.instance(err, LimitOverrunError);
    assert.is(err.consumed, L + 1);
    assert.is(r.bufferedBytes, L + 6, 'the data stays buffered');
    await r.readExactly(err.consumed + 1); // skip past it as the caller may
    r.feedEof();
    assert.is((await r.read()).toString(), 'rest');
  }
  {
    const [r] = reader(L);
    const p = r.readUntil('\n');
    r.feedData(Buffer.from('y'.repeat(L + 5)));
    const err = (await rejection(p)) as LimitOverrunError;
    assert.instance(err, LimitOverrunError);
    assert.match(err.message, /not found/);
    assert.is(err.consumed, L + 5, 'no separator: consumed = buffered + 1 - separator length');
  }
  {
    const [r] = reader();
    r.feedData(Buffer.from('key=value;next\n'));
    assert.is((await r.readUntil(['\n', ';', '='])).toString(), 'key=', 'earliest match wins');
    assert.is((await r.readUntil([Buffer.from(';n')])).toString(), 'value;n');
    // A Uint8Array is one separator, never a list of byte separators (cpython#117722).
    assert.is((await r.readUntil(Buffer.from('t\n'))).toString(), 'ext\n');
  }
  {
    const [r] = reader();
    r.feedData(Buffer.from('no separator'));
    r.feedEof();
    const err = (await rejection(r.readUntil('\n'))) as IncompleteReadError;
    assert.instance(err, IncompleteReadError);
    assert.is(err.partial.toString(), 'no separator');
    assert.is(err.expected, null);
    assert.is(r.bufferedBytes, 0, 'cleared');
  }
  {
    const [r] = reader();
    assert.instance(await rejection(r.readUntil('')), ValueError);
    assert.instance(await rejection(r.readUntil([])), ValueError);
  }
});

unit('readLine over the limit: ValueError, and the long line is dropped (with its separator when it came)', async () => {
  const [r] = reader(4);
  r.feedData(Buffer.from('toolong\nok\n'));
  assert.instance(await rejection(r.readLine()), ValueError);
  assert.is((await r.readLine()).toString(), 'ok\n');
  const [r2] = reader(4);
  r2.feedData(Buffer.from('abcdefghij'));
  assert.instance(await rejection(r2.readLine()), ValueError);
  assert.is(r2.bufferedBytes, 0, 'no separator yet: the buffer is cleared');
});

unit('readExactly: IncompleteReadError with partial and expected at EOF', async () => {
  const [r] = reader();
  const p = r.readExactly(10);
  r.feedData(Buffer.from('1234'));
  r.feedEof();
  const err = (await rejection(p)) as IncompleteReadError;
  assert.instance(err, IncompleteReadError);
  assert.is(err.partial.toString(), '1234');
  assert.is(err.expected, 10);
  assert.is(r.bufferedBytes, 0);
  assert.ok(r.atEof());
  assert.instance(await rejection(r.readExactly(-1)), ValueError);
});

unit('two reads waiting at once: the second rejects ERR_READ_BUSY', async () => {
  const [r] = reader();
  const first = r.read(5);
  const err = (await rejection(r.readLine())) as { code: string };
  assert.is(err.code, 'ERR_READ_BUSY');
  r.feedData(Buffer.from('x'));
  assert.is((await first).toString(), 'x');
});

unit('an error fails the waiting read and every later one', async () => {
  const [r] = reader();
  const p = r.readExactly(3);
  const boom = new Error('reset');
  r.setException(boom);
  assert.is(await rejection(p), boom);
  assert.is(await rejection(r.read()), boom);
  assert.is(r.exception(), boom);
});

unit('AbortSignal at each read: rejects with the reason, consumes nothing, leaves no listener', async () => {
  const reads: Array<[string, (r: StreamReader, s: AbortSignal) => Promise<Buffer>]> = [
    ['read', (r, signal) => r.read(10, { signal })],
    ['read(-1)', (r, signal) => r.read(-1, { signal })],
    ['readLine', (r, signal) => r.readLine({ signal })],
    ['readUntil', (r, signal) => r.readUntil('!', { signal })],
    ['readExactly', (r, signal) => r.readExactly(100, { signal })],
  ];
  for (const [name, start] of reads) {
    const [r] = reader(4);
    // read(n) would return buffered bytes at once; read(-1) takes them and must put them back.
    if (name !== 'read') r.feedData(Buffer.from('ab'));
    const ac = new AbortController();
    const p = start(r, ac.signal);
    await new Promise((resolve) => setImmediate(resolve));
    const reason = new Error(`abort ${name}`);
    ac.abort(reason);
    assert.is(await rejection(p), reason, name);
    assert.is(getEventListeners(ac.signal, 'abort').length, 0, `${name}: listener removed`);
    r.feedData(Buffer.from(name === 'read' ? 'abcd!' : 'cd!'));
    r.feedEof();
    assert.is((await r.read()).toString(), 'abcd!', `${name}: nothing lost`);
    assert.is(await rejection(start(r, AbortSignal.abort(reason))), reason, `${name}: already aborted`);
  }
});

// ---- end to end ------------------------------------------------------------------------------


/** Stops listening and aborts the server side of every connection still open. */
function closeServer(server: Server): void {
  server.abortClients();
  server.close();
}


e2e('startServer + openConnection: line echo with for await, 1 MiB byte-exact, clean close', () =>
  run(async (reactor) => {
    const server = reactor.startServer(async (reader, writer) => {
      for await (const line of reader) {
        writer.write(line);
        await writer.drain();
      }
      writer.close();
    });
    const [, port] = server.address() as [string, number];
    const [reader, writer] = await reactor.openConnection({ host: '127.0.0.1', port });
    assert.instance(writer, StreamWriter);
    const lines = Array.from({ length: 2000 }, (_, i) => `${i}:${randomBytes(256).toString('hex')}\n`);
    const payload = Buffer.from(lines.join(''));
    writer.write(payload);
    writer.writeEof();
    const echoed = await reader.read(-1);
    assert.is(sha(echoed), sha(payload));
    writer.close();
    await writer.waitClosed();
    closeServer(server);
    await sleep(reactor, 5);
    assert.is(server.connections, 0);
  }));

e2e('a throwing or rejecting client callback reaches the exception handler and closes only its connection', () =>
  run(async (reactor) => {
    const reported: ExceptionContext[] = [];
    reactor.setExceptionHandler((_r, ctx) => reported.push(ctx));
    let n = 0;
    const server = reactor.startServer(async (reader, writer) => {
      const which = n++;
      if (which === 0) throw new Error('sync-ish throw');
      if (which === 1) {
        await reader.readLine();
        throw new Error('rejected later');
      }
      for await (const line of reader) writer.write(line);
      writer.close();
    });
    const [, port] = server.address() as [string, number];
    const [r0, w0] = await reactor.openConnection({ port });
    const [r1, w1] = await reactor.openConnection({ port });
    const [r2, w2] = await reactor.openConnection({ port });
    w1.write('go\n');
    assert.is((await r0.read()).length, 0, 'connection 0 closed');
    assert.is((await r1.read()).length, 0, 'connection 1 closed');
    w2.write('still here\n');
    assert.is((await r2.readLine()).toString(), 'still here\n');
    assert.equal(
      reported.map((c) => String((c.exception as Error).message)),
      ['sync-ish throw', 'rejected later'],
    );
    for (const w of [w0, w1, w2]) w.close();
    await Promise.all([w0, w1, w2].map((w) => w.waitClosed()));
    closeServer(server);
  }));

e2e('drain: at once below the high-water mark; N concurrent drains all resolve when the peer reads', () =>
  run(async (reactor) => {
    let peer: { reader: StreamReader; writer: StreamWriter } | undefined;
    const server = reactor.startServer((reader, writer) => {
      writer.transport.pauseReading(); // no read-ahead either: reads only when the test says so
      peer = { reader, writer };
    });
    const [, port] = server.address() as [string, number];
    const [, writer] = await reactor.openConnection({ port });
    writer.write('small');
    await writer.drain(); // far below 64 KiB
    writer.transport.setWriteBufferLimits({ high: 1024, low: 256 });
    const chunk = Buffer.alloc(64 * 1024, 1);
    let written = 0;
    while (writer.transport.getWriteBufferSize() <= 1024) {
      writer.write(chunk);
      written += chunk.length;
    }
    let settled = 0;
    const drains = Array.from({ length: 5 }, () => writer.drain().then(() => void settled++));
    await sleep(reactor, 5);
    assert.is(settled, 0, 'above the mark: waiting');
    while (peer === undefined) await sleep(reactor, 0);
    peer.writer.transport.resumeReading();
    const got = await peer.reader.readExactly(written + 5);
    assert.is(got.length, written + 5);
    await Promise.all(drains);
    assert.is(settled, 5);
    writer.close();
    peer.writer.close();
    await writer.waitClosed();
    closeServer(server);
  }));

e2e('connection lost during drain() and during readExactly(): every waiter rejects at once', () =>
  run(async (reactor) => {
    const peers: Array<{ reader: StreamReader; writer: StreamWriter }> = [];
    const server = reactor.startServer((reader, writer) => {
      // The peer reads nothing, so our write buffer cannot drain below the mark meanwhile.
      writer.transport.pauseReading();
      peers.push({ reader, writer });
    });
    const [, port] = server.address() as [string, number];
    const [reader, writer] = await reactor.openConnection({ port });
    writer.transport.setWriteBufferLimits({ high: 1024 });
    const chunk = Buffer.alloc(256 * 1024, 2);
    while (writer.transport.getWriteBufferSize() <= 1024) writer.write(chunk);
    const drains = Array.from({ length: 3 }, () => rejection(writer.drain()));
    const exact = rejection(reader.readExactly(10));
    while (peers.length === 0) await sleep(reactor, 0);
    // The peer goes away with our data unread: a reset.
    peers[0]!.writer.write('12345');
    await sleep(reactor, 5);
    peers[0]!.writer.transport.abort();
    const errors = await Promise.all(drains);
    for (const err of errors) assert.match(String((err as { code?: string }).code), /ECONNRESET|EPIPE/);
    const readErr = await exact;
    // Either the reset itself, or EOF first with what had arrived.
    if (readErr instanceof IncompleteReadError) assert.is(readErr.partial.toString(), '12345');
    else assert.match(String((readErr as { code?: string }).code), /ECONNRESET|EPIPE/);
    assert.instance(await rejection(writer.drain()), Error, 'drain after the loss rejects at once');
    writer.close();
    closeServer(server);
  }));

e2e('the peer closing cleanly mid-readExactly gives IncompleteReadError with the partial bytes', () =>
  run(async (reactor) => {
    const server = reactor.startServer(async (_reader, writer) => {
      writer.write('abc');
      writer.close();
    });
    const [, port] = server.address() as [string, number];
    const [reader, writer] = await reactor.openConnection({ port });
    const err = (await rejection(reader.readExactly(100))) as IncompleteReadError;
    assert.instance(err, IncompleteReadError);
    assert.is(err.partial.toString(), 'abc');
    assert.is(err.expected, 100);
    writer.close();
    await writer.waitClosed();
    closeServer(server);
  }));

e2e('the reader pauses its transport while more than 2 × limit waits unread, and gets every byte after', () =>
  run(async (reactor) => {
    const data = randomBytes(512 * 1024);
    const server = reactor.startServer(async (_reader, writer) => {
      writer.write(data);
      await writer.drain();
      writer.close();
    });
    const [, port] = server.address() as [string, number];
    const limit = 4096;
    const [reader, writer] = await reactor.openConnection({ port }, { limit });
    while (reader.bufferedBytes <= 2 * limit) await sleep(reactor, 1);
    await sleep(reactor, 10);
    assert.is(writer.transport.isReading(), false, 'paused');
    assert.ok(reader.bufferedBytes <= 2 * limit + 256 * 1024, 'bounded by one read past the mark');
    const all = await reader.read(-1);
    assert.is(sha(all), sha(data));
    writer.close();
    await writer.waitClosed();
    closeServer(server);
  }));

e2e('drain() and openConnection() honour AbortSignal; nothing is left listening', () =>
  run(async (reactor) => {
    const server = reactor.startServer(() => undefined);
    const [, port] = server.address() as [string, number];
    const [, writer] = await reactor.openConnection({ port });
    writer.transport.setWriteBufferLimits({ high: 1024 });
    const chunk = Buffer.alloc(256 * 1024);
    while (writer.transport.getWriteBufferSize() <= 1024) writer.write(chunk);
    const ac = new AbortController();
    const d = writer.drain({ signal: ac.signal });
    ac.abort(new Error('enough'));
    assert.match(String(await rejection(d)), /enough/);
    assert.is(getEventListeners(ac.signal, 'abort').length, 0);
    writer.transport.abort();

    // Abort while the host name is still resolving: held on purpose, so it is in flight.
    const resolver = hostResolver(reactor);
    resolver.hold(true);
    const ac2 = new AbortController();
    const opening = reactor.openConnection({ host: 'localhost', port }, { signal: ac2.signal });
    await sleep(reactor, 5);
    ac2.abort(new Error('gave up'));
    assert.match(String(await rejection(opening)), /gave up/);
    resolver.hold(false);
    assert.is(getEventListeners(ac2.signal, 'abort').length, 0);
    assert.match(String(await rejection(reactor.openConnection({ port }, { signal: AbortSignal.abort() }))), /AbortError|aborted/);
    closeServer(server);
    await sleep(reactor, 10);
  }));

e2e('openConnection failures reject: refused, unknown host', () =>
  run(async (reactor) => {
    const server = reactor.startServer(() => undefined);
    const [, port] = server.address() as [string, number];
    closeServer(server);
    const refused = (await rejection(reactor.openConnection({ port }))) as { code: string };
    assert.is(refused.code, 'ECONNREFUSED');
    const unknown = (await rejection(reactor.openConnection({ host: 'no-such-host.invalid', port: 80 }))) as { code: string; hostname: string };
    assert.ok(['ENOTFOUND', 'EAI_AGAIN'].includes(unknown.code), unknown.code);
    assert.is(unknown.hostname, 'no-such-host.invalid');
    assert.instance(await rejection(reactor.openConnection({ port }, { limit: 0 })), ValueError);
  }));

e2e('over a Unix socket path too', () =>
  run(async (reactor) => {
    const path = join(tmpdir(), `selectloop-streams-${process.pid}.sock`);
    const server = reactor.startServer(async (reader, writer) => {
      writer.write((await reader.readUntil('.')).toString().toUpperCase());
      writer.close();
    }, { path });
    const [reader, writer] = await reactor.openConnection({ path });
    writer.write('unix.');
    assert.is((await reader.read()).toString(), 'UNIX.');
    writer.close();
    await writer.waitClosed();
    closeServer(server);
    assert.not.ok(existsSync(path), 'the socket file is removed');
  }));

e2e('no fd left open', () => {
  if (fdsAtStart >= 0) assert.is(openFdCount(), fdsAtStart, readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return fd; } }).join(' '));
});

unit.run();
e2e.run();
