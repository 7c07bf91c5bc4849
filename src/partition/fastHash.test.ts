import { describe, expect, it } from 'vitest';
import { murmur3 } from '../core/hash.ts';
import { fmix32, murmur3Utf8 } from './fastHash.ts';

describe('murmur3Utf8', () => {
  // MurmurHash3_x86_32 reference vectors.
  it.each([
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['a', 0x9747b28c, 0x7fa09ea6],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['abc', 0, 0xb3dd93fa],
    ['abcd', 0x9747b28c, 0xf0478627],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
    // Non-ASCII: hashed as UTF-8 bytes.
    ['ππππππππ', 0x9747b28c, 0xd58063c1],
  ])('murmur3Utf8(%j, %d)', (input, seed, expected) => {
    expect(murmur3Utf8(input, seed)).toBe(expected);
  });
});

describe('fmix32', () => {
  it('matches the MurmurHash3 finalizer', () => {
    expect(fmix32(0)).toBe(0);
    // murmur3 of an empty key with seed s is fmix32(s).
    for (const s of [1, 42, 0xdeadbeef]) expect(fmix32(s)).toBe(murmur3('', s));
  });
});
