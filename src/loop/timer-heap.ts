/** What the heap orders: by deadline, then by the order the timers were pushed. */
export interface HeapTimer {
  readonly when: number;
  readonly cancelled: boolean;
}

const MIN_CAPACITY = 16;
/** Renumber once this many ids were issued and more than three quarters of them are gone. */
const RENUMBER_MIN_IDS = 1024;

/**
 * A binary min-heap of timers ordered by (when, push order) — libuv's heap-inl.h tie-break.
 * Cancelled timers stay until they reach the top or until more than half of the heap is
 * cancelled, when it is compacted: scheduling and cancelling a million timers does not keep a
 * million entries alive.
 *
 * Layout: every timer gets an id in push order, so comparing ids is comparing push order and no
 * sequence number is stored anywhere. The heap itself is one typed array of (deadline, id) pairs
 * by heap position, so a sift compares and moves plain numbers: no dereference of timer objects
 * scattered over the JS heap, no write barrier per move. `byId` maps an id back to its timer.
 * Ids of fired timers become holes in `byId`; when most of it is holes, the live ids are
 * renumbered densely, keeping their order (so the heap stays valid without re-sifting).
 */
export class TimerHeap<T extends HeapTimer> {
  /**
   * (deadline, id) per heap position, interleaved in one array: the two children of a node are
   * 32 contiguous bytes, one cache line, and with a million timers the levels near the leaves
   * are cache misses — one per level instead of two.
   */
  private entries = new Float64Array(2 * MIN_CAPACITY);
  private count = 0;
  private byId: Array<T | undefined> = [];
  private cancelledCount = 0;
  /** Ids from here on were pushed after markDue(): popDue() sets them aside. */
  private dueLimit = Infinity;
  /** (deadline, id) pairs popDue() set aside; they go back in at unmarkDue(). */
  private readonly deferred: number[] = [];

  /** Entries in the heap, cancelled ones not yet dropped included. */
  get size(): number {
    return this.count;
  }

  /** Timers still due to fire (counted: O(n), for tests and diagnostics). */
  get liveCount(): number {
    let live = 0;
    for (let i = 0; i < this.count; i++) if (!this.byId[this.entries[2 * i + 1]!]!.cancelled) live++;
    return live;
  }

