// Modulo-MD5 partitioning as Python's int(md5(id).hexdigest(), 16) % n: md5Mod and the ModuloMd5 partitioner.
import { configError } from '../core/errors.ts';
import { md5Words } from './md5.ts';
import { parseMemberList, parsePositiveInt } from './members.ts';
import type { Partitioner } from './Partitioner.ts';

/** Big-endian 16-bit chunk `j` (0..7) of the 128-bit digest held in little-endian words `w`. */
function chunk(w: Int32Array, j: number): number {
  const word = w[j >> 1]!;
  // Digest bytes 2j and 2j+1 are bytes (2j & 3) and (2j & 3) + 1 of word j >> 1.
  const shift = (j & 1) * 16;
  const b0 = (word >>> shift) & 0xff;
  const b1 = (word >>> (shift + 8)) & 0xff;
  return (b0 << 8) | b1;
}

/**
 * `md5(id) mod n` with the digest read as one unsigned 128-bit big-endian integer — the same as
 * Python's `int(hashlib.md5(id.encode()).hexdigest(), 16) % n`. Pure JavaScript MD5 and a
 * long division over 32-bit words (16-bit chunks above `n > 2²¹`, BigInt only when `n > 2³⁷`), so no allocation per call.
 *
 * @example
 * ```ts
 * md5Mod('order-1', 16); // the same bucket a Python worker computes
 * ```
 */
export function md5Mod(id: string, n: number): number {
  const w = md5Words(id);
  if (n <= 2 ** 21) {
    // r·2³² + word < 2⁵³: four steps over big-endian 32-bit words.
    let r = 0;
    for (let j = 0; j < 4; j++) {
      const x = w[j]!;
      const be = (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
      r = (r * 4294967296 + be) % n;
    }
    return r;
  }
  if (n <= 2 ** 37) {
    let r = 0;
    for (let j = 0; j < 8; j++) r = (r * 65536 + chunk(w, j)) % n;
    return r;
  }
  let big = 0n;
  for (let j = 0; j < 8; j++) big = (big << 16n) | BigInt(chunk(w, j));
  return Number(big % BigInt(n));
}

/**
 * Modulo-MD5 partitioner: bucket `md5(id) mod n`, compatible with services that shard with
 * `int(hashlib.md5(id.encode()).hexdigest(), 16) % n` (for instance fleuve workers), so a
 * TypeScript and a Python process agree on the owner of every id.
 *
 * Gotcha: changing `n` moves almost every key (`1 − 1/n` of them); prefer {@link jumpHash} or
 * {@link consistentHash} unless compatibility with such a service is the point.
 */
export class ModuloMd5 implements Partitioner<string> {
  /** Member names; bucket `i` is `members[i]`. */
  readonly members: readonly string[];

  /** @internal Use {@link moduloMd5}. */
  constructor(members: readonly string[]) {
    this.members = members;
  }

  /** The bucket `md5(id) mod n`. */
  bucket(id: string): number {
    return md5Mod(id, this.members.length);
  }

  /** The member owning `id`. */
  route(id: string): string {
    return this.members[md5Mod(id, this.members.length)]!;
  }
}

/**
 * Creates a {@link ModuloMd5} partitioner over `n` buckets (members `'0'..'n-1'`) or over the
 * given member names (bucket `i` is `members[i]`).
 *
 * @example
 * ```ts
 * const p = moduloMd5(4);
 * p.bucket('job-17');                          // 0..3, as Python computes it
 * moduloMd5(['w0', 'w1', 'w2']).route('job-17');
 * ```
 */
export function moduloMd5(nOrMembers: number | readonly string[]): ModuloMd5 {
  if (typeof nOrMembers === 'number') {
    const n = parsePositiveInt(nOrMembers, 'moduloMd5.n');
    if (n > 1 << 20) {
      throw configError(
        'moduloMd5.n',
        'at most 1048576 when members are implied; use md5Mod(id, n) directly',
        n,
      );
    }
    return new ModuloMd5(Array.from({ length: n }, (_, i) => String(i)));
  }
  return new ModuloMd5(parseMemberList(nOrMembers, 'moduloMd5.members'));
}
