// BoundedLoadConsistentHash: a consistent-hash ring that assigns keys under a per-member load cap.
import { SluiceError } from '../core/errors.ts';
import { ConsistentHash } from './ConsistentHash.ts';
import type { StringHash } from './fastHash.ts';
import { diffOwners, type Move } from './Partitioner.ts';

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup & Zadimoghaddam, 2018 — the scheme
 * behind Google Cloud Pub/Sub and HAProxy's `hash-balance-factor`).
 *
 * Keys are *assigned*, not just routed: the ring tracks which member holds each key. A key
 * goes to the first member clockwise from its hash whose load is below its capacity
 * `ceil(factor × m × weight / totalWeight)`, where `m` counts the assigned keys including the new
 * one (with equal weights: `ceil(factor × m / N)`). So no member ever holds more than
 * `factor ×` its fair share (rounded up), while most keys still sit on their natural ring owner.
 *
 * Lifecycle of a key: {@link assign} (idempotent) → {@link route} returns the same member until
 * {@link release}. {@link assignAll} assigns a batch. `remove(member)` re-assigns that member's
 * keys at once (only they move); `add(member)` moves nothing — call {@link rebalance} to let the
 * new member take its share. {@link diffOwners} compares two {@link assignments} snapshots.
 *
 * Trade-off: a smaller `factor` gives a flatter load (max/mean ≤ factor) but more keys away
 * from their natural owner and more keys moved when membership changes; the paper's
 * `1 + ε` with ε ≈ 0.25 is a good default, 1.05 when balance matters most.
 *
 * @example
 * ```ts
 * const ring = consistentHash({ members: ['a', 'b', 'c'], boundedLoad: { factor: 1.25 } });
 * const owner = ring.assign('order-42'); // recorded; ring.route('order-42') === owner
 * ring.release('order-42');
 * ```
 */
export class BoundedLoadConsistentHash extends ConsistentHash {
  /** Load factor: no member holds more than `ceil(factor × fair share)` keys. */
  readonly factor: number;
  /** key → member index (into `members`). Insertion order is assignment order. */
  private keyOwner = new Map<string, number>();
  /** Load per member index. */
  private load: number[] = [];
  private totalWeight = 0;
  /** Scratch capacities, reused by `pick`. */
  private caps: number[] = [];

  /** @internal Use {@link consistentHash} with `boundedLoad`. */
  constructor(
    names: readonly string[],
    weights: readonly number[],
    vnodes: number,
    hash: StringHash,
    factor: number,
  ) {
    super(names, weights, vnodes, hash);
    this.factor = factor;
    this.load = names.map(() => 0);
    this.totalWeight = weights.reduce((a, b) => a + b, 0);
  }

  /**
   * The member holding `key` if it is assigned; otherwise the member {@link assign} would pick
   * now (nothing is recorded).
   */
  override route(key: string): string {
    const owner = this.keyOwner.get(key);
    if (owner !== undefined) return this.members[owner]!;
    return this.members[this.pick(key, this.keyOwner.size + 1)]!;
  }

  /** Assigns `key` (if not assigned yet) and returns its member. */
  assign(key: string): string {
    const owner = this.keyOwner.get(key);
    if (owner !== undefined) return this.members[owner]!;
    const m = this.pick(key, this.keyOwner.size + 1);
    this.keyOwner.set(key, m);
    this.load[m]!++;
    return this.members[m]!;
  }

  /**
   * Assigns every key of the batch, in order, and returns key → member for the batch.
   * Keys already assigned keep their member.
   */
  assignAll(keys: Iterable<string>): Map<string, string> {
    const out = new Map<string, string>();
    for (const key of keys) out.set(key, this.assign(key));
    return out;
  }

  /** Releases `key`: its member's load drops by one. Returns whether it was assigned. */
  release(key: string): boolean {
    const owner = this.keyOwner.get(key);
    if (owner === undefined) return false;
    this.keyOwner.delete(key);
    this.load[owner]!--;
    return true;
  }

  /** The member `key` is assigned to, or undefined. */
  assignmentOf(key: string): string | undefined {
    const owner = this.keyOwner.get(key);
    return owner === undefined ? undefined : this.members[owner];
  }

