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

  it('partitionForKey is stable and in range', () => {
    for (let i = 0; i < 1000; i++) {
      const p = partitionForKey(`k${i}`, 256);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(256);
      expect(partitionForKey(`k${i}`, 256)).toBe(p);
    }
  });
});
