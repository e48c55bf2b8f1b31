// The fuzzing process of `npm run fuzz` (scripts/fuzz.mjs starts it against the sanitizer build).
// Calls every export of the addon, and every LoopWatcher method, with random arguments: plausible
// ones, wrong types, NaN, ±Infinity, 2^53, negatives, fractions, detached / resized / zero-length
// / misaligned buffers, offsets past the end, closed and huge fds, every mask bit. Each call must
// return or throw TypeError/RangeError. Before each call its description is written (pwrite at
// offset 0) to the progress file, so the parent can name the call that crashed or hung.
//
// Safety: an fd argument is one this process created (nonblocking), a closed fd (the highest fd
// the rlimit allows, never opened) or a number no fd can have. fds 0-2 and Node's own fds are never
// passed to anything that reads, writes, closes or changes them. Signals: only invalid numbers
// and SIGUSR2 (restored at once) are installed, and raise() never gets a real signal.
//
//   node fuzz-child.mjs <seed> <milliseconds> <progress-file>
import { createRequire } from 'node:module';
import { openSync, writeSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';

const require = createRequire(import.meta.url);
const native = require(process.env.SELECTLOOP_ADDON_PATH);
const [seedArg, msArg, progressPath] = process.argv.slice(2);
const seed = Number(seedArg) >>> 0;
const deadline = Date.now() + Number(msArg);
const progress = openSync(progressPath, 'w');

// ---- seeded randomness (mulberry32) ----------------------------------------------------------
let state = seed;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const pick = (list) => list[Math.floor(random() * list.length)];
const chance = (p) => random() < p;

// ---- fds -------------------------------------------------------------------------------------
const owned = new Set(); // fds this process created and has not closed
const watched = new Map(); // fd -> LoopWatchers on it (closed before the fd is)
const maxFd = (() => {
  const m = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m ? Number(m[1]) : 1024;
})();
const closedFd = maxFd - 1; // a valid fd number that is never open here
const impossibleFds = [-1, -2, -2147483648, 2147483647, 2147483648, 2 ** 53, 1e9, 0.5, 3.7, -0.5, NaN, Infinity, -Infinity];

function own(fd) {
  if (typeof fd === 'number' && fd >= 0) owned.add(fd);
}
function anyOwned() {
  return owned.size === 0 ? closedFd : pick([...owned]);
}
function fdArg() {
  const r = random();
  if (r < 0.75) return anyOwned();
  if (r < 0.85) return closedFd;
  return pick(impossibleFds);
}
function closeOwned(fd) {
  for (const w of watched.get(fd) ?? []) w.close();
  watched.delete(fd);
  native.close(fd);
  owned.delete(fd);
}

// ---- values ----------------------------------------------------------------------------------
const weirdNumbers = [0, -0, 1, -1, 2, 7, 8, 63, 64, 65, 255, 256, 1023, 1024, 4096, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 32 + 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e300, -1e300, 0.5, 1.5, -0.5, Number.EPSILON, Number.MIN_VALUE, NaN, Infinity, -Infinity];
function numberArg() {
  return chance(0.5) ? pick(weirdNumbers) : chance(0.5) ? int(-10, 70000) : (random() - 0.5) * 2 ** int(0, 64);
}
function detached(ab) {
  structuredClone(ab, { transfer: [ab] });
  return ab;
}
function bufferArg(minLen = 0) {
  const len = chance(0.2) ? 0 : int(minLen, 256);
  switch (int(0, 11)) {
    case 0: return Buffer.alloc(len);
    case 1: return new Uint8Array(len);
    case 2: return new Int32Array(Math.ceil(len / 4));
    case 3: return new Float64Array(Math.ceil(len / 8));
    case 4: return new ArrayBuffer(len);
    case 5: return new DataView(new ArrayBuffer(len + 3), int(0, 3));
    case 6: return new Uint8Array(new ArrayBuffer(len + 8), int(1, 7), len); // misaligned
    case 7: {
      const view = new Uint8Array(new ArrayBuffer(len));
      detached(view.buffer);
      return view;
    }
    case 8: return detached(new ArrayBuffer(len));
    case 9: {
      // A resizable buffer, shrunk after views were made: a fixed-length view now out of bounds.
      const size = 4 * Math.ceil(len / 4) + 16;
      const ab = new ArrayBuffer(size, { maxByteLength: size + 64 });
      const fixed = new Uint8Array(ab, 8, len);
      const tracking = new Int32Array(ab); // follows the size
      ab.resize(4 * int(0, size / 4));
      return chance(0.5) ? fixed : tracking;
    }
    case 10: {
      const ab = new ArrayBuffer(len, { maxByteLength: len * 2 + 8 });
      ab.resize(len * 2 + 8);
      return new Uint8Array(ab);
    }
    default: return new Uint16Array(Math.ceil(len / 2));
  }
}
/** A Uint8Array over the same memory as view (an empty one if that memory is detached or gone). */
function sameMemory(view) {
  try {
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  } catch {
    return new Uint8Array(0);
  }
}
function int32Arg(minLen) {
  if (chance(0.8)) return new Int32Array(chance(0.8) ? minLen : int(0, minLen + 4));
  return bufferArg();
}
function junk() {
  return pick([undefined, null, true, false, '', '7', 'x'.repeat(int(0, 300)), {}, [], [1, 2], () => 1, Symbol('s'), 10n, -1n, new Date(), /re/, new Map(), Promise.resolve(), numberArg(), bufferArg()]);
}
function sockaddrArg() {
  const r = random();
  if (r < 0.3) {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(osConstants ? 2 : 2, 0); // AF_INET
    b.writeUInt16BE(chance(0.5) ? 0 : int(1, 65535), 2);
    b.set([127, 0, 0, 1], 4);
    return b;
  }
  if (r < 0.45) {
    const b = Buffer.alloc(int(0, 120));
    if (b.length >= 2) b.writeUInt16LE(pick([0, 1, 2, 10, 16, 17, 255, 65535]), 0);
    for (let i = 2; i < b.length; i++) b[i] = int(0, 255);
    return b;
  }
  if (r < 0.55) {
    const path = native.unixAddress(chance(0.5) ? `\0fuzz-${int(0, 1e6)}` : `fuzz-${int(0, 1e6)}.sock`);
    return typeof path === 'number' ? Buffer.alloc(0) : path;
  }
  return chance(0.5) ? bufferArg() : junk();
}
function maskArg() {
  if (chance(0.5)) return 2 ** int(0, 31) >>> 0; // every bit, one at a time
  return chance(0.5) ? int(0, 0xffff) : numberArg();
}
function timeoutArg() {
  // Never one that blocks (negative, huge): waits here have no guaranteed-ready fd.
  return pick([0, -0, 0.001, 0.5, 1, 1.5, 2, Number.MIN_VALUE, Number.EPSILON, NaN, '1', null]);
}
function maybe(valueFn) {
  return chance(0.85) ? valueFn() : junk();
}

// ---- the calls -------------------------------------------------------------------------------
const EC = native.epollConstants ?? {};
const sigusr2 = osConstants.signals.SIGUSR2;
const invalidSignals = [0, -1, 65, 1000, 2 ** 31, -(2 ** 31), NaN, Infinity, 1.5];
const nonNumbers = [undefined, null, true, '12', {}, [], 10n, Symbol('s')];
function signalArg(mayBeReal) {
  const r = random();
  if (r < 0.6) return pick(invalidSignals);
  if (r < 0.8) return pick(nonNumbers);
  // SIGKILL/SIGSTOP must be refused by signalInstall; SIGUSR2 is installed and restored at once.
  return mayBeReal ? pick([sigusr2, 9, 19]) : pick(invalidSignals);
}

/** name -> () => [args, afterCall(result)] */
const calls = {
  pipe: () => [[maybe(() => int32Arg(2)), maybe(() => chance(0.8))], (r, a) => {
    if (r === 0 && a[0] instanceof Int32Array && a[0].length >= 2) { ownNonblocking(a[0][0]); ownNonblocking(a[0][1]); }
  }],
  read: () => [[fdArg(), maybe(bufferArg), maybe(numberArg), maybe(numberArg)]],
  write: () => [[fdArg(), maybe(bufferArg), maybe(numberArg), maybe(numberArg)]],
  close: () => {
    // Only fds we own (and then they are no longer ours), or ones that cannot be open.
    let fd = chance(0.7) && owned.size > 0 ? anyOwned() : pick([closedFd, ...impossibleFds, junk()]);
    // junk() can be a small integer naming an fd of Node's own (libuv's eventfd, found closed by
    // seed 1): closing it would break the host, not test us.
    if (Number.isInteger(fd) && fd >= 0 && fd < maxFd && !owned.has(fd)) fd = closedFd;
    if (owned.has(fd)) {
      for (const w of watched.get(fd) ?? []) w.close();
      watched.delete(fd);
    }
    return [[fd], () => owned.delete(fd)];
  },
  // Whatever it did, our fds go back to nonblocking: a blocking one would hang a later read.
  setBlocking: () => [[fdArg(), chance(0.8) ? false : junk()], (r, a) => owned.has(a[0]) && setNonblocking(a[0])],
  getBlocking: () => [[fdArg()]],
  getCloexec: () => [[fdArg()]],
  dup: () => [[fdArg()], (r) => own(r)],
  fdType: () => [[fdArg()]],
  socket: () => [[maybe(() => pick([1, 2, 10, 0, 16, 17, numberArg()])), maybe(() => pick([1, 2, 5, 3, numberArg()])), maybe(() => pick([0, 0, 6, 17, numberArg()])), chance(0.9) ? true : junk()], (r) => ownNonblocking(r)],
  socketpair: () => [[maybe(() => pick([1, 1, 2, numberArg()])), maybe(() => pick([1, 2, 5, numberArg()])), maybe(() => pick([0, numberArg()])), maybe(() => int32Arg(2)), chance(0.9) ? true : junk()], (r, a) => {
    if (r === 0 && a[3] instanceof Int32Array && a[3].length >= 2) { ownNonblocking(a[3][0]); ownNonblocking(a[3][1]); }
  }],
  bind: () => [[fdArg(), maybe(sockaddrArg)]],
  connect: () => [[fdArg(), maybe(sockaddrArg)]],
  listen: () => [[fdArg(), maybe(numberArg)]],
  accept: () => [[fdArg(), chance(0.9) ? true : junk()], (r) => ownNonblocking(r)],
  acceptAddress: () => [[fdArg(), chance(0.9) ? true : junk()], (r) => Array.isArray(r) && ownNonblocking(r[0])],
  recv: () => [[fdArg(), maybe(bufferArg), maybe(numberArg), maybe(numberArg), maybe(maskArg)]],
  send: () => [[fdArg(), maybe(bufferArg), maybe(numberArg), maybe(numberArg), maybe(maskArg)]],
  writev: () => [[fdArg(), chance(0.8) ? Array.from({ length: int(0, 6) }, () => (chance(0.9) ? bufferArg() : junk())) : junk(), maybe(numberArg), maybe(numberArg), maybe(() => chance(0.5))]],
  recvfrom: () => [[fdArg(), maybe(bufferArg), maybe(numberArg), maybe(numberArg), maybe(maskArg)]],
  sendto: () => [[fdArg(), maybe(bufferArg), maybe(numberArg), maybe(numberArg), maybe(maskArg), maybe(sockaddrArg)]],
  shutdown: () => [[fdArg(), maybe(() => pick([0, 1, 2, 3, -1, numberArg()]))]],
  setsockopt: () => [[fdArg(), maybe(() => pick([1, 6, 0, 41, numberArg()])), maybe(() => int(0, 80)), maybe(numberArg)]],
  getsockopt: () => [[fdArg(), maybe(() => pick([1, 6, 0, 41, numberArg()])), maybe(() => int(0, 80)), maybe(() => int32Arg(1))]],
  getsockname: () => [[fdArg()]],
  getpeername: () => [[fdArg()]],
  socketInfo: () => [[fdArg(), maybe(() => int32Arg(2))]],
  // Only names that resolve locally: a random name would wait for DNS.
  resolve: () => [[maybe(() => pick([null, 'localhost', '127.0.0.1', '::1', '0.0.0.0', '1.2.3.4', ''])), maybe(numberArg), maybe(() => pick([0, 2, 10, 1, 12345, numberArg()])), maybe(() => pick([0, 1, 2, 3, numberArg()])), maybe(() => chance(0.5))]],
  unixAddress: () => [[chance(0.7) ? pick(['', 'a', 'x'.repeat(107), 'x'.repeat(108), 'x'.repeat(200), '\0abs', 'dir/\u00e9', '\0']) : chance(0.5) ? bufferArg() : junk()]],
  parseAddress: () => [[maybe(sockaddrArg)]],
  sockaddrFamily: () => [[maybe(sockaddrArg)]],
  pollWait: () => {
    const n = int(0, 8);
    const set = new Int32Array(2 * n);
    for (let i = 0; i < n; i++) {
      set[2 * i] = chance(0.8) ? anyOwned() : pick([-1, closedFd, 2147483647]); // fds inside the set are only polled
      set[2 * i + 1] = maskArg() & 0xffff;
    }
    const sets = [set.buffer, set, new Uint8Array(set.buffer), bufferArg()];
    return [[maybe(() => pick(sets)), maybe(() => (chance(0.7) ? n : numberArg())), maybe(() => int32Arg(2 * n)), timeoutArg()]];
  },
  selectWait: () => {
    const nr = int(0, 4), nw = int(0, 4), ne = int(0, 4);
    const fds = new Int32Array(nr + nw + ne);
    for (let i = 0; i < fds.length; i++) fds[i] = chance(0.8) ? anyOwned() : pick([-1, closedFd, 1024, 65536, 2147483647]);
    return [[maybe(() => (chance(0.8) ? fds : int32Arg(2))), maybe(() => (chance(0.8) ? nr : numberArg())), maybe(() => (chance(0.8) ? nw : numberArg())), maybe(() => (chance(0.8) ? ne : numberArg())), timeoutArg()]];
  },
  // Signal numbers never come from junk(): a random small integer could be a real signal (SIGFPE
  // raised, SIGSEGV taken from ASan). Only invalid numbers, non-numbers and SIGUSR2 (restored).
  signalInstall: () => [[signalArg(true), fdArg()], (r, a) => {
    if (a[0] === sigusr2 && r === 0) native.signalRestore(sigusr2, a[1]);
  }],
  signalRestore: () => [[signalArg(true), fdArg()]],
  raise: () => [[signalArg(false)]],
  epollCreate: () => [[], (r) => own(r)],
  epollCtl: () => [[fdArg(), maybe(() => pick([EC.EPOLL_CTL_ADD, EC.EPOLL_CTL_MOD, EC.EPOLL_CTL_DEL, 0, 4, numberArg()])), fdArg(), maybe(maskArg)]],
  epollWait: () => {
    const max = int(0, 8);
    return [[fdArg(), maybe(() => int32Arg(max * (EC.EPOLL_EVENT_INT32S ?? 3))), maybe(() => (chance(0.8) ? max : numberArg())), timeoutArg()]];
  },
  // The Reactor's batched wait: only fds epoll reports ready are read, and only owned fds are
  // registered here; a marked entry is read with recv (1) or read (other), both nonblocking.
  epollWaitRead: () => {
    const max = int(0, 8);
    const out = chance(0.9) ? new Int32Array(max * (EC.EPOLL_EVENT_INT32S ?? 3)) : int32Arg(max);
    const n = int(0, 64);
    const marks = chance(0.8) ? Uint8Array.from({ length: n }, () => pick([0, 0, 1, 2, 255])) : bufferArg();
    const offsets = chance(0.85) ? new Int32Array(chance(0.8) ? n : int(0, n + 4)) : bufferArg();
    const results = chance(0.85) ? new Int32Array(chance(0.8) ? n : int(0, n + 4)).fill(native.NOT_READ) : bufferArg();
    const slab = chance(0.1) ? pick([sameMemory(out), offsets, marks]) : bufferArg(); // overlaps: refused
    const cursor = chance(0.8) ? Int32Array.of(int(-2, 300), 0, pick([0, 1, 64, 16384, -1])) : int32Arg(3);
    return [[fdArg(), out, maybe(() => (chance(0.8) ? max : numberArg())), timeoutArg(), maybe(() => marks), maybe(() => offsets), maybe(() => results), maybe(() => slab), maybe(() => cursor), maybe(() => pick([1, 16, 64, 65536, 0, -1, numberArg()]))]];
  },
  // Entries name owned fds (nonblocking; sent with MSG_DONTWAIT), -1 (skipped) or impossible ones.
  sendBatch: () => {
    const count = int(0, 6);
    const entries = new Int32Array(5 * count + (chance(0.2) ? int(0, 4) : 0));
    for (let i = 0; i < count; i++) entries.set([chance(0.8) ? anyOwned() : pick([-1, -2, closedFd, 2147483647]), pick([0, 1, 1, 2, -1]), int(-2, 300), int(-2, 300), 0], 5 * i);
    return [[maybe(() => (chance(0.9) ? entries : int32Arg(5))), maybe(() => (chance(0.8) ? count : numberArg())), maybe(bufferArg), maybe(() => (chance(0.1) ? entries : bufferArg()))]];
  },
  LoopWatcher: () => {
    const fd = chance(0.8) ? anyOwned() : pick([closedFd, ...impossibleFds]);
    const cb = chance(0.9) ? () => {} : junk();
    return [[fd, cb], (w) => {
      if (w && typeof w === 'object' && owned.has(fd)) {
        if (!watched.has(fd)) watched.set(fd, []);
        watched.get(fd).push(w);
      } else if (w && typeof w.close === 'function') w.close();
    }, true];
  },
};

const watcherMethods = ['start', 'stop', 'armTimer', 'disarmTimer', 'ref', 'unref', 'close'];
function watcherCall() {
  const all = [...watched.values()].flat();
  if (all.length === 0) return null;
  const w = pick(all);
  const method = pick(watcherMethods);
  // armTimer: small delays only (the timer fires into a callback that does nothing).
  const args = method === 'armTimer' ? [maybe(() => pick([0, 1, 5, 0.5, -1, NaN, Infinity, 2 ** 53, 2 ** 31]))] : chance(0.9) ? [] : [junk()];
  return { name: `LoopWatcher.${method}`, fn: () => w[method](...args), args };
}

function setNonblocking(fd) {
  native.setBlocking(fd, false);
}
function ownNonblocking(fd) {
  if (typeof fd !== 'number' || fd < 0) return;
  own(fd);
  setNonblocking(fd);
}

// ---- describing a call -----------------------------------------------------------------------
function describe(v) {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...(${v.length})` : v);
  if (typeof v === 'symbol' || typeof v === 'function') return typeof v;
  if (v === null || typeof v === 'boolean') return String(v);
  if (v instanceof ArrayBuffer) return `ArrayBuffer(${v.byteLength}${v.detached ? ', detached' : ''}${v.resizable ? ', resizable' : ''})`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(len ${v.byteLength}, offset ${v.byteOffset}${v.buffer.detached ? ', detached' : ''}${v.buffer.resizable ? ', resizable' : ''})`;
  if (Array.isArray(v)) return `[${v.map(describe).join(', ')}]`;
  return Object.prototype.toString.call(v);
}

// ---- the loop --------------------------------------------------------------------------------
const exportsToCall = Object.keys(native).filter((k) => typeof native[k] === 'function');
const unknown = exportsToCall.filter((k) => !(k in calls));
// An export without a generator here still gets called, with arguments that cannot name a real fd.
for (const k of unknown) calls[k] = () => [Array.from({ length: int(0, 6) }, () => (chance(0.5) ? pick(impossibleFds) : junk()))];
process.stdout.write(`fuzz: seed ${seed}, exports ${exportsToCall.join(' ')}, LoopWatcher.{${watcherMethods.join(',')}}${unknown.length ? `; no generator for: ${unknown.join(' ')}` : ''}\n`);

const stats = { calls: 0, returned: 0, typeErrors: 0, rangeErrors: 0, osErrors: 0 };
let callNo = 0;
const note = (text) => {
  const b = Buffer.from(`${text}\n`.padEnd(512, ' '));
  writeSync(progress, b, 0, b.length, 0);
};

while (Date.now() < deadline) {
  for (let i = 0; i < 200; i++) {
    // Keep the fd table small: close our oldest fds once there are many.
    if (owned.size > 40) for (const fd of [...owned].slice(0, 20)) closeOwned(fd);
    let name, fn, args, after;
    const w = chance(0.1) ? watcherCall() : null;
    if (w) ({ name, fn, args } = w);
    else {
      name = pick(exportsToCall);
      let isCtor;
      [args, after, isCtor] = calls[name]();
      if (chance(0.05)) args = args.slice(0, int(0, args.length)); // too few
      else if (chance(0.05)) args = [...args, junk()]; // too many
      fn = isCtor ? () => new native[name](...args) : () => native[name](...args);
    }
    callNo++;
    note(`call #${callNo} (seed ${seed}): ${name}(${args.map(describe).join(', ')})`);
    let result;
    try {
      result = fn();
      stats.returned++;
    } catch (err) {
      if (err instanceof TypeError) stats.typeErrors++;
      else if (err instanceof RangeError) stats.rangeErrors++;
      // A constructor cannot return -errno: LoopWatcher reports a refused fd as an Error naming it.
      else if (name === 'LoopWatcher' && /^uv_poll_init failed on fd \d+: -\d+$/.test(err?.message)) stats.osErrors++;
      else {
        process.stdout.write(`FUZZ FAILURE: call #${callNo} (seed ${seed}): ${name}(${args.map(describe).join(', ')}) threw ${err?.constructor?.name}: ${err?.message}\n`);
        process.exit(3);
      }
      continue;
    } finally {
      stats.calls++;
    }
    after?.(result, args);
  }
  // Let Node's loop run: LoopWatcher callbacks, finalizers of dropped buffers and watchers.
  await new Promise((resolve) => setImmediate(resolve));
}
for (const fd of [...owned]) closeOwned(fd);
note(`done after ${callNo} calls`);
process.stdout.write(`fuzz: ${stats.calls} calls: ${stats.returned} returned, ${stats.typeErrors} TypeError, ${stats.rangeErrors} RangeError, ${stats.osErrors} LoopWatcher OS errors\n`);