  /** Number of assigned keys. */
  get assignedCount(): number {
    return this.keyOwner.size;
  }

  /** A snapshot of every assignment, key → member, in assignment order. */
  assignments(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [key, m] of this.keyOwner) out.set(key, this.members[m]!);
    return out;
  }

  /** Keys assigned to `member`. */
  keysOf(member: string): string[] {
    const idx = this.members.indexOf(member);
    const out: string[] = [];
    if (idx < 0) return out;
    for (const [key, m] of this.keyOwner) if (m === idx) out.push(key);
    return out;
  }

  /** Current load (assigned keys) per member. */
  loads(): Map<string, number> {
    const out = new Map<string, number>();
    this.members.forEach((name, i) => {
      out.set(name, this.load[i]!);
    });
    return out;
  }

  /** Load of `member` (0 if unknown). */
  loadOf(member: string): number {
    const i = this.members.indexOf(member);
    return i < 0 ? 0 : this.load[i]!;
  }

  /** Capacity of `member` for `keys` assigned keys (default: the current count). */
  capacityOf(member: string, keys = this.keyOwner.size): number {
    const i = this.members.indexOf(member);
    if (i < 0) return 0;
    return this.capacity(i, keys);
  }

  /** Adds a member. No key moves; call {@link rebalance} to give it its share. */
  override add(member: string, weight = 1): this {
    super.add(member, weight);
    return this;
  }

  /** Removes a member and re-assigns its keys (only they move). */
  override remove(member: string): this {
    const removed = this.members.indexOf(member);
    super.remove(member);
    if (removed < 0) return this;
    // Indexes above the removed one shift down by one.
    const orphans: string[] = [];
    for (const [key, m] of this.keyOwner) {
      if (m === removed) orphans.push(key);
      else if (m > removed) this.keyOwner.set(key, m - 1);
    }
    for (const key of orphans) this.keyOwner.delete(key);
    this.load = this.members.map(() => 0);
    for (const m of this.keyOwner.values()) this.load[m]!++;
    for (const key of orphans) {
      const m = this.pick(key, this.keyOwner.size + 1);
      this.keyOwner.set(key, m);
      this.load[m]!++;
    }
    return this;
  }

  /**
   * Re-assigns every key from scratch, in assignment order, against the current members, and
   * returns the keys that changed member. Use after `add` so the new member takes its share.
   */
  rebalance(): Move<string>[] {
    const before = this.assignments();
    const keys = [...this.keyOwner.keys()];
    this.keyOwner.clear();
    this.load = this.members.map(() => 0);
    for (const key of keys) this.assign(key);
    return diffOwners(before, this.assignments());
  }

  /** Releases every key. */
  clear(): void {
    this.keyOwner.clear();
    this.load = this.members.map(() => 0);
  }

  protected override rebuild(): void {
    super.rebuild();
    // Additions append a member with load 0; `remove` recomputes the loads itself.
    while (this.load.length < this.names.length) this.load.push(0);
    this.load.length = this.names.length;
    this.totalWeight = this.weights.reduce((a, b) => a + b, 0);
  }

  private capacity(memberIndex: number, keys: number): number {
    return Math.ceil((this.factor * keys * this.weights[memberIndex]!) / this.totalWeight);
  }

  /** The first member clockwise from `key` with room for `keys` assigned keys. */
  private pick(key: string, keys: number): number {
    const ring = this.ring;
    const n = this.members.length;
    const caps = this.caps.length === n ? this.caps : (this.caps = new Array<number>(n));
    for (let m = 0; m < n; m++) caps[m] = this.capacity(m, keys);
    let i = ring.indexOf(this.hash(key) >>> 0);
    for (let steps = 0; steps < ring.size; steps++) {
      const m = ring.owners[i]!;
      if (this.load[m]! < caps[m]!) return m;
      i = i + 1 === ring.size ? 0 : i + 1;
    }
    // Unreachable while factor >= 1 (capacities sum to at least `keys`); kept as a guard.
    throw new SluiceError('INVALID_STATE', 'consistentHash: no member has room under the bounded load', {
      context: { keys, factor: this.factor },
    });
  }
}
