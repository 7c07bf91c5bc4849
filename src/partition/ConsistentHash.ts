// ConsistentHash, the weighted virtual-node hash ring routing keys to members, and its default key hash.
import { configError, SluiceError } from '../core/errors.ts';
import { murmur3Utf8, type StringHash } from './fastHash.ts';
import { lastMember, notAMember, parseMemberName, parseWeight } from './members.ts';
import type { MembershipPartitioner } from './Partitioner.ts';
import { Ring } from './Ring.ts';

/** Default number of ring points per member of weight 1. */
export const DEFAULT_VNODES = 160;

/**
 * A consistent-hash ring (Karger et al.): each member owns `vnodes × weight` points on a
 * 32-bit ring and a key belongs to the first point clockwise from `hash(key)`. Adding or removing
 * a member only moves the keys of the arcs it gains or loses, about `1/N` of them.
 *
 * Lookups use no allocation: a sorted `Uint32Array` of points, a table over the top hash bits
 * and an inlined MurmurHash3 of the key's UTF-8 bytes. Create it with {@link consistentHash}.
 */
export class ConsistentHash implements MembershipPartitioner<string> {
  /** @internal */
  ring: Ring;
  /** Copies of `ring.direct` and `ring.shift`, one load closer to `route`. */
  private direct: (string | undefined)[];
  private shift: number;
  private readonly defaultHash: boolean;
  /** @internal */
  protected readonly names: string[];
  /** @internal */
  protected readonly weights: number[];
  /** Ring points per member of weight 1. */
  readonly vnodes: number;
  /** The hash used for keys and ring points. */
  readonly hash: StringHash;

  /** @internal Use {@link consistentHash}. */
  constructor(names: readonly string[], weights: readonly number[], vnodes: number, hash: StringHash) {
    this.names = [...names];
    this.weights = [...weights];
    this.vnodes = vnodes;
    this.hash = hash;
    this.ring = new Ring(this.names, this.weights, vnodes, hash);
    this.direct = this.ring.direct;
    this.shift = this.ring.shift;
    this.defaultHash = hash === defaultRingHash;
  }

  /** The member owning `key`. */
  route(key: string): string {
    const h = this.defaultHash ? murmur3Utf8(key) : this.hash(key) >>> 0;
    return this.direct[h >>> this.shift] ?? this.slowRoute(h);
  }

  private slowRoute(h: number): string {
    const ring = this.ring;
    return ring.names[ring.owners[ring.indexOf(h)]!]!;
  }

  /**
   * Up to `count` distinct members for `key`, walking the ring clockwise from the owner: the
   * owner first, then the natural replicas.
   */
  routeMany(key: string, count: number): string[] {
    const ring = this.ring;
    const want = Math.min(count, this.names.length);
    const out: string[] = [];
    const seen = new Uint8Array(this.names.length);
    let i = ring.indexOf(this.hash(key) >>> 0);
    for (let steps = 0; out.length < want && steps < ring.size; steps++) {
      const m = ring.owners[i]!;
      if (seen[m] === 0) {
        seen[m] = 1;
        out.push(ring.names[m]!);
      }
      i = i + 1 === ring.size ? 0 : i + 1;
    }
    return out;
  }

  /** The current members, in the order they were added. */
  get members(): readonly string[] {
    return this.names;
  }

  /** Whether `member` is on the ring. */
  has(member: string): boolean {
    return this.names.includes(member);
  }

  /** The weight of `member` (undefined if it is not a member). */
  weightOf(member: string): number | undefined {
    const i = this.names.indexOf(member);
    return i < 0 ? undefined : this.weights[i];
  }

  /** Total number of points on the ring. */
  get pointCount(): number {
    return this.ring.size;
  }

  /**
   * Adds a member with `weight` (default 1): it gets `round(vnodes × weight)` points.
   * Only keys falling on the arcs it takes move, all of them to the new member.
   */
  add(member: string, weight = 1): this {
    parseMemberName(member, 'consistentHash.add.member');
    parseWeight(weight, 'consistentHash.add.weight');
    if (this.names.includes(member)) throw configError('consistentHash.add.member', 'a new member', member);
    this.names.push(member);
    this.weights.push(weight);
    this.rebuild();
    return this;
  }

  /** Removes a member: only its keys move, each to the next member clockwise. */
  remove(member: string): this {
    const i = this.names.indexOf(member);
    if (i < 0) throw notAMember(member, 'consistentHash.remove');
    if (this.names.length === 1) throw lastMember(member, 'consistentHash.remove');
    this.names.splice(i, 1);
    this.weights.splice(i, 1);
    this.rebuild();
    return this;
  }

  /** @internal Rebuilds the ring after a membership change. */
  protected rebuild(): void {
    this.ring = new Ring(this.names, this.weights, this.vnodes, this.hash);
    this.direct = this.ring.direct;
    this.shift = this.ring.shift;
  }
}

/** The default key hash of the consistent-hash ring: MurmurHash3 x86-32 of the UTF-8 bytes. */
export const defaultRingHash: StringHash = (key) => murmur3Utf8(key);

/** @internal Guards against a custom hash that does not return a number. */
export function checkHash(hash: unknown, field: string): StringHash {
  if (typeof hash !== 'function') throw configError(field, 'a function (key: string) => uint32', hash);
  const probe = (hash as StringHash)('sluice');
  if (typeof probe !== 'number' || !Number.isFinite(probe)) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `Expected \`${field}\` to return a finite number, got ${String(probe)}`,
      {
        context: { field, got: probe },
      },
    );
  }
  return hash as StringHash;
}
