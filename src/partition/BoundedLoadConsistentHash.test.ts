// Tests of bounded-load consistent hashing: load caps (property), assign/release, add/remove moves, weights.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { consistentHash } from './consistentHashFactory.ts';
import { diffOwners } from './Partitioner.ts';

const KEYS = Array.from({ length: 100_000 }, (_, i) => `key:${i}`);
const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${i}`);

describe('consistentHash with bounded loads', () => {
  it('keeps max/mean <= 1.05 on 100k keys and 10 members with factor 1.05', () => {
    const ring = consistentHash({ members: names(10), boundedLoad: { factor: 1.05 } });
    ring.assignAll(KEYS);
    const loads = [...ring.loads().values()];
    expect(loads.reduce((a, b) => a + b, 0)).toBe(KEYS.length);
    expect(Math.max(...loads) / (KEYS.length / 10)).toBeLessThanOrEqual(1.05);
    // Most keys still sit on their natural (unbounded) owner.
    const plain = consistentHash({ members: names(10) });
    const natural = KEYS.filter((k) => plain.route(k) === ring.route(k)).length;
    expect(natural / KEYS.length).toBeGreaterThan(0.85);
  });

  it('never exceeds ceil(factor * m / N) while keys are assigned (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.double({ min: 1, max: 2, noNaN: true }),
        fc.array(fc.string({ maxLength: 6 }), { maxLength: 400 }),
        (n, factor, keys) => {
          const ring = consistentHash({ members: names(n), boundedLoad: factor, vnodes: 20 });
          for (const k of keys) {
            ring.assign(k);
            const cap = Math.ceil((factor * ring.assignedCount) / n);
            for (const l of ring.loads().values()) expect(l).toBeLessThanOrEqual(cap);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('assign is idempotent and route agrees with it', () => {
    const ring = consistentHash({ members: ['a', 'b', 'c'], boundedLoad: 1.25 });
    const predicted = ring.route('k1');
    expect(ring.assignedCount).toBe(0);
    const m = ring.assign('k1');
    expect(m).toBe(predicted);
    expect(ring.assign('k1')).toBe(m);
    expect(ring.route('k1')).toBe(m);
    expect(ring.assignmentOf('k1')).toBe(m);
    expect(ring.loadOf(m)).toBe(1);
    expect(ring.release('k1')).toBe(true);
    expect(ring.release('k1')).toBe(false);
    expect(ring.loadOf(m)).toBe(0);
    expect(ring.assignmentOf('k1')).toBeUndefined();
  });

  it('a full member sends new keys further round the ring', () => {
    // factor 1 and 2 members: each takes at most ceil(m/2).
    const ring = consistentHash({ members: ['a', 'b'], boundedLoad: 1 });
    const out = ring.assignAll(KEYS.slice(0, 1001));
    expect(out.size).toBe(1001);
    expect([...ring.loads().values()].sort()).toEqual([500, 501]);
  });

  it('removing a member re-assigns only its keys, within capacity', () => {
    const ring = consistentHash({ members: names(5), boundedLoad: 1.1 });
    ring.assignAll(KEYS.slice(0, 20_000));
    const before = ring.assignments();
    const gone = ring.keysOf('node-2');
    ring.remove('node-2');
    const moves = diffOwners(before, ring.assignments());
    expect(moves.length).toBe(gone.length);
    for (const mv of moves) expect(mv.from).toBe('node-2');
    expect(ring.loads().has('node-2')).toBe(false);
    for (const l of ring.loads().values()) expect(l).toBeLessThanOrEqual(Math.ceil((1.1 * 20_000) / 4));
    expect([...ring.loads().values()].reduce((a, b) => a + b, 0)).toBe(20_000);
  });

  it('add moves nothing; rebalance lets the new member take its share', () => {
    const ring = consistentHash({ members: names(4), boundedLoad: 1.1 });
    ring.assignAll(KEYS.slice(0, 20_000));
    const before = ring.assignments();
    ring.add('node-4');
    expect(diffOwners(before, ring.assignments())).toEqual([]);
    expect(ring.loadOf('node-4')).toBe(0);
    const moves = ring.rebalance();
    expect(moves.length).toBeGreaterThan(0);
    for (const l of ring.loads().values()) expect(l).toBeLessThanOrEqual(Math.ceil((1.1 * 20_000) / 5));
    expect(ring.loadOf('node-4')).toBeGreaterThan(20_000 / 5 / 2);
    // Far fewer than all keys move.
    expect(moves.length / 20_000).toBeLessThan(0.5);
    ring.clear();
    expect(ring.assignedCount).toBe(0);
  });

  it('weights scale capacities', () => {
    const ring = consistentHash({ members: { a: 1, b: 3 }, boundedLoad: 1.05 });
    ring.assignAll(KEYS.slice(0, 10_000));
    expect(ring.loadOf('b')).toBeLessThanOrEqual(Math.ceil(1.05 * 10_000 * 0.75));
    expect(ring.loadOf('a')).toBeLessThanOrEqual(Math.ceil(1.05 * 10_000 * 0.25));
    expect(ring.capacityOf('a', 100)).toBe(Math.ceil((1.05 * 100) / 4));
  });
});
