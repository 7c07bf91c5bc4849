// Tests of jump consistent hash: published vectors, a BigInt oracle (property), moves on N+1, validation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur3 } from '../core/hash.ts';
import { jump, jumpHash } from './jumpHash.ts';

/** The paper's algorithm with BigInt arithmetic: an oracle independent of the 32-bit split. */
function reference(key: bigint, buckets: number): number {
  let k = BigInt.asUintN(64, key);
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = BigInt.asUintN(64, k * 2862933555777941757n + 1n);
    j = Math.floor((b + 1) * (2147483648 / (Number(k >> 33n) + 1)));
  }
  return b;
}

const KEYS = Array.from({ length: 100_000 }, (_, i) => `key:${i}`);

describe('jump', () => {
  // Vectors published with implementations of the paper's reference code.
  it.each([
    [0n, 1, 0],
    [3n, 1, 0],
    [0n, 2, 0],
    [4n, 2, 1],
    [7n, 2, 0],
    [1n, 1, 0],
    [42n, 57, 43],
    [1n, 128, 55],
    [129n, 128, 120],
    [256n, 1024, 520],
    [0xdead10ccn, 1, 0],
    [0xdead10ccn, 666, 361],
    [128n, 100_000_000, 38172097],
    [128n, 2147483648, 1644467860],
    [18446744073709551615n, 128, 92],
  ])('jump(%d, %d) = %d', (key, buckets, expected) => {
    expect(jump(key, buckets)).toBe(expected);
    if (key <= BigInt(Number.MAX_SAFE_INTEGER)) expect(jump(Number(key), buckets)).toBe(expected);
  });

  it('agrees with a BigInt implementation of the paper for any uint64 key', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.integer({ min: 1, max: 1 << 20 }),
        (key, n) => {
          expect(jump(key, n)).toBe(reference(key, n));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('hashes string keys with MurmurHash3 first', () => {
    for (const k of ['a', 'user-1', 'héllo']) expect(jump(k, 1000)).toBe(reference(BigInt(murmur3(k)), 1000));
  });

  it('rejects negative or fractional number keys', () => {
    expect(() => jump(-1, 4)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => jump(1.5, 4)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('jumpHash', () => {
  it('N -> N+1 moves exactly the keys that go to the new bucket, about 1/(N+1)', () => {
    for (const n of [1, 2, 5, 10, 33]) {
      const a = jumpHash(n);
      const b = jumpHash(n + 1);
      let moved = 0;
      for (const k of KEYS) {
        const from = a.bucket(k);
        const to = b.bucket(k);
        if (from !== to) {
          moved++;
          expect(to).toBe(n);
        }
      }
      expect(moved / KEYS.length).toBeGreaterThan(0.9 / (n + 1));
      expect(moved / KEYS.length).toBeLessThan(1.1 / (n + 1));
    }
  });

  it('spreads keys evenly', () => {
    const p = jumpHash(10);
    const c = new Array<number>(10).fill(0);
    for (const k of KEYS) c[p.bucket(k)]!++;
    expect(Math.max(...c) / (KEYS.length / 10)).toBeLessThan(1.03);
  });

  it('routes to member names by index', () => {
    const byName = jumpHash(['x', 'y', 'z']);
    const byIndex = jumpHash(3);
    expect(byName.size).toBe(3);
    for (const k of KEYS.slice(0, 1000)) {
      expect(byName.route(k)).toBe(['x', 'y', 'z'][byIndex.bucket(k)]);
      expect(byIndex.route(k)).toBe(String(byIndex.bucket(k)));
    }
    expect(byIndex.route(42n)).toBe(String(jump(42n, 3)));
  });

  it('validates n and members', () => {
    expect(() => jumpHash(0)).toThrowError(
      'Expected `jumpHash.n` to be an integer in [1, 2147483648], got 0',
    );
    expect(() => jumpHash(-3)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => jumpHash([])).toThrowError(/`jumpHash.members`/);
    expect(() => jumpHash(['a', 'a'])).toThrowError(/`jumpHash.members.1`.*got "a"/);
  });
});
