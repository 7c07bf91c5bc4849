/**
 * MurmurHash3 (x86, 32-bit) of the UTF-8 bytes of a key: the same function as `murmur3` in
 * `core/hash.ts` (and therefore as `partitionForKey`), under the name the partitioners use.
 */
export { murmur3 as murmur3Utf8 } from '../core/hash.ts';

/**
 * The MurmurHash3 32-bit finalizer: a bijective mix of a 32-bit integer with full avalanche.
 * Used to derive independent scores from one key hash (rendezvous hashing).
 */
export function fmix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit string hash: `(key) => unsigned 32-bit integer`. */
export type StringHash = (key: string) => number;
