// The shared read slab (small reads copied out, larger ones 8-byte-aligned views, replaced when
// short of room) and the write water marks / protocol calls shared by the transports.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readSlab, readSlabOffset, takeRead, isReadSlabView } from '../src/transports/read-slab.js';
import { waterMarks, tellProtocol, DEFAULT_HIGH, DEFAULT_LOW } from '../src/transports/write-flow.js';
import { Reactor, type ExceptionContext } from '../src/loop/index.js';
import { ValueError } from '../src/select/errors.js';

test('read slab: reads under 1 KiB are copies that do not use up the slab; larger ones are aligned views', () => {
  const slab = readSlab(4096);
  const start = readSlabOffset();
  slab.fill(7, start, start + 2048);
  const small = takeRead(1023);
  assert.is(small.length, 1023);
  assert.is(isReadSlabView(small), false);
  assert.is(small.buffer === slab.buffer, false);
  assert.ok(small.every((b) => b === 7));
  assert.is(readSlabOffset(), start, 'a copied read leaves the offset');
  const view = takeRead(1024);
  assert.is(view.length, 1024);
  assert.is(isReadSlabView(view), true);
  assert.is(view.buffer, slab.buffer);
  assert.is(view.byteOffset - slab.byteOffset, start);
  assert.is(readSlabOffset(), start + 1024);
  const odd = takeRead(1025);
  assert.is(odd.byteOffset - slab.byteOffset, start + 1024);
  assert.is(readSlabOffset(), start + 1024 + 1032, 'the next view starts 8-byte aligned');
  assert.is(isReadSlabView(new Uint8Array(8)), false);
});

test('read slab: kept while it has the room asked for, replaced (at least 256 KiB, or bigger) when not', () => {
  const slab = readSlab(1);
  const free = slab.length - readSlabOffset();
  assert.is(readSlab(free), slab, 'exactly enough room: same slab');
  const next = readSlab(free + 1);
  assert.is.not(next, slab);
  assert.is(next.length, 256 * 1024);
  assert.is(readSlabOffset(), 0);
  const huge = readSlab(300 * 1024);
  assert.is(huge.length, 300 * 1024);
  assert.is(isReadSlabView(huge.subarray(0, 10)), true);
});

test('waterMarks: asyncio defaults and derivations; bad values named', () => {
  assert.equal(waterMarks(undefined, undefined), { high: DEFAULT_HIGH, low: DEFAULT_LOW });
  assert.equal([DEFAULT_HIGH, DEFAULT_LOW], [65536, 16384]);
  assert.equal(waterMarks(100, undefined), { high: 100, low: 25 });
  assert.equal(waterMarks(103, undefined), { high: 103, low: 25 });
  assert.equal(waterMarks(undefined, 10), { high: 40, low: 10 });
  assert.equal(waterMarks(10, 10), { high: 10, low: 10 });
  assert.equal(waterMarks(0, 0), { high: 0, low: 0 });
  const bad = (h: unknown, l: unknown): string => {
    try {
      waterMarks(h as number, l as number);
    } catch (err) {
      assert.is((err as Error).constructor, ValueError);
      return (err as Error).message;
    }
    throw new Error(`waterMarks(${String(h)}, ${String(l)}) did not throw`);
  };
  assert.is(bad(9, 10), 'high (9) must be >= low (10)');
  assert.is(bad(-1, undefined), 'high must be a non-negative integer, got -1');
  assert.is(bad(1.5, undefined), 'high must be a non-negative integer, got 1.5');
  assert.is(bad('8', undefined), 'high must be a non-negative integer, got 8');
  assert.is(bad(undefined, -2), 'low must be a non-negative integer, got -2');
  assert.is(bad(10, null), 'low must be a non-negative integer, got null');
});

test('tellProtocol: calls the method if there is one; a throw goes to the exception handler', () => {
  const reactor = new Reactor();
  const contexts: ExceptionContext[] = [];
  reactor.setExceptionHandler((_r, context) => contexts.push(context));
  try {
    const calls: string[] = [];
    const transport = {};
    const protocol = {
      pauseWriting: () => calls.push('pause'),
      resumeWriting: () => {
        throw new Error('resume failed');
      },
    };
    tellProtocol(reactor, transport, protocol, 'pauseWriting');
    tellProtocol(reactor, transport, protocol, 'resumeWriting');
    tellProtocol(reactor, transport, {}, 'pauseWriting');
    assert.equal(calls, ['pause']);
    assert.is(contexts.length, 1);
    assert.is(contexts[0]!.message, 'protocol.resumeWriting() failed');
    assert.is((contexts[0]!.exception as Error).message, 'resume failed');
    assert.is(contexts[0]!.transport, transport);
    assert.is(contexts[0]!.protocol, protocol);
  } finally {
    reactor.close();
  }
});

test.run();
