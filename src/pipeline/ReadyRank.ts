// The ranked ready list of a lane: keys ordered by effective priority (with aging), then weighted or round-robin turns.

/** What the ranked list reads and writes on a key. @internal */
export interface Rankable {
  /** Position in the heap, -1 when not in it. */
  heapIndex: number;
  /** Insertion number: the round-robin tie-break (earlier first). */
  order: number;
  /** Weighted fairness: the key's virtual finish time (stride scheduling); lower runs first. */
  pass: number;
  /** Weighted fairness: the key's weight (> 0). */
  weight: number;
  /** Clock time the key's current head became its head (aging). */
  readyAt: number;
  /** Priority of the key's current head (higher first). */
  rank: number;
}

/** How a ranked list orders keys. @internal */
export interface RankRules {
  /** Aging: effective priority grows by 1 per `agingMs` waited; `undefined` when priorities are off. */
  readonly agingMs: number | undefined;
  /** Weighted turns (stride scheduling) instead of plain round robin among equal priorities. */
  readonly weighted: boolean;
}

/**
 * A binary heap of ready keys. Key `a` runs before `b` when, in this order:
 * 1. (priorities on) its effective priority `rank + (now − readyAt) / agingMs` is higher — the
 *    `now` term is common to both, so the heap compares `rank − readyAt / agingMs`;
 * 2. (weighted) its `pass` is lower: taking a key adds `1 / weight` to its pass, a new key starts
 *    at the pass of the key taken last, so keys ready all the time get turns in proportion to
 *    their weights;
 * 3. it was inserted earlier (round robin: a key goes to the back after each turn).
 *
 * Same face as the FIFO `Deque` (`push`, `unshift`, `shift`, `length`, `clear`) plus `update`
 * for a key whose head changed while listed. @internal
 */
export class RankedReady<Q extends Rankable> {
  private readonly heap: Q[] = [];
  private nextOrder = 0;
  /** The pass of the key taken last (a new key starts there). */
  vtime = 0;

  constructor(private readonly rules: RankRules) {}

  get length(): number {
    return this.heap.length;
  }

  /** Adds a key (at the back of its priority level). */
  push(q: Q): void {
    q.order = this.nextOrder++;
    q.heapIndex = this.heap.length;
    this.heap.push(q);
    this.up(q.heapIndex);
  }

  /** Adds a key that keeps its earlier turn (a retry or a permit that came back). */
  unshift(q: Q): void {
    q.heapIndex = this.heap.length;
    this.heap.push(q);
    this.up(q.heapIndex);
  }

  /** Takes the key that runs next and charges it one turn. */
  shift(): Q | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return undefined;
    this.removeAt(0);
    if (this.rules.weighted) {
      this.vtime = top.pass;
      top.pass += 1 / top.weight;
    }
    return top;
  }

  /** Re-sorts a listed key whose rank or readyAt changed. */
  update(q: Q): void {
    if (q.heapIndex < 0) return;
    this.up(q.heapIndex);
    this.down(q.heapIndex);
  }

  /** Removes a listed key (no charge). */
  remove(q: Q): void {
    if (q.heapIndex >= 0) this.removeAt(q.heapIndex);
  }

  clear(): void {
    for (const q of this.heap) q.heapIndex = -1;
    this.heap.length = 0;
  }

  private removeAt(i: number): void {
    const h = this.heap;
    const q = h[i]!;
    const last = h.pop()!;
    q.heapIndex = -1;
    if (last === q) return;
    h[i] = last;
    last.heapIndex = i;
    this.up(i);
    this.down(last.heapIndex);
  }

  private before(a: Q, b: Q): boolean {
    const aging = this.rules.agingMs;
    if (aging !== undefined) {
      const sa = a.rank - a.readyAt / aging;
      const sb = b.rank - b.readyAt / aging;
      if (sa !== sb) return sa > sb;
    }
    if (this.rules.weighted && a.pass !== b.pass) return a.pass < b.pass;
    return a.order < b.order;
  }

  private up(i: number): void {
    const h = this.heap;
    const q = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!this.before(q, parent)) break;
      h[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    h[i] = q;
    q.heapIndex = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const q = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(h[r]!, h[l]!) ? r : l;
      const child = h[c]!;
      if (!this.before(child, q)) break;
      h[i] = child;
      child.heapIndex = i;
      i = c;
    }
    h[i] = q;
    q.heapIndex = i;
  }
}
