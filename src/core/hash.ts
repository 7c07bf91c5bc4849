const encoder = new TextEncoder();

/**
 * MurmurHash3 (x86, 32-bit) of the UTF-8 bytes of `key`. Stable across processes, platforms
 * and backends; used to map keys to virtual partitions.
 */
export function murmur3(key: string, seed = 0): number {
  const bytes = encoder.encode(key);
  const len = bytes.length;
  let h = seed >>> 0;
  const nblocks = len >>> 2;
  for (let i = 0; i < nblocks; i++) {
    const o = i << 2;
    let k = (bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24)) >>> 0;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) >>> 0;
  }
  const tail = nblocks << 2;
  const rem = len & 3;
  if (rem > 0) {
    let k = 0;
    if (rem === 3) k ^= bytes[tail + 2]! << 16;
    if (rem >= 2) k ^= bytes[tail + 1]! << 8;
    k ^= bytes[tail]!;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Default number of virtual partitions keys map to. */
export const DEFAULT_PARTITIONS = 256;

/**
 * The virtual partition of a key: `murmur3(key) % partitions`. Every backend and the pipeline
 * use this one function so that a key always lands in the same partition.
 */
export function partitionForKey(key: string, partitions: number): number {
  return murmur3(key) % partitions;
}
