// Tests of Ring: sorted points per weight, lookup table and direct buckets vs a linear scan, ties by name.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { consistentHash } from './consistentHashFactory.ts';
import { murmur3Utf8 } from './fastHash.ts';
import { Ring } from './Ring.ts';

/** Owner of hash `h` by a linear scan: the first point >= h, wrapping to the first point. */
function naiveOwner(ring: Ring, h: number): string {
  for (let i = 0; i < ring.size; i++) if (ring.points[i]! >= h) return ring.names[ring.owners[i]!]!;
  return ring.names[ring.owners[0]!]!;
}

describe('Ring', () => {
  it('keeps points sorted, with the requested number per member', () => {
    const ring = new Ring(['a', 'b', 'c'], [1, 2, 0.5], 100, (s) => murmur3Utf8(s));
    expect(ring.size).toBe(350);
    expect([...ring.pointCounts]).toEqual([100, 200, 50]);
    for (let i = 1; i < ring.size; i++) expect(ring.points[i]!).toBeGreaterThanOrEqual(ring.points[i - 1]!);
  });

  it('route (lookup table and direct buckets) agrees with a linear scan at and around every point', () => {
    for (const members of [['solo'], ['a', 'b'], Array.from({ length: 13 }, (_, i) => `m${i}`)]) {
      // The custom hash lets the test choose the hash value of a key: route(String(h)) looks h up.
      const cut = consistentHash({
        members,
        vnodes: 37,
        hash: (s) => (/^\d+$/.test(s) ? Number(s) : murmur3Utf8(s)),
      });
      const ring = cut.ring;
      const probes = new Set<number>([0, 1, 2 ** 32 - 1, 2 ** 31, 2 ** 31 - 1]);
      for (const p of ring.points)
        for (const d of [-1, 0, 1]) probes.add(Math.min(2 ** 32 - 1, Math.max(0, p + d)));
      for (let b = 0; b < 4096; b++) probes.add(b * 2 ** 20);
      for (const h of probes) expect(cut.route(String(h))).toBe(naiveOwner(ring, h));
    }
  });

  it('agrees with a linear scan for random hashes (property)', () => {
    const hash = (s: string) => (/^\d+$/.test(s) ? Number(s) : murmur3Utf8(s));
    const cut = consistentHash({ members: ['x', 'y', 'z', 'w'], vnodes: 25, hash });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (h) => {
        expect(cut.route(String(h))).toBe(naiveOwner(cut.ring, h));
      }),
      { numRuns: 5000 },
    );
  });

  it('orders equal points by member name, whatever the insertion order', () => {
    const constant = () => 7;
    const a = new Ring(['b', 'a', 'c'], [1, 1, 1], 3, constant);
    const b = new Ring(['c', 'b', 'a'], [1, 1, 1], 3, constant);
    expect([...a.owners].map((i) => a.names[i])).toEqual(['a', 'a', 'a', 'b', 'b', 'b', 'c', 'c', 'c']);
    expect([...b.owners].map((i) => b.names[i])).toEqual(['a', 'a', 'a', 'b', 'b', 'b', 'c', 'c', 'c']);
    expect(naiveOwner(a, 7)).toBe('a');
    expect(naiveOwner(a, 8)).toBe('a');
  });
});
