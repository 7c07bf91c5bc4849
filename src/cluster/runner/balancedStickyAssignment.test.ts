// Tests of balancedStickyAssignment: quotas by member set, stickiness to current holders, determinism.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { balancedStickyAssignment } from './balancedStickyAssignment.ts';

const assign = (partitions: number, members: string[], previous?: readonly (string | undefined)[]) =>
  balancedStickyAssignment({ partitions, members, previous: previous as string[] | undefined });

const countsOf = (owners: readonly string[]) => {
  const m = new Map<string, number>();
  for (const o of owners) m.set(o, (m.get(o) ?? 0) + 1);
  return m;
};

describe('balancedStickyAssignment', () => {
  it('gives contiguous ranges in name order the first time, larger quotas to the first names', () => {
    expect(assign(8, ['c', 'a', 'b'])).toEqual(['a', 'a', 'a', 'b', 'b', 'b', 'c', 'c']);
  });

  it('keeps every partition a member can keep when a member joins', () => {
    const before = assign(16, ['a', 'b', 'c']);
    const after = assign(16, ['a', 'b', 'c', 'd'], before);
    const kept = after.filter((o, p) => o === before[p]).length;
    expect(kept).toBe(12); // 16 - 4 for the newcomer: minimal movement
    expect([...countsOf(after).values()]).toEqual([4, 4, 4, 4]);
  });

  it('hands partitions of a member that is gone (not in members) to the others', () => {
    const before = assign(9, ['a', 'b', 'c']);
    const after = assign(9, ['a', 'c'], before);
    for (let p = 0; p < 9; p++) if (before[p] !== 'b') expect(after[p]).toBe(before[p]);
    expect(countsOf(after).get('a')).toBe(5);
    expect(countsOf(after).get('c')).toBe(4);
  });

  it('is balanced within one partition for any holdings', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { minLength: 1 }),
        fc.array(fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'zz'), { nil: undefined }), {
          maxLength: 64,
        }),
        (partitions, members, holders) => {
          const owners = assign(partitions, members, holders.slice(0, partitions));
          expect(owners).toHaveLength(partitions);
          const counts = [...countsOf(owners).values()];
          const quota = Math.floor(partitions / members.length);
          for (const c of counts) expect(c === quota || c === quota + 1).toBe(true);
          for (const o of owners) expect(members).toContain(o);
        },
      ),
    );
  });

  it('does not change while runners carry it out (releases and acquisitions in any order)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { minLength: 1 }),
        fc.array(fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'x'), { nil: undefined }), {
          maxLength: 40,
        }),
        fc.array(fc.nat(), { maxLength: 120 }),
        (partitions, members, initial, steps) => {
          const holders: (string | undefined)[] = Array.from({ length: partitions }, (_, p) => initial[p]);
          const target = assign(partitions, members, holders);
          // Apply the moves one step at a time: a holder that should not own p releases it; a
          // target owner acquires a free p. The target must stay the same after every step.
          for (const s of steps) {
            const p = s % partitions;
            const h = holders[p];
            if (h !== undefined && h !== target[p]) holders[p] = undefined;
            else if (h === undefined) holders[p] = target[p];
            expect(assign(partitions, members, holders)).toEqual(target);
          }
        },
      ),
    );
  });
});
