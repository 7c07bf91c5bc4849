// Ring: the immutable sorted hash ring with a top-bits lookup table used by the consistent-hash partitioners.
import type { StringHash } from './fastHash.ts';

/**
 * An immutable hash ring: sorted 32-bit points, the member index owning each point, and a
 * lookup table over the top bits of the hash that narrows the search for the successor point to
 * (on average) less than one step. Internal to the consistent-hash partitioners.
 *
 * Point `i` of member `m` sits at `hash(m + '#' + i)`. Equal points are ordered by member
 * name, so the ring depends only on the set of members and weights, never on insertion order.
 */
export class Ring {
  /** Sorted point positions. */
  readonly points: Uint32Array;
  /** `owners[i]` is the index in `names` of the member owning `points[i]`. */
  readonly owners: Uint32Array;
  /** `table[b]` is the index of the first point >= `b << shift`. */
  private readonly table: Uint32Array;
  /** Hash bits dropped to get a bucket of the lookup table. */
  readonly shift: number;
  /**
   * `direct[b]` is the member owning every hash of bucket `b` when no point falls inside the
   * bucket (most buckets), else `undefined` and the points must be searched.
   */
  readonly direct: (string | undefined)[];
  /** Number of points per member index. */
  readonly pointCounts: Uint32Array;

  constructor(
    readonly names: readonly string[],
    weights: readonly number[],
    vnodes: number,
    hash: StringHash,
  ) {
    const n = names.length;
    // Rank members by name for a deterministic tie-break between equal points.
    const byName = names.map((_, i) => i).sort((a, b) => (names[a]! < names[b]! ? -1 : 1));
    const rank = new Uint32Array(n);
    byName.forEach((memberIndex, r) => {
      rank[memberIndex] = r;
    });
    this.pointCounts = new Uint32Array(n);
    let total = 0;
    for (let m = 0; m < n; m++) {
      const count = Math.max(1, Math.round(vnodes * weights[m]!));
      this.pointCounts[m] = count;
      total += count;
    }
    // Pack (point, rank) into one double so a numeric typed-array sort orders both at once.
    const RANK_SPACE = 2 ** 21;
    const packed = new Float64Array(total);
    let p = 0;
    for (let m = 0; m < n; m++) {
      const name = names[m]!;
      const count = this.pointCounts[m]!;
      for (let i = 0; i < count; i++) packed[p++] = (hash(`${name}#${i}`) >>> 0) * RANK_SPACE + rank[m]!;
    }
    packed.sort();
    this.points = new Uint32Array(total);
    this.owners = new Uint32Array(total);
    for (let i = 0; i < total; i++) {
      const v = packed[i]!;
      const r = v % RANK_SPACE;
      this.points[i] = (v - r) / RANK_SPACE;
      this.owners[i] = byName[r]!;
    }
    // Lookup table: about four buckets per point, at most 2^20 buckets.
    let bits = 8;
    while (bits < 20 && 2 ** bits < total * 4) bits++;
    this.shift = 32 - bits;
    const size = 2 ** bits;
    this.table = new Uint32Array(size + 1);
    let j = 0;
    for (let b = 0; b < size; b++) {
      const start = b * 2 ** this.shift;
      while (j < total && this.points[j]! < start) j++;
      this.table[b] = j;
    }
    this.table[size] = total;
    this.direct = new Array<string | undefined>(size);
    for (let b = 0; b < size; b++) {
      const first = this.table[b]!;
      const pointInside = first < this.table[b + 1]!;
      this.direct[b] = pointInside ? undefined : names[this.owners[first === total ? 0 : first]!];
    }
  }

  /** Number of points on the ring. */
  get size(): number {
    return this.points.length;
  }

  /** Index of the first point at or after `h` (wrapping to 0 past the last point). */
  indexOf(h: number): number {
    const points = this.points;
    const len = points.length;
    let i = this.table[h >>> this.shift]!;
    while (i < len && points[i]! < h) i++;
    return i === len ? 0 : i;
  }

  /** Member index owning hash `h`. */
  ownerOf(h: number): number {
    return this.owners[this.indexOf(h)]!;
  }
}
