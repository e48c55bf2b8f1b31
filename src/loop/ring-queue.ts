/** A FIFO ring buffer: O(1) push/shift with no per-item allocation (unlike Array#shift). */
export class RingQueue<T> {
  private items: Array<T | undefined>;
  private head = 0;
  private count = 0;
  private mask: number;

  constructor(capacityPowerOfTwo = 64) {
    let cap = 16;
    while (cap < capacityPowerOfTwo) cap *= 2;
    this.items = new Array<T | undefined>(cap);
    this.mask = cap - 1;
  }

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & this.mask] = item;
    this.count++;
  }

  /** Removes and returns the oldest item; undefined when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined; // let the handle be collected
    this.head = (this.head + 1) & this.mask;
    this.count--;
    return item;
  }

  clear(): void {
    while (this.count > 0) this.shift();
  }

  private grow(): void {
    const old = this.items;
    const next = new Array<T | undefined>(old.length * 2);
    // Stryker disable next-line EqualityOperator: copying one slot too many (i <= count) writes old[head] into next[count], the slot the push that triggered grow() overwrites at once
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & this.mask];
    this.items = next;
    this.head = 0;
    this.mask = next.length - 1;
  }
}
