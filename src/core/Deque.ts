// Deque: a growable ring-buffer FIFO with O(1) push and shift at both ends.
/**
 * A growable ring-buffer FIFO with O(1) push/shift at both ends. Used instead of
 * `Array.prototype.shift()`, which is O(n) and collapses under large backlogs.
 */
export class Deque<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private len = 0;

  constructor(initialCapacity = 16) {
    let cap = 1;
    while (cap < initialCapacity) cap <<= 1;
    this.buf = new Array<T | undefined>(cap);
  }

  /** Number of items. */
  get length(): number {
    return this.len;
  }

  /** Appends at the tail. */
  push(item: T): void {
    if (this.len === this.buf.length) this.grow();
    this.buf[(this.head + this.len) & (this.buf.length - 1)] = item;
    this.len++;
  }

  /** Inserts at the head. */
  unshift(item: T): void {
    if (this.len === this.buf.length) this.grow();
    this.head = (this.head - 1 + this.buf.length) & (this.buf.length - 1);
    this.buf[this.head] = item;
    this.len++;
  }

  /** Removes and returns the head item. */
  shift(): T | undefined {
    if (this.len === 0) return undefined;
    const item = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & (this.buf.length - 1);
    this.len--;
    return item;
  }

  /** Returns the head item without removing it. */
  peek(): T | undefined {
    return this.len === 0 ? undefined : this.buf[this.head];
  }

  /** Removes all items. */
  clear(): void {
    this.buf = new Array<T | undefined>(16);
    this.head = 0;
    this.len = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.len; i++) yield this.buf[(this.head + i) & (this.buf.length - 1)] as T;
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.buf.length * 2);
    for (let i = 0; i < this.len; i++) next[i] = this.buf[(this.head + i) & (this.buf.length - 1)];
    this.buf = next;
    this.head = 0;
  }
}
