// Conformance tests of consumer-group offsets and idempotency markers.
import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.ts';
import { rejectsWithCode } from './harness.ts';

/** Conformance: consumer-group offsets and idempotency markers. */
export function commitTests(h: () => Harness): void {
  describe('commits', () => {
    it('committed is 0 before any commit, then the last committed offset', async () => {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 2 });
      expect(await b.committed('g', 't', 0)).toBe(0);
      await b.commit('g', 't', 0, 5);
      expect(await b.committed('g', 't', 0)).toBe(5);
      await b.commit('g', 't', 0, 9);
      expect(await b.committed('g', 't', 0)).toBe(9);
    });

    it('a commit never moves the offset backwards (a lower offset is ignored, not an error)', async () => {
      const b = h().backend;
      await b.commit('g', 't', 0, 10);
      await b.commit('g', 't', 0, 3);
      await b.commit('g', 't', 0, 10);
      expect(await b.committed('g', 't', 0)).toBe(10);
      await b.commit('g', 't', 0, 0);
      expect(await b.committed('g', 't', 0)).toBe(10);
    });

    it('offsets are independent per group, topic and partition', async () => {
      const b = h().backend;
      await b.commit('g1', 't', 0, 1);
      await b.commit('g1', 't', 1, 2);
      await b.commit('g1', 'u', 0, 3);
      await b.commit('g2', 't', 0, 4);
      expect(await b.committed('g1', 't', 0)).toBe(1);
      expect(await b.committed('g1', 't', 1)).toBe(2);
      expect(await b.committed('g1', 'u', 0)).toBe(3);
      expect(await b.committed('g2', 't', 0)).toBe(4);
      expect(await b.committed('g2', 't', 1)).toBe(0);
    });

    it('concurrent commits keep the highest offset', async () => {
      const b = h().backend;
      const offsets = [7, 3, 19, 11, 2, 17, 5, 13];
      await Promise.all(offsets.map((o) => b.commit('g', 't', 0, o)));
      expect(await b.committed('g', 't', 0)).toBe(19);
    });

    it('idempotency keys are recorded with the commit and scoped to the group', async () => {
      const b = h().backend;
      await b.commit('g', 't', 0, 2, { idempotencyKeys: ['order-1', 'order-2'] });
      expect(await b.committed('g', 't', 0)).toBe(2);
      expect(await b.processed('g', ['order-1', 'order-2', 'order-3'])).toEqual(
        new Set(['order-1', 'order-2']),
      );
      expect(await b.processed('other', ['order-1', 'order-2'])).toEqual(new Set());
    });

    it('markProcessed records keys without moving any offset', async () => {
      const b = h().backend;
      await b.markProcessed('g', ['k1', 'k2']);
      await b.markProcessed('g', ['k2', 'k3']);
      expect(await b.processed('g', ['k1', 'k2', 'k3', 'k4'])).toEqual(new Set(['k1', 'k2', 'k3']));
      expect(await b.committed('g', 't', 0)).toBe(0);
    });

    it('keys are recorded even when the commit offset is lower than the committed one', async () => {
      const b = h().backend;
      await b.commit('g', 't', 0, 10);
      await b.commit('g', 't', 0, 4, { idempotencyKeys: ['late'] });
      expect(await b.committed('g', 't', 0)).toBe(10);
      expect(await b.processed('g', ['late'])).toEqual(new Set(['late']));
    });

    it('processed of no keys is an empty set; markProcessed of no keys is a no-op', async () => {
      const b = h().backend;
      await b.markProcessed('g', []);
      await b.commit('g', 't', 0, 1, { idempotencyKeys: [] });
      expect(await b.processed('g', [])).toEqual(new Set());
      expect(await b.committed('g', 't', 0)).toBe(1);
    });

    it('rejects invalid offsets, partitions and keys with CONFIG_INVALID and records nothing', async () => {
      const b = h().backend;
      await rejectsWithCode(b.commit('g', 't', 0, -1), 'CONFIG_INVALID');
      await rejectsWithCode(b.commit('g', 't', 0, 1.5), 'CONFIG_INVALID');
      await rejectsWithCode(b.commit('g', 't', -1, 1), 'CONFIG_INVALID');
      await rejectsWithCode(b.commit('', 't', 0, 1), 'CONFIG_INVALID');
      await rejectsWithCode(
        b.commit('g', 't', 0, 5, { idempotencyKeys: ['ok', 3 as unknown as string] }),
        'CONFIG_INVALID',
      );
      await rejectsWithCode(b.markProcessed('g', ['']), 'CONFIG_INVALID');
      expect(await b.committed('g', 't', 0)).toBe(0);
      expect(await b.processed('g', ['ok'])).toEqual(new Set());
    });

    it('a pre-aborted signal rejects commit with ABORTED and records nothing', async () => {
      const b = h().backend;
      const ctrl = new AbortController();
      ctrl.abort();
      await rejectsWithCode(
        b.commit('g', 't', 0, 3, { idempotencyKeys: ['x'], signal: ctrl.signal }),
        'ABORTED',
      );
      expect(await b.committed('g', 't', 0)).toBe(0);
      expect(await b.processed('g', ['x'])).toEqual(new Set());
    });
  });
}
