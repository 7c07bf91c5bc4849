// Unit tests of the balancers: round robin, smooth weighted, least loaded, broadcast, sticky, custom, byName.
import { describe, expect, it } from 'vitest';
import { balancer } from './balancerByName.ts';
import { broadcast } from './broadcast.ts';
import { customBalancer } from './customBalancer.ts';
import { leastLoaded } from './leastLoaded.ts';
import { roundRobin } from './roundRobin.ts';
import { sticky } from './sticky.ts';
import { weightedRoundRobin } from './weightedRoundRobin.ts';

const picks = (n: number, pick: () => string) => Array.from({ length: n }, pick);

describe('roundRobin', () => {
  it('cycles through members in order', () => {
    const lb = roundRobin(['a', 'b', 'c']);
    expect(picks(7, () => lb.pick())).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
    expect(lb.members).toEqual(['a', 'b', 'c']);
  });

  it('validates members', () => {
    expect(() => roundRobin([])).toThrowError(/`roundRobin.members`.*got \[\]/);
    expect(() => roundRobin(['a', 'a'])).toThrowError(/`roundRobin.members.1`.*got "a"/);
  });
});

describe('weightedRoundRobin', () => {
  it('is smooth: nginx order for {a:5, b:1, c:1}', () => {
    const lb = weightedRoundRobin({ a: 5, b: 1, c: 1 });
    expect(picks(14, () => lb.pick())).toEqual([
      'a',
      'a',
      'b',
      'a',
      'c',
      'a',
      'a',
      'a',
      'a',
      'b',
      'a',
      'c',
      'a',
      'a',
    ]);
  });

  it('gives exact proportions over every cycle of sum(weights) picks', () => {
    const weights = { x: 7, y: 3, z: 2, w: 1 };
    const lb = weightedRoundRobin(weights);
    for (let cycle = 0; cycle < 5; cycle++) {
      const c = new Map<string, number>();
      for (const m of picks(13, () => lb.pick())) c.set(m, (c.get(m) ?? 0) + 1);
      expect(Object.fromEntries(c)).toEqual(weights);
    }
  });

  it('never lets a member fall behind its share by a full pick', () => {
    const weights: Record<string, number> = { a: 4, b: 3, c: 2, d: 1 };
    const lb = weightedRoundRobin(weights);
    const seen = new Map<string, number>();
    for (let i = 1; i <= 100; i++) {
      const m = lb.pick();
      seen.set(m, (seen.get(m) ?? 0) + 1);
      for (const [name, w] of Object.entries(weights)) {
        expect(Math.abs((seen.get(name) ?? 0) - (i * w) / 10)).toBeLessThan(1 + 1e-9);
      }
    }
  });

  it('validates weights', () => {
    expect(() => weightedRoundRobin({})).toThrowError(/`weightedRoundRobin.weights`/);
    expect(() => weightedRoundRobin({ a: 0 })).toThrowError(
      'Expected `weightedRoundRobin.weights.a` to be an integer >= 1, got 0',
    );
    expect(() => weightedRoundRobin({ a: 1.5 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('leastLoaded', () => {
  it('picks the member with the fewest in flight, ties round robin', () => {
    const lb = leastLoaded(['a', 'b', 'c']);
    expect(picks(3, () => lb.acquire())).toEqual(['a', 'b', 'c']);
    lb.release('b');
    expect(lb.acquire()).toBe('b');
    lb.release('a');
    lb.release('c');
    // a and c both have 0 in flight: round robin continues after the last pick (b).
    expect(lb.acquire()).toBe('c');
    expect(lb.acquire()).toBe('a');
    expect(lb.loads()).toEqual(
      new Map([
        ['a', 1],
        ['b', 1],
        ['c', 1],
      ]),
    );
  });

  it('releases after run, even on failure', async () => {
    const lb = leastLoaded(['a', 'b']);
    const held = lb.acquire();
    await expect(lb.run(async (m) => m)).resolves.toBe('b');
    await expect(lb.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(lb.inFlight('b')).toBe(0);
    expect(lb.inFlight(held)).toBe(1);
  });

  it('round robin when every pick is released at once', () => {
    const lb = leastLoaded(['a', 'b', 'c']);
    const seq = picks(6, () => {
      const m = lb.pick();
      lb.release(m);
      return m;
    });
    expect(seq).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('rejects bad releases', () => {
    const lb = leastLoaded(['a']);
    expect(() => lb.release('a')).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    expect(() => lb.release('z')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});

describe('broadcast', () => {
  it('returns every member', () => {
    const lb = broadcast(['a', 'b', 'c']);
    expect(lb.pick()).toEqual(['a', 'b', 'c']);
    expect(lb.pick()).toBe(lb.pick());
    expect(Object.isFrozen(lb.pick())).toBe(true);
  });
});

describe('sticky', () => {
  it('sends the same key to the same member and spreads keys', () => {
    const lb = sticky(['a', 'b', 'c']);
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const m = lb.pick(`k${i}`);
      expect(lb.pick(`k${i}`)).toBe(m);
      seen.add(m);
    }
    expect(seen.size).toBe(3);
  });

  it('uses the key function', () => {
    const lb = sticky<{ customer: string; n: number }>(['a', 'b', 'c'], { key: (o) => o.customer });
    for (let i = 0; i < 100; i++)
      expect(lb.pick({ customer: 'c1', n: i })).toBe(lb.pick({ customer: 'c1', n: 0 }));
    expect(() => lb.pick()).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('customBalancer and balancer()', () => {
  it('uses the function and checks its answer', () => {
    const lb = customBalancer((n: number, ms) => ms[n % ms.length]!, ['a', 'b']);
    expect([lb.pick(0), lb.pick(1), lb.pick(2)]).toEqual(['a', 'b', 'a']);
    const bad = customBalancer(() => 'zz', ['a']);
    expect(() => bad.pick(1)).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    expect(() => customBalancer('x' as never, ['a'])).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('builds balancers by name', () => {
    expect(balancer('round_robin', ['a', 'b']).pick()).toBe('a');
    expect(balancer('broadcast', ['a', 'b']).pick()).toEqual(['a', 'b']);
    expect(balancer('least_loaded', ['a', 'b']).pick()).toBe('a');
    expect(balancer('consistent_hash', ['a', 'b']).pick('k')).toBe(sticky(['a', 'b']).pick('k'));
    expect(balancer((_, ms) => ms[1]!, ['a', 'b']).pick()).toBe('b');
    expect(() => balancer('random' as never, ['a'])).toThrowError(/`balancer.strategy`.*got "random"/);
  });
});
