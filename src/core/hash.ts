const encoder = new TextEncoder();

/**
 * MurmurHash3 (x86, 32-bit) of the UTF-8 bytes of `key`. Stable across processes, platforms
 * and backends; used to map keys to virtual partitions.
 */
export function murmur3(key: string, seed = 0): number {
  const ascii = murmur3Ascii(key, seed);
  if (ascii >= 0) return ascii;
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

/**
 * MurmurHash3 over a string's char codes when all are ASCII (then identical to hashing its
 * UTF-8 bytes, without encoding); returns -1 on the first non-ASCII char.
 */
function murmur3Ascii(key: string, seed: number): number {
  const len = key.length;
  let h = seed >>> 0;
  const nblocks = len >>> 2;
  let i = 0;
  for (let b = 0; b < nblocks; b++, i += 4) {
    const c0 = key.charCodeAt(i);
    const c1 = key.charCodeAt(i + 1);
    const c2 = key.charCodeAt(i + 2);
    const c3 = key.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) > 127) return -1;
    let k = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rem = len & 3;
  if (rem > 0) {
    let k = 0;
    const c0 = key.charCodeAt(i);
    const c1 = rem >= 2 ? key.charCodeAt(i + 1) : 0;
    const c2 = rem === 3 ? key.charCodeAt(i + 2) : 0;
    if ((c0 | c1 | c2) > 127) return -1;
    k = c0 | (c1 << 8) | (c2 << 16);
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
