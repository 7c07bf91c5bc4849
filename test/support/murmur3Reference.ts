// A plain MurmurHash3 x86 32-bit over bytes, the independent reference for the optimised hash in tests.
/**
 * A straightforward MurmurHash3 (x86, 32-bit) over bytes, used by tests as an independent
 * reference for the optimised implementation in `src/core/hash.ts`.
 */
export function murmur3Reference(bytes: Uint8Array, seed = 0): number {
  let h = seed >>> 0;
  const n = bytes.length;
  let i = 0;
  const mix = (k: number) => {
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    return Math.imul(k, 0x1b873593);
  };
  for (; i + 4 <= n; i += 4) {
    h ^= mix(bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let j = n - 1; j >= i; j--) k = (k << 8) | bytes[j]!;
  if (n > i) h ^= mix(k);
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
