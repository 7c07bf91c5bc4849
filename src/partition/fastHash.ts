// The 32-bit string hash the partitioners use: murmur3 over UTF-8, the same as partitionForKey.
/**
 * MurmurHash3 (x86, 32-bit) of the UTF-8 bytes of a key: the same function as `murmur3` in
 * `core/hash.ts` (and therefore as `partitionForKey`), under the name the partitioners use.
 */
export { fmix32, murmur3 as murmur3Utf8 } from '../core/hash.ts';

/** A 32-bit string hash: `(key) => unsigned 32-bit integer`. */
export type StringHash = (key: string) => number;
