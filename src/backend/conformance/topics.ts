// Conformance tests of ensureTopic and topicInfo.
import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.ts';
import { rejectsWithCode } from './harness.ts';

/** Conformance: `ensureTopic` and `topicInfo`. */
export function topicTests(h: () => Harness): void {
  describe('topics', () => {
    it('ensureTopic creates a topic that topicInfo then describes', async () => {
      const b = h().backend;
      expect(await b.topicInfo('orders')).toBeUndefined();
      expect(await b.ensureTopic('orders', { partitions: 4 })).toEqual({ topic: 'orders', partitions: 4 });
      expect(await b.topicInfo('orders')).toEqual({ topic: 'orders', partitions: 4 });
      for (let p = 0; p < 4; p++) expect(await b.endOffset('orders', p)).toBe(0);
    });

    it('ensureTopic on an existing topic keeps the existing partition count', async () => {
      const b = h().backend;
      await b.ensureTopic('orders', { partitions: 4 });
      expect(await b.ensureTopic('orders', { partitions: 8 })).toEqual({ topic: 'orders', partitions: 4 });
      expect(await b.ensureTopic('orders', { partitions: 1 })).toEqual({ topic: 'orders', partitions: 4 });
      expect(await b.topicInfo('orders')).toEqual({ topic: 'orders', partitions: 4 });
    });

    it('concurrent ensureTopic calls with different counts agree on one count', async () => {
      const b = h().backend;
      const counts = [2, 3, 5, 7, 11, 13];
      const infos = await Promise.all(counts.map((partitions) => b.ensureTopic('race', { partitions })));
      const winner = infos[0]!.partitions;
      expect(counts).toContain(winner);
      for (const info of infos) expect(info).toEqual({ topic: 'race', partitions: winner });
      expect(await b.topicInfo('race')).toEqual({ topic: 'race', partitions: winner });
    });

    it('rejects invalid partition counts and topic names with CONFIG_INVALID', async () => {
      const b = h().backend;
      for (const partitions of [0, -1, 1.5, Number.NaN, 65_537, '4']) {
        await rejectsWithCode(b.ensureTopic('bad', { partitions: partitions as number }), 'CONFIG_INVALID');
      }
      await rejectsWithCode(b.ensureTopic('', { partitions: 1 }), 'CONFIG_INVALID');
      expect(await b.topicInfo('bad')).toBeUndefined();
    });

    it('topics are independent logs', async () => {
      const b = h().backend;
      await b.ensureTopic('a', { partitions: 2 });
      await b.ensureTopic('b', { partitions: 2 });
      await b.append('a', [{ payload: 1, partition: 1 }]);
      expect(await b.endOffset('a', 1)).toBe(1);
      expect(await b.endOffset('b', 1)).toBe(0);
      expect(await b.read('b', 1, 0, 10)).toEqual([]);
    });
  });
}
