// Tests that murmur3Utf8 is the core murmur3 and that fmix32 matches the MurmurHash3 finalizer.
import { describe, expect, it } from 'vitest';
import { murmur3 } from '../core/hash.ts';
import { fmix32, murmur3Utf8 } from './fastHash.ts';

describe('murmur3Utf8', () => {
  it('is the core murmur3 (the function partitionForKey uses)', () => {
    expect(murmur3Utf8).toBe(murmur3);
  });
});

describe('fmix32', () => {
  it('matches the MurmurHash3 finalizer', () => {
    expect(fmix32(0)).toBe(0);
    // murmur3 of an empty key with seed s is fmix32(s).
    for (const s of [1, 42, 0xdeadbeef]) expect(fmix32(s)).toBe(murmur3('', s));
  });
});
