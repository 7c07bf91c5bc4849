// Tests of rendezvous hashing: order independence, spread, minimal moves on add/remove, rank, weights.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rendezvous } from './rendezvous.ts';

const KEYS = Array.from({ length: 100_000 }, (_, i) => `key:${i}`);
const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${i}`);

describe('rendezvous', () => {
  it('is deterministic and independent of member order', () => {
    const a = rendezvous(['a', 'b', 'c', 'd']);
    const b = rendezvous(['c', 'a', 'd', 'b']);
    for (const k of KEYS.slice(0, 5000)) expect(b.route(k)).toBe(a.route(k));
  });

  it('spreads 100k keys over 10 members evenly', () => {
    const p = rendezvous(names(10));
    const c = new Map<string, number>();
    for (const k of KEYS) c.set(p.route(k), (c.get(p.route(k)) ?? 0) + 1);
    expect(c.size).toBe(10);
    expect(Math.max(...c.values()) / (KEYS.length / 10)).toBeLessThan(1.04);
    expect(Math.min(...c.values()) / (KEYS.length / 10)).toBeGreaterThan(0.96);
  });

  it('N -> N+1 moves only keys going to the new member, about 1/(N+1)', () => {
    for (const n of [1, 3, 10, 20]) {
      const p = rendezvous(names(n));
      const before = KEYS.map((k) => p.route(k));
      p.add(`node-${n}`);
      let moved = 0;
      KEYS.forEach((k, i) => {
        if (p.route(k) !== before[i]) {
          moved++;
          expect(p.route(k)).toBe(`node-${n}`);
        }
      });
      expect(moved / KEYS.length).toBeLessThan(1.1 / (n + 1));
      expect(moved / KEYS.length).toBeGreaterThan(0.9 / (n + 1));
    }
  });

  it('removing a member moves only its keys (property)', () => {
    const keys = KEYS.slice(0, 2000);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 10 }), { minLength: 2, maxLength: 15 }),
        fc.nat(),
        (members, pick) => {
          const p = rendezvous(members);
          const gone = members[pick % members.length]!;
          const before = keys.map((k) => p.route(k));
          const ranks = keys.map((k) => p.rank(k));
          p.remove(gone);
          keys.forEach((k, i) => {
            if (before[i] !== gone) expect(p.route(k)).toBe(before[i]);
            // A removed owner's key goes to its second choice.
            else expect(p.route(k)).toBe(ranks[i]![1]);
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('rank starts with the owner and lists every member once', () => {
    const p = rendezvous(names(6));
    for (const k of KEYS.slice(0, 500)) {
      const r = p.rank(k);
      expect(r[0]).toBe(p.route(k));
      expect([...r].sort()).toEqual(names(6));
    }
  });

  it('weights members proportionally', () => {
    const p = rendezvous({ a: 1, b: 2, c: 1 });
    const c = new Map<string, number>();
    for (const k of KEYS) c.set(p.route(k), (c.get(p.route(k)) ?? 0) + 1);
    expect(c.get('b')! / KEYS.length).toBeCloseTo(0.5, 1);
    expect(c.get('a')! / KEYS.length).toBeCloseTo(0.25, 1);
    // Equal weights behave exactly like the unweighted form.
    const w = rendezvous({ a: 2, b: 2 });
    const u = rendezvous(['a', 'b']);
    for (const k of KEYS.slice(0, 2000)) expect(w.route(k)).toBe(u.route(k));
  });

  it('validates members', () => {
    expect(() => rendezvous([])).toThrowError(/`rendezvous.members` to be .*got \[\]/);
    expect(() => rendezvous(['a', 'b', 'b'])).toThrowError(/`rendezvous.members.2`.*got "b"/);
    expect(() => rendezvous({ a: 0 })).toThrowError(/`rendezvous.members.a`.*got 0/);
    const p = rendezvous(['a']);
    expect(() => p.add('a')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => p.remove('a')).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    expect(() => p.remove('x')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});