  push(timer: T): void {
    const n = this.count;
    if (2 * n === this.entries.length) this.resize(n * 2);
    if (this.byId.length >= RENUMBER_MIN_IDS && this.byId.length > 4 * n && this.dueLimit === Infinity) this.renumber();
    const id = this.byId.length;
    this.byId.push(timer);
    const e = this.entries;
    const when = timer.when;
    let i = n;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pw = e[2 * parent]!;
      // A new id is the largest: on equal deadlines the new timer stays below.
      if (!(when < pw)) break;
      e[2 * i] = pw;
      e[2 * i + 1] = e[2 * parent + 1]!;
      i = parent;
    }
    e[2 * i] = when;
    e[2 * i + 1] = id;
    this.count = n + 1;
  }

  /** The earliest live timer, dropping cancelled ones from the top. */
  peek(): T | undefined {
    while (this.count > 0) {
      const top = this.byId[this.entries[1]!]!;
      if (!top.cancelled) return top;
      this.removeTop();
      if (this.cancelledCount > 0) this.cancelledCount--; // 0 already when that drained the heap
    }
    return undefined;
  }

  /** Removes and returns the earliest live timer. */
  pop(): T | undefined {
    const top = this.peek();
    if (top !== undefined) this.removeLiveTop();
    return top;
  }

  /**
   * Removes and returns the earliest live timer if its deadline is at or before `now` and, between
   * markDue() and unmarkDue(), it was pushed before markDue(). The reactor runs due timers one by
   * one straight from the heap rather than moving them all to a queue first (a million due timers
   * would need a million-entry queue); the mark keeps asyncio's rule that a timer scheduled by a
   * callback of this iteration runs in a later one, even when its deadline has already passed.
   */
  popDue(now: number): T | undefined {
    for (;;) {
      const top = this.peek();
      if (top === undefined || !(this.entries[0]! <= now)) return undefined;
      const id = this.entries[1]!;
      if (id < this.dueLimit) {
        this.removeLiveTop();
        return top;
      }
      this.deferred.push(this.entries[0]!, id);
      this.removeTop(true);
    }
  }

  /** Makes popDue() return only timers pushed before now, until unmarkDue(). Ids stay put meanwhile. */
  markDue(): void {
    this.dueLimit = this.byId.length;
  }

  /** Ends markDue(): the timers popDue() set aside go back in, under their own ids (same order). */
  unmarkDue(): void {
    this.dueLimit = Infinity;
    const d = this.deferred;
    for (let i = 0; i < d.length; i += 2) this.insert(d[i]!, d[i + 1]!);
    d.length = 0;
  }

  /**
   * Call when a timer was cancelled. A timer no longer in the heap may be counted too: that only
   * brings the next compaction forward, and compacting recounts.
   */
  noteCancelled(): void {
    this.cancelledCount++;
    this.compactIfMostlyCancelled();
  }

  clear(): void {
    this.entries = new Float64Array(2 * MIN_CAPACITY);
    this.count = 0;
    this.byId = [];
    this.cancelledCount = 0;
    this.deferred.length = 0;
  }

  /** Sifts (deadline, id) up from a new last position; the id may be older than others in the heap. */
  private insert(when: number, id: number): void {
    const n = this.count;
    if (2 * n === this.entries.length) this.resize(n * 2);
    this.siftUp(n, when, id);
    this.count = n + 1;
  }

  private removeLiveTop(): void {
    this.removeTop();
    // Firing live timers raises the cancelled share too: the same rule applies here.
    this.compactIfMostlyCancelled();
  }

  private compactIfMostlyCancelled(): void {
    if (this.cancelledCount > 32 && this.cancelledCount * 2 > this.count) this.compact();
  }

  /**
   * Drops every cancelled entry in place and re-heapifies. Nothing is allocated: a compaction
   * typically runs when the heap is at its largest, and a second copy would raise the peak.
   * Ids keep their values (dropped ones become holes, renumbered later like fired ones).
   */
  private compact(): void {
    const e = this.entries;
    const byId = this.byId;
    let live = 0;
    for (let i = 0; i < this.count; i++) {
      const id = e[2 * i + 1]!;
      if (byId[id]!.cancelled) {
        byId[id] = undefined;
        continue;
      }
      e[2 * live] = e[2 * i]!;
      e[2 * live + 1] = id;
      live++;
    }
    this.count = live;
    this.cancelledCount = 0;
    // Stryker disable next-line ArithmeticOperator: starting at (live >> 1) + 1 only adds sift-downs of leaves (or of slots past the end), which move nothing
    for (let i = (live >> 1) - 1; i >= 0; i--) this.siftDown(i);
    if (this.byId.length >= RENUMBER_MIN_IDS && this.byId.length > 4 * live && this.dueLimit === Infinity) this.renumber();
  }

  /** Gives the live entries dense ids, in the same order: every comparison keeps its outcome. */
  private renumber(): void {
    const oldById = this.byId;
    const newId = new Int32Array(oldById.length);
    const byId: Array<T | undefined> = [];
    for (let id = 0; id < oldById.length; id++) {
      const timer = oldById[id];
      if (timer === undefined) continue;
      newId[id] = byId.length;
      byId.push(timer);
    }
    const e = this.entries;
    for (let i = 0; i < this.count; i++) e[2 * i + 1] = newId[e[2 * i + 1]!]!;
    this.byId = byId;
  }

  /**
   * Floyd's bottom-up deletion: the hole left at the root walks down to a leaf along the smaller
   * children (one comparison per level instead of two), then the last entry, which usually
   * belongs near the bottom anyway, sifts up from there.
   */
  private removeTop(keepId = false): void {
    const e = this.entries;
    if (!keepId) this.byId[e[1]!] = undefined;
    const n = --this.count;
    if (n > 0) {
      const lw = e[2 * n]!;
      const lid = e[2 * n + 1]!;
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n) {
          const rw = e[2 * c + 2]!;
          const cw = e[2 * c]!;
          if (rw < cw || (rw === cw && e[2 * c + 3]! < e[2 * c + 1]!)) c++;
        }
        e[2 * i] = e[2 * c]!;
        e[2 * i + 1] = e[2 * c + 1]!;
        i = c;
      }
      this.siftUp(i, lw, lid);
    } else if (this.deferred.length === 0) {
      this.byId = []; // drained: forget the ids issued so far
      this.cancelledCount = 0; // (it may have counted timers cancelled after they fired)
    }
    // Give memory back once the heap has drained to a sixteenth of its capacity, in one step to
    // four times what is left: every resize leaves the old array to the garbage collector, and
    // halving at each quarter would allocate another full copy's worth while draining a big heap.
    const cap = e.length >> 1;
    if (cap > MIN_CAPACITY * 16 && n < cap >> 4) this.resize(Math.max(MIN_CAPACITY, n * 4));
  }

  /** Puts (when, id) at slot i's place or above it: its parents that sort after it move down. */
  private siftUp(i: number, when: number, id: number): void {
    const e = this.entries;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pw = e[2 * parent]!;
      if (!(when < pw || (when === pw && id < e[2 * parent + 1]!))) break;
      e[2 * i] = pw;
      e[2 * i + 1] = e[2 * parent + 1]!;
      i = parent;
    }
    e[2 * i] = when;
    e[2 * i + 1] = id;
  }

  private resize(cap: number): void {
    const e = new Float64Array(2 * cap);
    e.set(this.entries.subarray(0, 2 * this.count));
    this.entries = e;
  }

  private siftDown(start: number): void {
    const e = this.entries;
    const n = this.count;
    const iw = e[2 * start]!;
    const iid = e[2 * start + 1]!;
    let i = start;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let cw = e[2 * c]!;
      if (c + 1 < n) {
        const rw = e[2 * c + 2]!;
        if (rw < cw || (rw === cw && e[2 * c + 3]! < e[2 * c + 1]!)) {
          c++;
          cw = rw;
        }
      }
      if (!(cw < iw || (cw === iw && e[2 * c + 1]! < iid))) break;
      e[2 * i] = cw;
      e[2 * i + 1] = e[2 * c + 1]!;
      i = c;
    }
    e[2 * i] = iw;
    e[2 * i + 1] = iid;
  }
}
