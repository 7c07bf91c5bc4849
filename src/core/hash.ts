// MurmurHash3 x86_32 of a key's UTF-8 bytes (ASCII fast path), its fmix32 finalizer, and partitionForKey.
const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

/**
 * MurmurHash3 (x86, 32-bit) of the UTF-8 bytes of `key`. Stable across processes, platforms
 * and backends; used to map keys to virtual partitions. ASCII keys are hashed from their char
 * codes without encoding or allocating; other keys are encoded into a reused scratch buffer.
 *
 * @example
 * ```ts
 * murmur3('Hello, world!', 0x9747b28c); // 0x24884cba
 * ```
 */
export function murmur3(key: string, seed = 0): number {
  const len = key.length;
  let h = seed | 0;
  let i = 0;
  // OR of every code unit: checked once at the end, so the loop has no early exit.
  let or = 0;
  const end4 = len - 3;
  for (; i < end4; i += 4) {
    const c0 = key.charCodeAt(i);
    const c1 = key.charCodeAt(i + 1);
    const c2 = key.charCodeAt(i + 2);
    const c3 = key.charCodeAt(i + 3);
    or |= c0 | c1 | c2 | c3;
    let k = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rem = len - i;
  if (rem > 0) {
    let k = 0;
    if (rem === 3) {
      const c = key.charCodeAt(i + 2);
      or |= c;
      k ^= c << 16;
    }
    if (rem >= 2) {
      const c = key.charCodeAt(i + 1);
      or |= c;
      k ^= c << 8;
    }
    const c = key.charCodeAt(i);
    or |= c;
    k ^= c;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  if (or >= 0x80) return murmur3Bytes(key, seed);
  return fmix32(h ^ len);
}

/**
 * The MurmurHash3 32-bit finalizer: a bijective mix of a 32-bit integer with full avalanche.
 * Also used to derive independent scores from one key hash (rendezvous hashing).
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

/** Slow path for keys with non-ASCII characters: UTF-8 encode into a reused buffer, then hash. */
function murmur3Bytes(key: string, seed: number): number {
  // A UTF-16 code unit expands to at most 3 UTF-8 bytes.
  if (scratch.length < key.length * 3) scratch = new Uint8Array(key.length * 3);
  const bytes = scratch;
  const len = encoder.encodeInto(key, bytes).written;
  let h = seed | 0;
  const nblocks = len >>> 2;
  for (let b = 0; b < nblocks; b++) {
    const o = b << 2;
    let k = bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
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
    h ^= Math.imul(k, 0x1b873593);
  }
  return fmix32(h ^ len);
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
