// consistentHash(): validated options to a ConsistentHash ring, or a bounded-load one with boundedLoad.
import { configError } from '../core/errors.ts';
import { BoundedLoadConsistentHash } from './BoundedLoadConsistentHash.ts';
import { ConsistentHash, checkHash, DEFAULT_VNODES, defaultRingHash } from './ConsistentHash.ts';
import type { StringHash } from './fastHash.ts';
import { type MemberSpec, parseMemberSpec, parsePositiveInt } from './members.ts';

/** Bounded-load setting: the load factor (`>= 1`), as a number or `{ factor }`. */
export type BoundedLoadOption = number | { readonly factor: number };

/** Options of {@link consistentHash}. */
export interface ConsistentHashOptions {
  /** Member names, or `{ member: weight }` (a member of weight 2 gets twice the points). */
  members: MemberSpec;
  /** Ring points per member of weight 1 (default 160). More points: better balance, bigger ring. */
  vnodes?: number;
  /** 32-bit hash of keys and ring points (default: MurmurHash3 x86-32 of the UTF-8 bytes). */
  hash?: StringHash;
  /** Enables consistent hashing with bounded loads; see {@link BoundedLoadConsistentHash}. */
  boundedLoad?: BoundedLoadOption;
}

/**
 * Creates a consistent-hash ring partitioner.
 *
 * Without `boundedLoad` it is a pure function of the key and the member set
 * ({@link ConsistentHash}); with `boundedLoad` it tracks assigned keys and caps every member's
 * load at `ceil(factor × fair share)` ({@link BoundedLoadConsistentHash}).
 *
 * Invalid options throw `CONFIG_INVALID` naming the field: empty or duplicate members,
 * `vnodes < 1`, a weight `<= 0`, a factor `< 1`.
 *
 * @example
 * ```ts
 * const ring = consistentHash({ members: ['w1', 'w2', 'w3'] });
 * ring.route('customer-17'); // 'w2' (always, until membership changes)
 * ring.add('w4');            // about a quarter of the keys move, all to w4
 * ```
 */
export function consistentHash(
  options: ConsistentHashOptions & { boundedLoad: BoundedLoadOption },
): BoundedLoadConsistentHash;
export function consistentHash(options: ConsistentHashOptions): ConsistentHash;
export function consistentHash(options: ConsistentHashOptions): ConsistentHash | BoundedLoadConsistentHash {
  if (typeof options !== 'object' || options === null)
    throw configError('consistentHash', 'an object', options);
  const { names, weights } = parseMemberSpec(options.members, 'consistentHash.members');
  const vnodes = parsePositiveInt(options.vnodes ?? DEFAULT_VNODES, 'consistentHash.vnodes', 1 << 16);
  const hash = options.hash === undefined ? defaultRingHash : checkHash(options.hash, 'consistentHash.hash');
  if (options.boundedLoad === undefined) return new ConsistentHash(names, weights, vnodes, hash);
  const factor = parseFactor(options.boundedLoad);
  return new BoundedLoadConsistentHash(names, weights, vnodes, hash, factor);
}

function parseFactor(option: BoundedLoadOption): number {
  const isObject = typeof option === 'object' && option !== null;
  const factor: unknown = isObject ? (option as { factor?: unknown }).factor : option;
  const field = isObject ? 'consistentHash.boundedLoad.factor' : 'consistentHash.boundedLoad';
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    throw configError(field, 'a number >= 1', factor);
  }
  return factor;
}
