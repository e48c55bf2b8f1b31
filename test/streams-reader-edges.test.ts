// StreamReader edge cases that mutation testing showed the broader streams tests let through:
// which reads are views of the fed memory, separator search boundaries, joins past 4 KiB, the
// state an aborted read leaves behind, and a seeded model run of mixed reads over random chunking.
// (Its own file: the Stryker runner treats each test file as one test, so adding here keeps the
// mutants streams.test.ts already killed from being tested again.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { StreamReader, IncompleteReadError, LimitOverrunError, ValueError, type Transport } from '../src/transports/index.js';

const test = suite('stream-reader edges');

class FakeTransport {
  reading = true;
  pauses = 0;
  resumes = 0;
  pauseReading(): void {
    this.reading = false;
    this.pauses++;
  }
  resumeReading(): void {
    this.reading = true;
    this.resumes++;
  }
}

function reader(limit?: number): [StreamReader, FakeTransport] {
  const r = new StreamReader({ limit });
  const t = new FakeTransport();
  r.setTransport(t as unknown as Transport);
  return [r, t];
}

const rejection = <T>(p: Promise<T>): Promise<unknown> =>
  p.then(
    () => assert.unreachable('should have rejected'),
    (e: unknown) => e,
  );

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
  assert.instance(await rejection(r.read(1.5)), TypeError);
  assert.instance(await rejection(r.read('2' as unknown as number)), TypeError);
  assert.instance(await rejection(r.read(NaN)), TypeError);
  assert.is(r.bufferedBytes, 3);
  assert.is((await r.read(3)).toString(), 'abc');
});

test('readExactly checks n: fractions and non-numbers are ValueErrors; readExactly(0) is empty at once', async () => {
  const [r] = reader();
  assert.instance(await rejection(r.readExactly(0.5)), ValueError);
  assert.instance(await rejection(r.readExactly('1' as unknown as number)), ValueError);
  assert.is((await r.readExactly(0)).length, 0, 'nothing buffered, yet no wait');
});

test('the limit must be a positive integer', () => {
  for (const bad of [0, -1, 1.5, NaN, Infinity, '8']) {
    assert.throws(() => new StreamReader({ limit: bad as number }), (e: unknown) => e instanceof ValueError, String(bad));
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
    assert.is(r.bufferedBytes, L + 1);
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
  assert.instance(await rejection(r.readUntil(5 as unknown as string)), TypeError);
  assert.instance(await rejection(r.readUntil([Buffer.from('e'), ''])), ValueError);
  assert.is(r.bufferedBytes, 5);
});

// ---- a seeded model run ------------------------------------------------------------------------

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('mixed reads over random chunking give back the stream byte-exact (seeded)', async () => {
  for (let seed = 1; seed <= 12; seed++) {
    const rand = rng(seed);
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
