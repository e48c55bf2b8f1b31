// StreamReader edge cases that mutation testing showed the broader streams tests let through:
// which reads are views of the fed memory, separator search boundaries, joins past 4 KiB, the
// state an aborted read leaves behind, and a seeded model run of mixed reads over random chunking.
// (Its own file: the Stryker runner treats each test file as one test, so adding here keeps the
// mutants streams.test.ts already killed from being tested again.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { StreamReader, IncompleteReadError, LimitOverrunError, ValueError, type Transport } from '../src/transports/index.js';
import { prng } from './helpers/reactor.js';
import { reader, rejection } from './helpers/streams.js';

const test = suite('stream-reader edges');


/** Lets every pending promise continuation run (no timers). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a read inside one fed chunk is a view of it, also when it ends exactly at the chunk end', async () => {
  const [r] = reader();
  const a = Buffer.from('ab');
  const b = Buffer.from('cd\n');
  r.feedData(a);
  r.feedData(b);
  const first = await r.read(2);
  assert.is(first.buffer, a.buffer, 'the whole first chunk: a view of it, not a join');
  assert.is(first.byteOffset, a.byteOffset);
  const line = await r.readUntil('\n');
  assert.is(line.toString(), 'cd\n');
  assert.is(line.buffer, b.buffer, 'the next chunk, read after the first was used up: a view too');
  assert.is(line.byteOffset, b.byteOffset);
});

test('a Uint8Array that is not a Buffer is read back as a Buffer', async () => {
  const [r] = reader();
  const backing = new Uint8Array([0x78, 0x68, 0x69, 0x0a, 0x79]);
  r.feedData(backing.subarray(1, 4));
  const line = await r.readLine();
  assert.ok(Buffer.isBuffer(line));
  assert.is(line.toString(), 'hi\n');
  r.feedData(new Uint8Array([0x7a]));
  const one = await r.read(1);
  assert.ok(Buffer.isBuffer(one));
  assert.is(one.toString(), 'z');
});

test('an empty feed wakes no read with nothing: the read keeps waiting for real data', async () => {
  const [r] = reader();
  let got: Buffer | undefined;
  const reading = r.read(10).then((b) => (got = b));
  r.feedData(Buffer.alloc(0));
  r.feedData(new Uint8Array(0));
  await settle();
  assert.is(got, undefined, 'still waiting');
  assert.is(r.bufferedBytes, 0);
  r.feedData(Buffer.from('x'));
  await reading;
  assert.is(got!.toString(), 'x');
});

test('read(n) checks n: a fraction or a non-number is a TypeError, nothing consumed', async () => {
  const [r] = reader();
  r.feedData(Buffer.from('abc'));
  const err = (await rejection(r.read(1.5))) as Error;
  assert.instance(err, TypeError);
  assert.is(err.message, 'n must be an integer, got 1.5');
  assert.instance(await rejection(r.read('2' as unknown as number)), TypeError);
  assert.instance(await rejection(r.read(NaN)), TypeError);
  assert.is(r.bufferedBytes, 3);
  assert.is((await r.read(3)).toString(), 'abc');
});

test('readExactly checks n: fractions and non-numbers are ValueErrors; readExactly(0) is empty at once', async () => {
  const [r] = reader();
  const err = (await rejection(r.readExactly(0.5))) as Error;
  assert.instance(err, ValueError);
  assert.is(err.message, 'readExactly size must be a non-negative integer, got 0.5');
  assert.instance(await rejection(r.readExactly('1' as unknown as number)), ValueError);
  assert.is((await r.readExactly(0)).length, 0, 'nothing buffered, yet no wait');
});

test('the limit must be a positive integer', () => {
  for (const bad of [0, -1, 1.5, NaN, Infinity, '8']) {
    assert.throws(
      () => new StreamReader({ limit: bad as number }),
      (e: unknown) => e instanceof ValueError && (e as Error).message === `limit must be a positive integer, got ${String(bad)}`,
      String(bad),
    );
  }
  assert.is(new StreamReader({ limit: 1 }).limit, 1);
  assert.is(new StreamReader().limit, 64 * 1024);
});

test('readUntil finds a separator that arrives as the only new byte (buffer - offset = its length)', async () => {
  const [r] = reader();
  const p = r.readUntil('\n');
  r.feedData(Buffer.from('x'));
  await settle();
  r.feedData(Buffer.from('\n'));
  await settle();
  r.feedEof();
  assert.is((await p).toString(), 'x\n', 'found before EOF, not an IncompleteReadError');
});

test('readUntil with separators of different lengths: a short one alone in a short buffer is found, a long one straddling chunks too', async () => {
  {
    const [r] = reader();
    r.feedData(Buffer.from('a\n'));
    r.feedEof();
    // Two bytes buffered, the longer separator has three: the shorter one still matches.
    assert.is((await r.readUntil(['END', '\n'])).toString(), 'a\n');
  }
  {
    const [r] = reader();
    const p = r.readUntil(['!', 'END']);
    r.feedData(Buffer.from('aEN'));
    await settle();
    r.feedData(Buffer.from('D'));
    await settle();
    r.feedEof();
    assert.is((await p).toString(), 'aEND', 'the search restarts len(longest) - 1 bytes back');
  }
  {
    // Two separators matching at the same place: the first one listed wins.
    const [r] = reader();
    r.feedData(Buffer.from('a\r\nb'));
    assert.is((await r.readUntil(['\r', '\r\n'])).toString(), 'a\r');
    assert.is((await r.readUntil(['\nb', '\n'])).toString(), '\nb');
  }
});

test('readUntil: exactly limit bytes searched without a separator keeps waiting; limit + 1 overruns', async () => {
  const L = 8;
  {
    const [r] = reader(L);
    const p = r.readUntil('\n');
    r.feedData(Buffer.from('x'.repeat(L)));
    await settle();
    r.feedData(Buffer.from('\n'));
    assert.is((await p).toString(), 'x'.repeat(L) + '\n');
  }
  {
    const [r] = reader(L);
    const p = r.readUntil('\n');
    r.feedData(Buffer.from('x'.repeat(L + 1)));
    const err = (await rejection(p)) as LimitOverrunError;
    assert.instance(err, LimitOverrunError);
    assert.is(err.consumed, L + 1);
    assert.is(err.message, 'Separator is not found, and chunk exceed the limit');
    assert.is(r.bufferedBytes, L + 1);
  }
  {
    const [r] = reader(L);
    r.feedData(Buffer.from('x'.repeat(L + 1) + '\n'));
    const err = (await rejection(r.readUntil('\n'))) as LimitOverrunError;
    assert.instance(err, LimitOverrunError);
    assert.is(err.consumed, L + 1);
    assert.is(err.message, 'Separator is found, but chunk is longer than limit');
  }
});

test('readLine past the limit with the newline exactly at the end of the buffer drops the line and the newline', async () => {
  const [r] = reader(4);
  r.feedData(Buffer.from('abcdefg\n'));
  assert.instance(await rejection(r.readLine()), ValueError);
  assert.is(r.bufferedBytes, 0);
  r.feedData(Buffer.from('ok\n'));
  assert.is((await r.readLine()).toString(), 'ok\n');
});

test('readUntil: a separator found early is kept when a later one in the list is not found', async () => {
  const [r] = reader();
  r.feedData(Buffer.from('a\nb'));
  r.feedEof();
  assert.is((await r.readUntil(['\n', 'X'])).toString(), 'a\n');
  assert.is((await r.read()).toString(), 'b');
});

test('readLine over the limit when more data came meanwhile: the newline is dropped only if it is the next byte', async () => {
  {
    const [r] = reader(4);
    r.feedData(Buffer.from('abcdefghij'));
    const p = rejection(r.readLine());
    r.feedData(Buffer.from('Xok\n')); // before readLine handles the overrun
    assert.instance(await p, ValueError);
    assert.is(r.bufferedBytes, 0, 'no newline next: everything buffered is dropped');
  }
  {
    const [r] = reader(4);
    r.feedData(Buffer.from('abcdefghij'));
    const p = rejection(r.readLine());
    r.feedData(Buffer.from('\nok\n'));
    assert.instance(await p, ValueError);
    assert.is(r.bufferedBytes, 3, 'the long line and its newline dropped');
    assert.is((await r.readLine()).toString(), 'ok\n');
  }
});

test('a second read while one waits: ERR_READ_BUSY naming the second read', async () => {
  const seconds: Array<[string, (r: StreamReader) => Promise<Buffer>]> = [
    ['read', (r) => r.read(1)],
    ['read', (r) => r.read(-1)],
    ['readUntil', (r) => r.readUntil('x')],
    ['readUntil', (r) => r.readLine()],
    ['readExactly', (r) => r.readExactly(1)],
  ];
  for (const [what, second] of seconds) {
    const [r] = reader();
    const first = r.read(5);
    const err = (await rejection(second(r))) as Error & { code?: string };
    assert.is(err.code, 'ERR_READ_BUSY');
    assert.is(err.message, `${what}() called while another read is already waiting for data on this StreamReader`);
    r.feedData(Buffer.from('y'));
    assert.is((await first).toString(), 'y');
  }
});

test('after a waiting read resumed the transport, the next flood pauses it again', async () => {
  const [r, t] = reader(4);
  r.feedData(Buffer.alloc(10, 1)); // > 2 × limit
  assert.is(t.pauses, 1);
  const p = r.readExactly(30);
  assert.is(t.resumes, 1, 'the read has to wait: resumed');
  r.feedData(Buffer.alloc(10, 2));
  assert.is(t.pauses, 2, 'above 2 × limit again: paused again');
  await settle();
  assert.is(t.resumes, 2, 'still waiting: resumed again');
  r.feedData(Buffer.alloc(10, 3));
  assert.is(t.pauses, 3);
  const got = await p;
  assert.ok(got.equals(Buffer.concat([Buffer.alloc(10, 1), Buffer.alloc(10, 2), Buffer.alloc(10, 3)])));
  assert.is(t.resumes, 3, 'read down to the limit: resumed');
  assert.is(t.reading, true);
});

test('a line trickling in is joined into one store that doubles when full, not copied afresh per piece', async () => {
  const real = Buffer.allocUnsafeSlow;
  const sizes: number[] = [];
  Buffer.allocUnsafeSlow = ((n: number) => {
    sizes.push(n);
    return real(n);
  }) as typeof Buffer.allocUnsafeSlow;
  try {
    const [r] = reader(64 * 1024);
    const p = r.readUntil('\n');
    r.feedData(Buffer.from('a'));
    await settle();
    r.feedData(Buffer.from('b'));
    await settle();
    assert.equal(sizes, [4096], 'the first join: a 4 KiB store');
    r.feedData(Buffer.alloc(4094, 0x63));
    await settle();
    assert.equal(sizes, [4096], 'filled exactly: still the same store');
    r.feedData(Buffer.from('d'));
    await settle();
    assert.equal(sizes, [4096, 2 * 4097], 'full: a store of twice what is buffered');
    for (let i = 0; i < 100; i++) {
      r.feedData(Buffer.from('e'));
      await settle();
    }
    assert.equal(sizes, [4096, 2 * 4097], 'the rest fits');
    r.feedData(Buffer.from('\n'));
    const line = await p;
    assert.ok(line.equals(Buffer.concat([Buffer.from('ab'), Buffer.alloc(4094, 0x63), Buffer.from('d'), Buffer.alloc(100, 0x65), Buffer.from('\n')])));
  } finally {
    Buffer.allocUnsafeSlow = real;
  }
});

test('a line trickling in byte by byte past 4 KiB, then more lines: every byte in order', async () => {
  const [r] = reader(64 * 1024);
  const long = Buffer.alloc(10_000);
  for (let i = 0; i < long.length; i++) long[i] = 0x41 + (i % 26);
  const p = r.readUntil('\n');
  for (let i = 0; i < long.length; i += 7) {
    r.feedData(long.subarray(i, Math.min(i + 7, long.length)));
    if (i % 700 === 0) await settle();
  }
  r.feedData(Buffer.from('\nsecond '));
  const line = await p;
  assert.is(line.length, long.length + 1);
  assert.ok(line.subarray(0, long.length).equals(long));
  const p2 = r.readUntil('\n');
  for (const c of ['li', 'ne', ' trick', 'les\nthi', 'rd\n']) {
    r.feedData(Buffer.from(c));
    await settle();
  }
  assert.is((await p2).toString(), 'second line trickles\n');
  assert.is((await r.readLine()).toString(), 'third\n');
  assert.is(r.bufferedBytes, 0);
});

test('readExactly of 10 000 bytes fed 100 at a time is byte-exact (a join larger than 4 KiB)', async () => {
  const [r] = reader(64 * 1024);
  const data = Buffer.alloc(10_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
  for (let i = 0; i < data.length; i += 100) r.feedData(data.subarray(i, i + 100));
  const got = await r.readExactly(data.length);
  assert.ok(got.equals(data));
});

test('an aborted wait leaves no read pending: the next read waits instead of failing ERR_READ_BUSY', async () => {
  const [r] = reader();
  const ac = new AbortController();
  const p = r.readLine({ signal: ac.signal });
  await settle();
  ac.abort(new Error('stop'));
  assert.match(String(await rejection(p)), /stop/);
  const next = r.read(5);
  r.feedData(Buffer.from('after'));
  assert.is((await next).toString(), 'after');
  // read(-1) aborted before it collected anything puts nothing back: the next read is a view again.
  const ac2 = new AbortController();
  const all = r.read(-1, { signal: ac2.signal });
  await settle();
  ac2.abort(new Error('stop'));
  await rejection(all);
  const fed = Buffer.from('view please');
  r.feedData(fed);
  const got = await r.read(4);
  assert.is(got.toString(), 'view');
  assert.is(got.buffer, fed.buffer);
  assert.is(got.byteOffset, fed.byteOffset);
});

test('read(-1) aborted between blocks puts back exactly what it had taken', async () => {
  const [r] = reader(4);
  r.feedData(Buffer.from('abcdefghij'));
  const ac = new AbortController();
  const reason = new Error('between blocks');
  const p = r.read(-1, { signal: ac.signal });
  ac.abort(reason); // the first block is taken; the next one sees the abort
  assert.is(await rejection(p), reason);
  assert.is(r.bufferedBytes, 10);
  r.feedEof();
  assert.is((await r.read()).toString(), 'abcdefghij');
});

test('read(-1) aborted after taking a whole chunk and part of the next puts both back in order', async () => {
  const [r] = reader(4);
  r.feedData(Buffer.from('abcd'));
  const ac = new AbortController();
  const reason = new Error('mid-chunk');
  const p = r.read(-1, { signal: ac.signal });
  await settle(); // 'abcd' taken; waiting for more
  r.feedData(Buffer.from('efghij'));
  ac.abort(reason); // 'efgh' is taken next, then the abort is seen with 'ij' still buffered
  assert.is(await rejection(p), reason);
  assert.is(r.bufferedBytes, 10);
  r.feedEof();
  assert.is((await r.read()).toString(), 'abcdefghij');
});

test('readLine over the limit when another read took the buffer meanwhile: ValueError, and that read has the bytes', async () => {
  const [r] = reader(4);
  r.feedData(Buffer.from('abcdefghij'));
  const line = rejection(r.readLine());
  const other = r.read(100); // takes everything before readLine handles its overrun
  assert.instance(await line, ValueError);
  assert.is((await other).toString(), 'abcdefghij');
  assert.is(r.bufferedBytes, 0);
});

test('read down to the limit resumes the transport; the next flood pauses it again', async () => {
  const [r, t] = reader(4);
  r.feedData(Buffer.alloc(10));
  assert.is(t.pauses, 1);
  await r.read(6); // 4 left = limit
  assert.is(t.resumes, 1);
  r.feedData(Buffer.alloc(10)); // 14 > 2 × limit
  assert.is(t.pauses, 2);
  assert.is(t.reading, false);
});

test('a read whose signal aborts just as data arrives rejects and leaves the paused transport paused', async () => {
  const [r, t] = reader(4);
  const ac = new AbortController();
  const reason = new Error('late');
  const p = r.readExactly(20, { signal: ac.signal });
  r.feedData(Buffer.from('0123456789ab')); // > 2 × limit: paused; wakes the read
  assert.is(t.pauses, 1);
  ac.abort(reason); // before the read's continuation runs
  assert.is(await rejection(p), reason);
  assert.is(t.reading, false, 'no read is waiting: still paused');
  assert.is(t.resumes, 0);
  assert.is(r.bufferedBytes, 12);
});

test('feeding after EOF throws; the transport is set once', () => {
  const [r, t] = reader();
  r.feedEof();
  assert.throws(() => r.feedData(Buffer.from('x')), /after feedEof/);
  assert.throws(() => r.setTransport(t as unknown as Transport), /already has a transport/);
});

test('atEof only once EOF came and every byte is read', async () => {
  const [r] = reader();
  r.feedData(Buffer.from('ab'));
  r.feedEof();
  assert.not.ok(r.atEof());
  await r.read(1);
  assert.not.ok(r.atEof());
  await r.read(1);
  assert.ok(r.atEof());
});

test('separators: strings, Uint8Array views (their own bytes only) and arrays; anything else is a TypeError', async () => {
  const [r] = reader();
  r.feedData(Buffer.from('one|two#three'));
  const backing = new Uint8Array([0x23, 0x7c, 0x23]);
  assert.is((await r.readUntil(backing.subarray(1, 2))).toString(), 'one|', 'the view is "|" alone');
  assert.is((await r.readUntil([backing.subarray(0, 1)])).toString(), 'two#');
  const notSeparator = (await rejection(r.readUntil(5 as unknown as string))) as Error;
  assert.instance(notSeparator, TypeError);
  assert.is(notSeparator.message, 'separator must be a string, a Uint8Array, or an array of them');
  const empty = (await rejection(r.readUntil([Buffer.from('e'), '']))) as Error;
  assert.instance(empty, ValueError);
  assert.is(empty.message, 'separator must not be empty');
  assert.is(r.bufferedBytes, 5);
});

// ---- a seeded model run ------------------------------------------------------------------------


test('mixed reads over random chunking give back the stream byte-exact (seeded)', async () => {
  for (let seed = 1; seed <= 12; seed++) {
    const rand = prng(seed);
    const limit = 6000;
    const [r] = reader(limit);
    // A stream of lines of 0..5000 bytes; the model reads it with the same operations.
    const parts: Buffer[] = [];
    for (let i = 0; i < 40; i++) {
      const len = Math.floor(rand() * (rand() < 0.2 ? 5000 : 40));
      const line = Buffer.alloc(len + 1);
      for (let j = 0; j < len; j++) line[j] = 0x61 + Math.floor(rand() * 26);
      line[len] = 0x0a;
      parts.push(line);
    }
    const stream = Buffer.concat(parts);
    let fed = 0;
    const feeder = (async () => {
      while (fed < stream.length) {
        const n = 1 + Math.floor(rand() * (rand() < 0.5 ? 8 : 3000));
        r.feedData(stream.subarray(fed, Math.min(fed + n, stream.length)));
        fed = Math.min(fed + n, stream.length);
        if (rand() < 0.6) await settle();
      }
      r.feedEof();
    })();
    let at = 0;
    const out: Buffer[] = [];
    for (;;) {
      const op = Math.floor(rand() * 3);
      let got: Buffer;
      if (op === 0) {
        got = await r.readLine();
        const nl = stream.indexOf(0x0a, at);
        const end = nl === -1 ? stream.length : nl + 1;
        assert.is(got.length, end - at, `seed ${seed}: readLine at ${at}`);
      } else if (op === 1) {
        const n = 1 + Math.floor(rand() * 4000);
        try {
          got = await r.readExactly(n);
          assert.is(got.length, n);
        } catch (err) {
          assert.instance(err, IncompleteReadError);
          got = (err as IncompleteReadError).partial;
          assert.is(at + got.length, stream.length, `seed ${seed}: short only at the end`);
        }
      } else {
        got = await r.read(1 + Math.floor(rand() * 3000));
      }
      assert.ok(got.equals(stream.subarray(at, at + got.length)), `seed ${seed}: bytes at ${at}`);
      out.push(Buffer.from(got));
      at += got.length;
      if (got.length === 0) break;
    }
    await feeder;
    assert.is(at, stream.length, `seed ${seed}: every byte`);
    assert.ok(Buffer.concat(out).equals(stream));
    assert.ok(r.atEof());
  }
});

test.run();
