// Jump consistent hash (Lamping & Veach): the bit-exact 64-bit jump() and the JumpHash partitioner.
import { configError, SluiceError } from '../core/errors.ts';
import { murmur3Utf8 } from './fastHash.ts';
import { parseMemberList, parsePositiveInt } from './members.ts';
import type { Partitioner } from './Partitioner.ts';

/** Largest bucket count supported by {@link jumpHash} (the algorithm works on int32 buckets). */
export const MAX_JUMP_BUCKETS = 2 ** 31;

// The 64-bit LCG multiplier of the reference implementation: 2862933555777941757.
const C_HI = 0x27bb2ee6;
const C_LO = 0x87b0b0fd;

/** High 32 bits of the unsigned 64-bit product of two uint32 values. */
function mulHi32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * Jump consistent hash (Lamping & Veach, 2014) of the unsigned 64-bit key `hi·2³² + lo` into
 * `buckets` buckets. Bit-exact with the paper's C++ reference `JumpConsistentHash`.
 */
export function jumpBucket64(hi: number, lo: number, buckets: number): number {
  let kh = hi >>> 0;
  let kl = lo >>> 0;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    // key = key * 2862933555777941757 + 1 (mod 2^64)
    const nl = Math.imul(kl, C_LO) >>> 0;
    const nh = (mulHi32(kl, C_LO) + Math.imul(kh, C_LO) + Math.imul(kl, C_HI)) >>> 0;
    kl = (nl + 1) >>> 0;
    kh = kl === 0 ? (nh + 1) >>> 0 : nh;
    j = Math.floor((b + 1) * (2147483648 / ((kh >>> 1) + 1)));
  }
  return b;
}

/** A key accepted by {@link jumpHash}: a string (hashed), a safe integer >= 0 or a bigint (as uint64). */
export type JumpKey = string | number | bigint;

/**
 * The bucket of `key` among `buckets` by jump consistent hash. Strings are first hashed to 32
 * bits with MurmurHash3; numbers must be safe integers >= 0; bigints are taken modulo 2⁶⁴,
 * exactly like the uint64 keys of the reference implementation.
 *
 * @example
 * ```ts
 * jump(256n, 1024); // 520
 * ```
 */
export function jump(key: JumpKey, buckets: number): number {
  if (typeof key === 'string') return jumpBucket64(0, murmur3Utf8(key), buckets);
  if (typeof key === 'number') {
    if (!Number.isSafeInteger(key) || key < 0)
      throw configError('key', 'a safe integer >= 0, a string or a bigint', key);
    return jumpBucket64(Math.floor(key / 4294967296), key >>> 0, buckets);
  }
  const k = BigInt.asUintN(64, key);
  return jumpBucket64(Number(k >> 32n), Number(k & 0xffffffffn), buckets);
}

/**
 * A jump-consistent-hash partitioner over `n` buckets (members named `'0'..'n-1'`) or over a
 * list of member names (bucket `i` is `members[i]`). No ring, no memory beyond the names,
 * perfectly even spread, and minimal movement: going from `n` to `n + 1` members moves only
 * `1/(n+1)` of the keys, all of them to the new last member.
 *
 * Gotcha: members can only be appended or removed at the end. Removing a member from the
 * middle renumbers the others and moves far more keys; use {@link rendezvous} or
 * {@link consistentHash} when arbitrary members leave.
 */
export class JumpHash implements Partitioner<JumpKey> {
  /** Member names, bucket `i` being `members[i]`. */
  readonly members: readonly string[];

  /** @internal Use {@link jumpHash}. */
  constructor(members: readonly string[]) {
    this.members = members;
  }

  /** Number of buckets. */
  get size(): number {
    return this.members.length;
  }

  /** The bucket index of `key`. */
  bucket(key: JumpKey): number {
    if (typeof key === 'string') return jumpBucket64(0, murmur3Utf8(key), this.members.length);
    return jump(key, this.members.length);
  }

  /** The member owning `key`. */
  route(key: JumpKey): string {
    const b = this.bucket(key);
    const m = this.members[b];
    if (m === undefined) throw new SluiceError('INVALID_STATE', `jumpHash: bucket ${b} out of range`);
    return m;
  }
}

/**
 * Creates a {@link JumpHash} partitioner over `n` buckets (members `'0'..'n-1'`) or over the
 * given member names. `n < 1`, an empty or duplicate member list give `CONFIG_INVALID`.
 *
 * @example
 * ```ts
 * const shards = jumpHash(8);
 * shards.bucket('user-1'); // 0..7
 * jumpHash(['db-a', 'db-b', 'db-c']).route('user-1'); // 'db-a'
 * ```
 */
export function jumpHash(nOrMembers: number | readonly string[]): JumpHash {
  if (typeof nOrMembers === 'number') {
    const n = parsePositiveInt(nOrMembers, 'jumpHash.n', MAX_JUMP_BUCKETS);
    if (n > 1 << 20) {
      throw configError(
        'jumpHash.n',
        'at most 1048576 when members are implied; use jump(key, n) directly',
        n,
      );
    }
    return new JumpHash(Array.from({ length: n }, (_, i) => String(i)));
  }
  return new JumpHash(parseMemberList(nOrMembers, 'jumpHash.members'));
}
