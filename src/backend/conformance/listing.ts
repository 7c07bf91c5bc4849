// Conformance: listTopics and listGroups (what `sluice status` shows with no --topic/--group).
import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.ts';

/** Conformance: `listTopics` and `listGroups`. */
export function listingTests(h: () => Harness): void {
  describe('listing', () => {
    it('listTopics lists every topic, sorted', async () => {
      const b = h().backend;
      expect(await b.listTopics?.()).toEqual([]);
      await b.ensureTopic('payments', { partitions: 2 });
      await b.ensureTopic('orders', { partitions: 4 });
      await b.ensureTopic('orders', { partitions: 8 });
      expect(await b.listTopics?.()).toEqual(['orders', 'payments']);
    });

    it('listGroups lists each (group, topic) with a committed offset above 0 once, sorted', async () => {
      const b = h().backend;
      await b.ensureTopic('orders', { partitions: 4 });
      await b.ensureTopic('payments', { partitions: 2 });
      expect(await b.listGroups?.()).toEqual([]);
      await b.append('orders', [
        { partition: 1, payload: 1 },
        { partition: 3, payload: 2 },
      ]);
      await b.commit('shipping', 'orders', 1, 1);
      await b.commit('shipping', 'orders', 3, 1);
      await b.append('payments', [{ partition: 0, payload: 3 }]);
      await b.commit('billing', 'payments', 0, 1);
      await b.commit('idle', 'payments', 1, 0); // offset 0: nothing committed yet
      await b.commit('billing', 'orders', 1, 1);
      expect(await b.listGroups?.()).toEqual([
        { group: 'billing', topic: 'orders' },
        { group: 'billing', topic: 'payments' },
        { group: 'shipping', topic: 'orders' },
      ]);
    });
  });
}
