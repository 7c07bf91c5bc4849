// Tests of PartitionAssignment: balance per strategy, minimal sticky moves (brute force), JSON, validation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../core/hash.ts';
import type { AssignmentStrategyName } from './assignmentStrategies.ts';
import { assignPartitions, PartitionAssignment } from './PartitionAssignment.ts';

const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${i}`);
const STRATEGIES: AssignmentStrategyName[] = ['sticky', 'range', 'round_robin', 'consistent_hash'];

function spread(a: PartitionAssignment): number[] {
  return a.members.map((m) => a.partitionsOf(m).length);
}

/** All k-subsets of `items` (small inputs only). */
function subsets<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [first, ...rest] = items;
  return [...subsets(rest, k - 1).map((s) => [first!, ...s]), ...subsets(rest, k)];
}

/**
 * The fewest partitions any balanced assignment over `members` can move from `prev`, by brute
 * force over which members get the larger quota.
 */
function minimalMoves(prev: PartitionAssignment, members: string[]): number {
  const p = prev.partitions;
  const base = Math.floor(p / members.length);
  const extra = p % members.length;
  let bestKept = 0;
  for (const big of subsets(members, extra)) {
    let kept = 0;
    for (const m of members) kept += Math.min(prev.partitionsOf(m).length, base + (big.includes(m) ? 1 : 0));
    bestKept = Math.max(bestKept, kept);
  }
  return p - bestKept;
}

describe('PartitionAssignment', () => {
  it.each(STRATEGIES)(
    '%s assigns every partition and balances within one (or ceil for consistent_hash)',
    (strategy) => {
      for (const n of [1, 3, 7, 10]) {
        const a = PartitionAssignment.create({ members: names(n), strategy });
        expect(a.partitions).toBe(256);
        const s = spread(a);
        expect(s.reduce((x, y) => x + y, 0)).toBe(256);
        expect(Math.max(...s)).toBeLessThanOrEqual(Math.ceil(256 / n));
        if (strategy !== 'consistent_hash')
          expect(Math.min(...s)).toBeGreaterThanOrEqual(Math.floor(256 / n));
        for (let p = 0; p < 256; p++) expect(a.partitionsOf(a.ownerOf(p))).toContain(p);
      }
    },
  );

  it('is deterministic and independent of member order', () => {
    for (const strategy of STRATEGIES) {
      const a = PartitionAssignment.create({ members: ['a', 'b', 'c'], strategy });
      const b = PartitionAssignment.create({ members: ['c', 'a', 'b'], strategy });
      expect(b.ownersArray()).toEqual(a.ownersArray());
    }
  });

  it('range gives contiguous blocks in name order', () => {
    const a = PartitionAssignment.create({ members: ['b', 'a'], partitions: 10, strategy: 'range' });
    expect(a.partitionsOf('a')).toEqual([0, 1, 2, 3, 4]);
    expect(a.partitionsOf('b')).toEqual([5, 6, 7, 8, 9]);
  });

  it('round_robin deals partitions in turn', () => {
    const a = PartitionAssignment.create({
      members: ['a', 'b', 'c'],
      partitions: 7,
      strategy: 'round_robin',
    });
    expect(a.ownersArray()).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('sticky: adding a member moves only what balance requires, all to the new member', () => {
    const a1 = PartitionAssignment.create({ members: names(3) });
    const a2 = a1.reassign(names(4));
    const moves = PartitionAssignment.diff(a1, a2);
    expect(moves).toHaveLength(64);
    for (const m of moves) expect(m.to).toBe('node-3');
    expect(spread(a2)).toEqual([64, 64, 64, 64]);
  });

  it('sticky: removing a member moves only its partitions', () => {
    const a1 = PartitionAssignment.create({ members: names(4) });
    const a2 = a1.reassign(['node-0', 'node-1', 'node-3']);
    const moves = PartitionAssignment.diff(a1, a2);
    expect(moves).toHaveLength(64);
    for (const m of moves) expect(m.from).toBe('node-2');
    expect(spread(a2).sort()).toEqual([85, 85, 86]);
  });

  it('sticky: any membership change moves the minimum a balanced result allows (property)', () => {
    const pool = names(8);
    fc.assert(
      fc.property(
        fc.subarray(pool, { minLength: 1 }),
        fc.subarray(pool, { minLength: 1 }),
        fc.integer({ min: 1, max: 300 }),
        (before, after, partitions) => {
          const a1 = PartitionAssignment.create({ members: before, partitions });
          const a2 = a1.reassign(after);
          const s = spread(a2);
          expect(Math.max(...s) - Math.min(...s)).toBeLessThanOrEqual(1);
          expect(PartitionAssignment.diff(a1, a2).length).toBe(minimalMoves(a1, after));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('consistent_hash depends only on the member set', () => {
    const a1 = PartitionAssignment.create({ members: names(4), strategy: 'consistent_hash' });
    const a2 = a1.reassign(names(5));
    const fresh = PartitionAssignment.create({ members: names(5), strategy: 'consistent_hash' });
    expect(a2.ownersArray()).toEqual(fresh.ownersArray());
    // Close to the 256/5 a balanced result must move.
    expect(PartitionAssignment.diff(a1, a2).length).toBeLessThan((1.5 * 256) / 5);
  });

  it('routes keys through partitionForKey', () => {
    const a = assignPartitions({ members: names(3), partitions: 64 });
    for (let i = 0; i < 2000; i++) {
      const k = `customer-${i}`;
      expect(a.partitionOf(k)).toBe(partitionForKey(k, 64));
      expect(a.route(k)).toBe(a.ownerOf(partitionForKey(k, 64)));
    }
    expect(a.route('héllo')).toBe(a.ownerOf(partitionForKey('héllo', 64)));
  });

  it('accepts a custom strategy and checks its output', () => {
    const allToFirst = PartitionAssignment.create({
      members: ['x', 'y'],
      partitions: 4,
      strategy: ({ partitions, members }) => Array.from({ length: partitions }, () => members[0]!),
    });
    expect(allToFirst.partitionsOf('x')).toEqual([0, 1, 2, 3]);
    expect(allToFirst.partitionsOf('y')).toEqual([]);
    expect(allToFirst.reassign(['y', 'z']).partitionsOf('y')).toEqual([0, 1, 2, 3]);
    expect(() =>
      PartitionAssignment.create({ members: ['x'], partitions: 2, strategy: () => ['x', 'nobody'] }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    expect(() =>
      PartitionAssignment.create({ members: ['x'], partitions: 2, strategy: () => ['x'] }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
  });

  it('round-trips through JSON', () => {
    const a = PartitionAssignment.create({ members: names(3), partitions: 16, strategy: 'range' });
    const b = PartitionAssignment.fromJSON(JSON.parse(JSON.stringify(a)));
    expect(b.ownersArray()).toEqual(a.ownersArray());
    expect(b.strategy).toBe('range');
    expect(PartitionAssignment.diff(a, b)).toEqual([]);
    expect(a.counts()).toEqual(
      new Map([
        ['node-0', 5],
        ['node-1', 5],
        ['node-2', 6],
      ]),
    );
  });

  it('validates with CONFIG_INVALID naming the field', () => {
    expect(() => PartitionAssignment.create({ members: [] })).toThrowError(
      /`partitionAssignment.members`.*got \[\]/,
    );
    expect(() => PartitionAssignment.create({ members: ['a', 'a'] })).toThrowError(
      /`partitionAssignment.members.1`.*got "a"/,
    );
    expect(() => PartitionAssignment.create({ members: ['a'], partitions: 0 })).toThrowError(
      'Expected `partitionAssignment.partitions` to be an integer in [1, 16777216], got 0',
    );
    expect(() => PartitionAssignment.create({ members: ['a'], strategy: 'fancy' as never })).toThrowError(
      /`partitionAssignment.strategy`.*got "fancy"/,
    );
    const a = PartitionAssignment.create({ members: ['a'], partitions: 8 });
    expect(() => a.ownerOf(8)).toThrowError('Expected `partition` to be an integer in [0, 7], got 8');
    expect(() => a.ownerOf(-1)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    const b = PartitionAssignment.create({ members: ['a'], partitions: 16 });
    expect(() => PartitionAssignment.diff(a, b)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => PartitionAssignment.create({ members: ['a'], partitions: 16, previous: a })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
