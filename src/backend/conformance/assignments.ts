// Conformance: group commit (commitMany) and the runner group assignment store (generation, get, publish).
import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.ts';
import { rejectsWithCode } from './harness.ts';

/** Conformance: `commitMany` decides each commit on its own; `assignments` publishes by compare-and-set on the generation. */
export function assignmentTests(h: () => Harness): void {
  describe('commitMany', () => {
    it('commits every partition of the list, each with its own fence, in one call', async () => {
      const { backend: b, clock } = h();
      const l0 = (await b.leases.acquire('g/t/0', 'a', 1000))!;
      const l2 = (await b.leases.acquire('g/t/2', 'a', 1000))!;
      const out = await b.commitMany('g', 't', [
        { partition: 0, offset: 5, fence: { lease: l0.name, token: l0.fencingToken } },
        { partition: 1, offset: 3 },
        { partition: 2, offset: 9, fence: { lease: l2.name, token: l2.fencingToken + 1 } },
        { partition: 3, offset: 4, fence: { lease: 'g/t/3', token: 1 } },
      ]);
      expect(out).toEqual(['ok', 'ok', 'fenced', 'fenced']);
      expect(await b.committedMany('g', 't', [0, 1, 2, 3])).toEqual([5, 3, 0, 0]);
      // An expired lease fences; a lower offset leaves the committed one.
      await clock.advance(1000);
      expect(
        await b.commitMany('g', 't', [
          { partition: 0, offset: 7, fence: { lease: l0.name, token: l0.fencingToken } },
          { partition: 1, offset: 2 },
        ]),
      ).toEqual(['fenced', 'ok']);
      expect(await b.committedMany('g', 't', [0, 1])).toEqual([5, 3]);
    });

    it('a released or taken-over lease fences; an empty list is a no-op', async () => {
      const { backend: b, clock } = h();
      const first = (await b.leases.acquire('g/t/0', 'a', 100))!;
      await clock.advance(100);
      const second = (await b.leases.acquire('g/t/0', 'b', 100))!;
      expect(
        await b.commitMany('g', 't', [
          { partition: 0, offset: 1, fence: { lease: 'g/t/0', token: first.fencingToken } },
        ]),
      ).toEqual(['fenced']);
      await b.leases.release(second);
      expect(
        await b.commitMany('g', 't', [
          { partition: 0, offset: 1, fence: { lease: 'g/t/0', token: second.fencingToken } },
        ]),
      ).toEqual(['fenced']);
      expect(await b.commitMany('g', 't', [])).toEqual([]);
      expect(await b.committed('g', 't', 0)).toBe(0);
    });

    it('rejects a repeated partition or a negative offset (CONFIG_INVALID) and commits nothing', async () => {
      const b = h().backend;
      const e = await rejectsWithCode(
        b.commitMany('g', 't', [
          { partition: 1, offset: 1 },
          { partition: 1, offset: 2 },
        ]),
        'CONFIG_INVALID',
      );
      expect(e.message).toContain('commits[1].partition');
      await rejectsWithCode(b.commitMany('g', 't', [{ partition: 0, offset: -1 }]), 'CONFIG_INVALID');
      expect(await b.committed('g', 't', 1)).toBe(0);
    });
  });

  describe('assignments', () => {
    const a1 = { leader: 'r1', members: ['r1', 'r2'], owners: [0, 1, 0, -1] };

    it('generation 0 and nothing to get before the first publish', async () => {
      const b = h().backend;
      expect(await b.assignments.generation('g/t')).toBe(0);
      expect(await b.assignments.get('g/t')).toBeUndefined();
    });

    it('publishes generation 1, then 2 only on top of 1; a stale expectation stores nothing', async () => {
      const { backend: b, clock } = h();
      const first = await b.assignments.publish('g/t', 0, a1);
      expect(first).toEqual({ ...a1, generation: 1, publishedAt: clock.now() });
      expect(await b.assignments.publish('g/t', 0, { ...a1, leader: 'r2' })).toBeNull();
      await clock.advance(10);
      const a2 = { leader: 'r2', members: ['r2'], owners: [0, 0, 0, 0] };
      expect(await b.assignments.publish('g/t', 1, a2)).toMatchObject({ generation: 2 });
      expect(await b.assignments.publish('g/t', 1, a1)).toBeNull();
      expect(await b.assignments.generation('g/t')).toBe(2);
      expect(await b.assignments.get('g/t')).toEqual({ ...a2, generation: 2, publishedAt: clock.now() });
      // Names are independent.
      expect(await b.assignments.generation('g/other')).toBe(0);
    });

    it('rejects an owner that is not a member index (CONFIG_INVALID naming it)', async () => {
      const b = h().backend;
      const e = await rejectsWithCode(
        b.assignments.publish('g/t', 0, { leader: 'r1', members: ['r1'], owners: [0, 1] }),
        'CONFIG_INVALID',
      );
      expect(e.message).toContain('assignment.owners[1]');
      await rejectsWithCode(b.assignments.publish('g/t', -1, a1), 'CONFIG_INVALID');
      expect(await b.assignments.generation('g/t')).toBe(0);
    });
  });
}
