// Tests of murmur3 against published vectors and a byte-level reference (property); partitionForKey range.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur3Reference } from '../../test/support/murmur3Reference.ts';
import { murmur3, partitionForKey } from './hash.ts';

describe('murmur3', () => {
  // Reference values of MurmurHash3_x86_32 (as published with the algorithm's test vectors).
  it.each([
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['a', 0x9747b28c, 0x7fa09ea6],
    ['', 0xffffffff, 0x81f16f39],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['abc', 0, 0xb3dd93fa],
    ['ππππππππ', 0x9747b28c, 0xd58063c1],
    ['abcd', 0x9747b28c, 0xf0478627],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
  ])('murmur3(%j, %d)', (input, seed, expected) => {
    expect(murmur3(input, seed)).toBe(expected);
  });

  it('hashes non-ASCII keys by their UTF-8 bytes', () => {
    // 'é' is C3 A9 in UTF-8; the ASCII fast path must not treat it as one char code.
    expect(murmur3('é')).toBe(murmur3Reference(new Uint8Array([0xc3, 0xa9])));
    expect(murmur3('abcé日本')).toBe(murmur3Reference(new TextEncoder().encode('abcé日本')));
  });

  it('equals the byte-level reference for any string and seed', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })),
        fc.nat(),
        (s, seed) => {
          expect(murmur3(s, seed)).toBe(murmur3Reference(new TextEncoder().encode(s), seed));
        },
      ),
      { numRuns: 2000 },
    );
    const long = 'ü'.repeat(500) + '😀'.repeat(300); // grows the scratch buffer
    expect(murmur3(long, 7)).toBe(murmur3Reference(new TextEncoder().encode(long), 7));
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
