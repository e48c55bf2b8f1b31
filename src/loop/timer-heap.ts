/** What the heap orders: by deadline, then by scheduling order (libuv's heap-inl.h tie-break). */
export interface HeapTimer {
  readonly when: number;
  readonly seq: number;
  cancelled: boolean;
}

function before(a: HeapTimer, b: HeapTimer): boolean {
  return a.when < b.when || (a.when === b.when && a.seq < b.seq);
}

/**
 * A binary min-heap of timers. Cancelled timers stay until they reach the top or until more than
 * half of the heap is cancelled, when it is compacted: scheduling and cancelling a million timers
 * does not keep a million entries alive.
 */
export class TimerHeap<T extends HeapTimer> {
  private heap: T[] = [];
  private cancelledCount = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Timers still due to fire. */
  get liveCount(): number {
    return this.heap.length - this.cancelledCount;
  }

  push(timer: T): void {
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(timer, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = timer;
  }

  /** The earliest live timer, dropping cancelled ones from the top. */
  peek(): T | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) {
      this.removeTop();
      this.cancelledCount--;
    }
    return this.heap[0];
  }

  /** Removes and returns the earliest live timer. */
  pop(): T | undefined {
    const top = this.peek();
    if (top !== undefined) this.removeTop();
    return top;
  }

  /** Call when a timer in the heap was cancelled. */
  noteCancelled(): void {
    this.cancelledCount++;
    if (this.cancelledCount > 32 && this.cancelledCount * 2 > this.heap.length) this.compact();
  }

  clear(): void {
    this.heap = [];
    this.cancelledCount = 0;
  }

  private compact(): void {
    const live = this.heap.filter((t) => !t.cancelled);
    this.heap = live;
    this.cancelledCount = 0;
    for (let i = (live.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private removeTop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.siftDown(0);
    }
  }

  private siftDown(start: number): void {
    const h = this.heap;
    const n = h.length;
    const item = h[start]!;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(h[right]!, h[left]!) ? right : left;
      if (!before(h[child]!, item)) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = item;
  }
}
