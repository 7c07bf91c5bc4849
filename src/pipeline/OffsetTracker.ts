// Tracks completion of a dense sequence of numbers: the low mark below which all are done.
/**
 * Tracks completion of a dense sequence of numbers admitted in order and completed in any
 * order. `low` is the first number not yet completed: everything below it is done. Used for
 * the low watermark and for safe checkpoint offsets (never skipping an incomplete one).
 * Memory is proportional to the span between the oldest incomplete and newest admitted number.
 */
export class OffsetTracker {
  private base: number;
  private next: number;
  private done: Uint8Array;
  private start = 0; // index in `done` of `base`

  constructor(first = 0) {
    this.base = first;
    this.next = first;
    this.done = new Uint8Array(64);
  }

  /** First number not yet completed (equals {@link admitted} when all are done). */
  get low(): number {
    return this.base;
  }

  /** Next number to be admitted. */
  get admitted(): number {
    return this.next;
  }

  /** Count of admitted but not yet low-advanced numbers. */
  get span(): number {
    return this.next - this.base;
  }

  /** Admits the next number and returns it. */
  admit(): number {
    const span = this.next - this.base;
    if (span >= this.done.length) this.grow();
    return this.next++;
  }

  /** Admits numbers up to (excluding) `n`, e.g. after skipping to an offset. */
  admitUpTo(n: number): void {
    while (this.next < n) this.admit();
  }

  /** Marks `n` complete; returns the new `low`. Completing twice or out of range is ignored. */
  complete(n: number): number {
    if (n < this.base || n >= this.next) return this.base;
    const cap = this.done.length;
    this.done[(this.start + (n - this.base)) & (cap - 1)] = 1;
    while (this.base < this.next && this.done[this.start] === 1) {
      this.done[this.start] = 0;
      this.start = (this.start + 1) & (cap - 1);
      this.base++;
    }
    return this.base;
  }

  /** Whether `n` is complete. */
  isComplete(n: number): boolean {
    if (n < this.base) return true;
    if (n >= this.next) return false;
    return this.done[(this.start + (n - this.base)) & (this.done.length - 1)] === 1;
  }

  private grow(): void {
    const cap = this.done.length;
    const next = new Uint8Array(cap * 2);
    for (let i = 0; i < cap; i++) next[i] = this.done[(this.start + i) & (cap - 1)]!;
    this.done = next;
    this.start = 0;
  }
}
