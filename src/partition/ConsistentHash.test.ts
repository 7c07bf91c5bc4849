// Tests of consistentHash: determinism, spread, keys moved on add/remove, weights, routeMany, validation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { consistentHash } from './consistentHashFactory.ts';

const KEYS = Array.from({ length: 100_000 }, (_, i) => `key:${i}`);
const names = (n: number, prefix = 'node-') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function counts(route: (k: string) => string, keys: readonly string[] = KEYS): Map<string, number> {
  const c = new Map<string, number>();
  for (const k of keys) {
    const m = route(k);
    c.set(m, (c.get(m) ?? 0) + 1);
  }
  return c;
}

describe('consistentHash', () => {
  it('is deterministic and independent of member order', () => {
    const a = consistentHash({ members: ['a', 'b', 'c', 'd'] });
    const b = consistentHash({ members: ['d', 'b', 'a', 'c'] });
    const c = consistentHash({ members: ['a', 'b'] })
      .add('d')
      .add('c');
    for (const k of KEYS.slice(0, 5000)) {
      expect(b.route(k)).toBe(a.route(k));
      expect(c.route(k)).toBe(a.route(k));
    }
    // A fixed literal guards against accidental changes of the ring layout.
    expect(['x', 'y', 'z', 'customer-17'].map((k) => a.route(k))).toEqual(['a', 'd', 'd', 'a']);
  });

  it('spreads 100k keys over 10 members with max/mean <= 1.15 (160 vnodes)', () => {
    const ring = consistentHash({ members: names(10) });
    const c = counts((k) => ring.route(k));
    expect(c.size).toBe(10);
    expect(Math.max(...c.values()) / (KEYS.length / 10)).toBeLessThanOrEqual(1.15);
  });

  it('adding a member moves keys only to it, about 1/(N+1) of them', () => {
    const ratios: number[] = [];
    for (const n of [2, 3, 5, 8, 10, 16, 20, 32]) {
      const ring = consistentHash({ members: names(n) });
      const before = KEYS.map((k) => ring.route(k));
      ring.add(`node-${n}`);
      let moved = 0;
      KEYS.forEach((k, i) => {
        const now = ring.route(k);
        if (now !== before[i]) {
          moved++;
          expect(now).toBe(`node-${n}`);
        }
      });
      const ratio = moved / KEYS.length / (1 / (n + 1));
      ratios.push(ratio);
      // 160 points per member give the new member a share with a standard deviation of
      // about 1/sqrt(160) = 8% of 1/(N+1): a single N stays within 3 sigma.
      expect(ratio).toBeLessThanOrEqual(1.25);
    }
    const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    expect(mean).toBeLessThanOrEqual(1.1);
  });

  it('with 1000 vnodes every N -> N+1 moves <= 1.1 x 1/(N+1) of the keys', () => {
    for (const n of [2, 3, 5, 8, 10, 16, 20]) {
      const ring = consistentHash({ members: names(n), vnodes: 1000 });
      const before = KEYS.map((k) => ring.route(k));
      ring.add(`node-${n}`);
      const moved = KEYS.filter((k, i) => ring.route(k) !== before[i]).length;
      expect(moved / KEYS.length).toBeLessThanOrEqual(1.1 / (n + 1));
    }
  });

  it('removing a member moves only its keys (property)', () => {
    const keys = KEYS.slice(0, 3000);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 2, maxLength: 12 }),
        fc.nat(),
        (members, pick) => {
          const ring = consistentHash({ members, vnodes: 40 });
          const gone = members[pick % members.length]!;
          const before = keys.map((k) => ring.route(k));
          ring.remove(gone);
          keys.forEach((k, i) => {
            if (before[i] !== gone) expect(ring.route(k)).toBe(before[i]);
            else expect(ring.route(k)).not.toBe(gone);
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('weights members proportionally', () => {
    const ring = consistentHash({ members: { small: 1, big: 3 } });
    const c = counts((k) => ring.route(k));
    expect(c.get('big')! / c.get('small')!).toBeGreaterThan(2.6);
    expect(c.get('big')! / c.get('small')!).toBeLessThan(3.4);
    expect(ring.weightOf('big')).toBe(3);
    expect(ring.pointCount).toBe(160 * 4);
    ring.add('medium', 2);
    expect(ring.pointCount).toBe(160 * 6);
  });

  it('routeMany returns distinct members starting with the owner', () => {
    const ring = consistentHash({ members: names(5) });
    for (const k of KEYS.slice(0, 500)) {
      const r = ring.routeMany(k, 3);
      expect(r).toHaveLength(3);
      expect(new Set(r).size).toBe(3);
      expect(r[0]).toBe(ring.route(k));
    }
    expect(ring.routeMany('k', 10)).toHaveLength(5);
  });

  it('accepts a custom hash', () => {
    const ring = consistentHash({ members: ['a', 'b'], hash: (s) => s.length });
    expect(ring.route('x')).toBe(ring.route('y'));
  });

  it('membership errors', () => {
    const ring = consistentHash({ members: ['a', 'b'] });
    expect(() => ring.add('a')).toThrowError(
      'Expected `consistentHash.add.member` to be a new member, got "a"',
    );
    expect(() => ring.add('c', 0)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => ring.remove('zz')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    ring.remove('a');
    expect(ring.members).toEqual(['b']);
    expect(() => ring.remove('b')).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    expect(ring.has('b')).toBe(true);
  });

  it('validates options with CONFIG_INVALID naming the field and value', () => {
    expect(() => consistentHash({ members: [] })).toThrowError(/`consistentHash.members` to be .*, got \[\]/);
    expect(() => consistentHash({ members: ['a', 'b', 'a'] })).toThrowError(
      'Expected `consistentHash.members.2` to be a member not listed twice, got "a"',
    );
    expect(() => consistentHash({ members: ['a', ''] })).toThrowError(/`consistentHash.members.1`.*got ""/);
    expect(() => consistentHash({ members: ['a'], vnodes: 0 })).toThrowError(
      'Expected `consistentHash.vnodes` to be an integer in [1, 65536], got 0',
    );
    expect(() => consistentHash({ members: { a: 1, b: -1 } })).toThrowError(
      /`consistentHash.members.b`.*got -1/,
    );
    expect(() => consistentHash({ members: ['a'], boundedLoad: 0.5 })).toThrowError(
      'Expected `consistentHash.boundedLoad` to be a number >= 1, got 0.5',
    );
    expect(() => consistentHash({ members: ['a'], boundedLoad: { factor: 0 } })).toThrowError(
      'Expected `consistentHash.boundedLoad.factor` to be a number >= 1, got 0',
    );
    expect(() => consistentHash({ members: ['a'], hash: 'md5' as never })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => consistentHash({ members: ['a'], hash: (() => 'x') as never })).toThrowError(
      /`consistentHash.hash` to return a finite number/,
    );
  });
});
