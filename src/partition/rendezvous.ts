// Rendezvous (highest random weight) hashing partitioner, weighted by the logarithmic method.
import { configError } from '../core/errors.ts';
import { fmix32, murmur3Utf8 } from './fastHash.ts';
import {
  lastMember,
  type MemberSpec,
  notAMember,
  parseMemberName,
  parseMemberSpec,
  parseWeight,
} from './members.ts';
import type { MembershipPartitioner } from './Partitioner.ts';

/**
 * Rendezvous (highest random weight) hashing, Thaler & Ravishankar 1996: every member scores
 * the key and the highest score wins. There is no ring; lookups cost O(members), which is cheap
 * for the tens of members it suits. Movement is exactly minimal: removing a member moves only
 * its keys, adding one moves only the keys it now wins.
 *
 * Score of member `m` for key `k`: `fmix32(murmur3(k) ^ murmur3(m))` (MurmurHash3 of UTF-8
 * bytes and its 32-bit finalizer); ties go to the smaller member name. With weights, the
 * logarithmic method of Schindelhauer & Schomaker: score `weight / -ln(u)`, `u` the uniform
 * score in (0, 1), so a member of weight 2 wins twice as many keys.
 */
export class Rendezvous implements MembershipPartitioner<string> {
  private names: string[] = [];
  private seeds = new Int32Array(0);
  private weights: number[] = [];
  private weighted = false;

  /** @internal Use {@link rendezvous}. */
  constructor(names: readonly string[], weights: readonly number[]) {
    this.set([...names], [...weights]);
  }

  /** The member with the highest score for `key`. */
  route(key: string): string {
    return this.names[this.index(murmur3Utf8(key))]!;
  }

  /** The members ordered by decreasing score for `key`: the owner, then its fallbacks. */
  rank(key: string): string[] {
    const h = murmur3Utf8(key);
    const scored = this.names.map((name, i) => ({ name, s: this.score(h, i) }));
    scored.sort((a, b) => b.s - a.s || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return scored.map((x) => x.name);
  }

  /** The current members, in the order they were added. */
  get members(): readonly string[] {
    return this.names;
  }

  /** Adds a member (weight default 1): only keys it now wins move, all to it. */
  add(member: string, weight = 1): this {
    parseMemberName(member, 'rendezvous.add.member');
    parseWeight(weight, 'rendezvous.add.weight');
    if (this.names.includes(member)) throw configError('rendezvous.add.member', 'a new member', member);
    this.set([...this.names, member], [...this.weights, weight]);
    return this;
  }

  /** Removes a member: only its keys move, each to its next-highest scorer. */
  remove(member: string): this {
    const i = this.names.indexOf(member);
    if (i < 0) throw notAMember(member, 'rendezvous.remove');
    if (this.names.length === 1) throw lastMember(member, 'rendezvous.remove');
    this.set(
      this.names.filter((_, j) => j !== i),
      this.weights.filter((_, j) => j !== i),
    );
    return this;
  }

  private set(names: string[], weights: number[]): void {
    this.names = names;
    this.weights = weights;
    this.seeds = Int32Array.from(names, (n) => murmur3Utf8(n) | 0);
    this.weighted = weights.some((w) => w !== weights[0]);
  }

  private score(h: number, i: number): number {
    const raw = fmix32(h ^ this.seeds[i]!);
    if (!this.weighted) return raw;
    return this.weights[i]! / -Math.log((raw + 0.5) / 4294967296);
  }

  private index(h: number): number {
    const seeds = this.seeds;
    const names = this.names;
    const n = seeds.length;
    let best = 0;
    if (!this.weighted) {
      let bestScore = -1;
      for (let i = 0; i < n; i++) {
        let x = h ^ seeds[i]!;
        x ^= x >>> 16;
        x = Math.imul(x, 0x85ebca6b);
        x ^= x >>> 13;
        x = Math.imul(x, 0xc2b2ae35);
        x ^= x >>> 16;
        const s = x >>> 0;
        if (s > bestScore || (s === bestScore && names[i]! < names[best]!)) {
          bestScore = s;
          best = i;
        }
      }
      return best;
    }
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const s = this.score(h, i);
      if (s > bestScore || (s === bestScore && names[i]! < names[best]!)) {
        bestScore = s;
        best = i;
      }
    }
    return best;
  }
}

/**
 * Creates a rendezvous (HRW) partitioner over member names or `{ member: weight }`.
 * Empty or duplicate members give `CONFIG_INVALID`.
 *
 * @example
 * ```ts
 * const hrw = rendezvous(['cache-1', 'cache-2', 'cache-3']);
 * hrw.route('session-9');  // 'cache-2'
 * hrw.remove('cache-1');   // only cache-1's keys move
 * ```
 */
export function rendezvous(members: MemberSpec): Rendezvous {
  const { names, weights } = parseMemberSpec(members, 'rendezvous.members');
  return new Rendezvous(names, weights);
}
