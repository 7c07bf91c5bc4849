import { describe, expect, it } from 'vitest';
import { murmur3, partitionForKey } from './hash.ts';

describe('murmur3', () => {
  // Reference values of MurmurHash3_x86_32 (as published with the algorithm's test vectors).
  it.each([
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['a', 0x9747b28c, 0x7fa09ea6],
    ['abcd', 0x9747b28c, 0xf0478627],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
  ])('murmur3(%j, %d)', (input, seed, expected) => {
    expect(murmur3(input, seed)).toBe(expected);
  });

  it('hashes non-ASCII keys by their UTF-8 bytes', () => {
    // 'é' is C3 A9 in UTF-8; the ASCII fast path must not treat it as one char code.
    expect(murmur3('é')).toBe(murmur3Bytes(new Uint8Array([0xc3, 0xa9])));
    expect(murmur3('abcé日本')).toBe(murmur3Bytes(new TextEncoder().encode('abcé日本')));
  });

  it('partitionForKey is stable and in range', () => {
    for (let i = 0; i < 1000; i++) {
      const p = partitionForKey(`k${i}`, 256);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(256);
      expect(partitionForKey(`k${i}`, 256)).toBe(p);
    }
  });
});

/** Straightforward reference implementation over bytes, for the non-ASCII path. */
function murmur3Bytes(bytes: Uint8Array, seed = 0): number {
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
