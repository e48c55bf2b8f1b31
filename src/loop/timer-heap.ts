/** What the heap orders: by deadline, then by scheduling order (libuv's heap-inl.h tie-break). */
export interface HeapTimer {
  readonly when: number;
  readonly seq: number;
  cancelled: boolean;
}

const MIN_CAPACITY = 16;

/**
 * A binary min-heap of timers. Cancelled timers stay until they reach the top or until more than
 * half of the heap is cancelled, when it is compacted: scheduling and cancelling a million timers
 * does not keep a million entries alive.
 *
 * Layout: the deadlines live in a Float64Array parallel to the array of timers, so sifting compares
 * contiguous doubles instead of dereferencing timer objects scattered over the JS heap (with a
 * million timers, those dereferences were cache misses and dominated the cost of firing them).
 * A timer's `seq` is read only to break a tie between equal deadlines.
 */
export class TimerHeap<T extends HeapTimer> {
  private items: T[] = [];
  private whens = new Float64Array(MIN_CAPACITY);
  private cancelledCount = 0;

  get size(): number {
    return this.items.length;
  }

  /** Timers still due to fire. */
  get liveCount(): number {
    return this.items.length - this.cancelledCount;
  }

  push(timer: T): void {
    const items = this.items;
    const n = items.length;
    if (n === this.whens.length) this.resize(n * 2);
    const w = this.whens;
    const when = timer.when;
    items.push(timer);
    let i = n;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pw = w[parent]!;
      if (!(when < pw || (when === pw && timer.seq < items[parent]!.seq))) break;
      items[i] = items[parent]!;
      w[i] = pw;
      i = parent;
    }
    items[i] = timer;
    w[i] = when;
  }

  /** The earliest live timer, dropping cancelled ones from the top. */
  peek(): T | undefined {
    const items = this.items;
    while (items.length > 0 && items[0]!.cancelled) {
      this.removeTop();
      this.cancelledCount--;
    }
    return items[0];
  }

  /** Removes and returns the earliest live timer. */
  pop(): T | undefined {
    const top = this.peek();
    if (top !== undefined) {
      this.removeTop();
      // Firing live timers raises the cancelled share too: the same rule applies here.
      this.compactIfMostlyCancelled();
    }
    return top;
  }

  /** Call when a timer in the heap was cancelled. */
  noteCancelled(): void {
    this.cancelledCount++;
    this.compactIfMostlyCancelled();
  }

  private compactIfMostlyCancelled(): void {
    if (this.cancelledCount > 32 && this.cancelledCount * 2 > this.items.length) this.compact();
  }

  clear(): void {
    this.items = [];
    this.whens = new Float64Array(MIN_CAPACITY);
    this.cancelledCount = 0;
  }

  private compact(): void {
    const old = this.items;
    const live: T[] = [];
    for (let i = 0; i < old.length; i++) if (!old[i]!.cancelled) live.push(old[i]!);
    this.items = live;
    this.cancelledCount = 0;
    let cap = MIN_CAPACITY;
    while (cap < live.length) cap *= 2;
    const w = new Float64Array(cap);
    for (let i = 0; i < live.length; i++) w[i] = live[i]!.when;
    this.whens = w;
    for (let i = (live.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /**
   * Floyd's bottom-up deletion: the hole left at the root walks down to a leaf along the smaller
   * children (one comparison per level instead of two), then the last element, which usually
   * belongs near the bottom anyway, sifts up from there. Same (when, seq) order as a plain sift.
   */
  private removeTop(): void {
    const items = this.items;
    const last = items.pop()!;
    const n = items.length;
    if (n > 0) {
      const w = this.whens;
      const lw = w[n]!;
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        const r = c + 1;
        if (r < n) {
          const rw = w[r]!;
          const cw = w[c]!;
          if (rw < cw || (rw === cw && items[r]!.seq < items[c]!.seq)) c = r;
        }
        items[i] = items[c]!;
        w[i] = w[c]!;
        i = c;
      }
      while (i > 0) {
        const parent = (i - 1) >> 1;
        const pw = w[parent]!;
        if (!(lw < pw || (lw === pw && last.seq < items[parent]!.seq))) break;
        items[i] = items[parent]!;
        w[i] = pw;
        i = parent;
      }
      items[i] = last;
      w[i] = lw;
    }
    // Give memory back once the heap has drained to a quarter of its capacity.
    const cap = this.whens.length;
    if (cap > MIN_CAPACITY * 4 && n < cap >> 2) this.resize(cap >> 1);
  }

  private resize(cap: number): void {
    const w = new Float64Array(cap);
    w.set(this.whens.subarray(0, this.items.length));
    this.whens = w;
  }

  private siftDown(start: number): void {
    const items = this.items;
    const w = this.whens;
    const n = items.length;
    const item = items[start]!;
    const iw = w[start]!;
    let i = start;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let cw = w[c]!;
      const r = c + 1;
      if (r < n) {
        const rw = w[r]!;
        if (rw < cw || (rw === cw && items[r]!.seq < items[c]!.seq)) {
          c = r;
          cw = rw;
        }
      }
      if (!(cw < iw || (cw === iw && items[c]!.seq < item.seq))) break;
      items[i] = items[c]!;
      w[i] = cw;
      i = c;
    }
    items[i] = item;
    w[i] = iw;
  }
}
