// Conformance: per-topic retention, trim(), OFFSET_TRIMMED reads and idempotency marker removal.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../Backend.ts';
import type { Harness } from './harness.ts';
import { rejectsWithCode } from './harness.ts';

async function fill(b: Backend, topic: string, partition: number, n: number, tag = 'e'): Promise<void> {
  const events = Array.from({ length: n }, (_, i) => ({
    partition,
    id: `${tag}-${partition}-${i}`,
    payload: { i },
  }));
  for (let i = 0; i < events.length; i += 100) await b.append(topic, events.slice(i, i + 100));
}

/** Conformance: retention and trimming. */
export function retentionTests(h: () => Harness): void {
  describe('retention', () => {
    it('maxEvents keeps the newest events per partition; reads below the first offset get OFFSET_TRIMMED', async () => {
      const b = h().backend;
      await b.ensureTopic('logs', { partitions: 2, retention: { maxEvents: 3 } });
      await fill(b, 'logs', 0, 10);
      await fill(b, 'logs', 1, 2);
      const r = await b.trim('logs');
      expect(r.topic).toBe('logs');
      expect(r.partitions).toEqual([
        { partition: 0, firstOffset: 7, removed: 7 },
        { partition: 1, firstOffset: 0, removed: 0 },
      ]);
      expect((await b.read('logs', 0, 7, 100)).map((e) => e.offset)).toEqual([7, 8, 9]);
      expect(await b.retention.firstOffset('logs', 0)).toBe(7);
      expect(await b.endOffset('logs', 0)).toBe(10);
      const err = await rejectsWithCode(b.read('logs', 0, 3, 10), 'OFFSET_TRIMMED');
      expect(err.context).toEqual({ topic: 'logs', partition: 0, requested: 3, firstAvailable: 7 });
      // Appends continue from the end offset, offsets stay dense.
      const [pos] = await b.append('logs', [{ partition: 0, payload: 'next' }]);
      expect(pos!.offset).toBe(10);
      // A second trim removes what the new event pushed out, and only that.
      expect((await b.trim('logs')).partitions[0]).toEqual({ partition: 0, firstOffset: 8, removed: 1 });
    });

    it('maxAge removes events older than now - maxAge, measured at the now passed in', async () => {
      const { backend: b, clock } = h();
      await b.ensureTopic('aged', { partitions: 1, retention: { maxAge: 1000 } });
      await fill(b, 'aged', 0, 3, 'old');
      await clock.advance(600);
      await fill(b, 'aged', 0, 2, 'new');
      const t = clock.now();
      expect((await b.trim('aged', { now: t + 399 })).partitions[0]!.removed).toBe(0);
      expect((await b.trim('aged', { now: t + 401 })).partitions[0]).toEqual({
        partition: 0,
        firstOffset: 3,
        removed: 3,
      });
      expect((await b.read('aged', 0, 3, 10)).map((e) => e.id)).toEqual(['new-0-0', 'new-0-1']);
      expect((await b.trim('aged', { now: t + 1001 })).partitions[0]!.firstOffset).toBe(5);
      expect(await b.read('aged', 0, 5, 10)).toEqual([]);
      await rejectsWithCode(b.read('aged', 0, 4, 10), 'OFFSET_TRIMMED');
    });

    it('afterCommittedBy holds trimming at a lagging group and releases it as the group commits', async () => {
      const b = h().backend;
      await b.ensureTopic('held', {
        partitions: 1,
        retention: { maxEvents: 2, afterCommittedBy: ['slow', 'fast'] },
      });
      await fill(b, 'held', 0, 10);
      await b.commit('fast', 'held', 0, 10);
      // "slow" never committed: nothing may go.
      expect((await b.trim('held')).partitions[0]!.removed).toBe(0);
      await b.commit('slow', 'held', 0, 4);
      expect((await b.trim('held')).partitions[0]).toEqual({ partition: 0, firstOffset: 4, removed: 4 });
      expect((await b.read('held', 0, 4, 1))[0]!.offset).toBe(4);
      await b.commit('slow', 'held', 0, 9);
      // maxEvents now bounds it (keep 2 of 10), not the group.
      expect((await b.trim('held')).partitions[0]!.firstOffset).toBe(8);
    });

    it('setRetention changes or clears retention later; ensureTopic with retention updates it', async () => {
      const b = h().backend;
      await b.ensureTopic('cfg', { partitions: 1 });
      expect(await b.retention.get('cfg')).toBeNull();
      await fill(b, 'cfg', 0, 5);
      expect((await b.trim('cfg')).partitions[0]!.removed).toBe(0);
      await b.setRetention('cfg', { maxEvents: 4, afterCommittedBy: ['g'] });
      expect(await b.retention.get('cfg')).toEqual({ maxEvents: 4, afterCommittedBy: ['g'] });
      await b.ensureTopic('cfg', { partitions: 9, retention: { maxEvents: 1 } });
      expect(await b.retention.get('cfg')).toEqual({ maxEvents: 1 });
      await b.ensureTopic('cfg', { partitions: 1 });
      expect(await b.retention.get('cfg')).toEqual({ maxEvents: 1 });
      expect((await b.trim('cfg')).partitions[0]!.firstOffset).toBe(4);
      await b.setRetention('cfg', null);
      expect(await b.retention.get('cfg')).toBeNull();
      const list = await b.retention.list();
      expect(list).toEqual([
        { topic: 'cfg', partitions: 1, retention: null, offsets: [{ partition: 0, first: 4, end: 5 }] },
      ]);
    });

    it('rejects bad retention with CONFIG_INVALID and unknown topics with NOT_FOUND', async () => {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 1 });
      for (const bad of [
        { maxEvents: 0 },
        { maxAge: -5 },
        { maxEvents: 1.5 },
        { afterCommittedBy: [''] },
        { other: 1 },
      ]) {
        await rejectsWithCode(b.setRetention('t', bad as never), 'CONFIG_INVALID');
        await rejectsWithCode(
          b.ensureTopic('u', { partitions: 1, retention: bad as never }),
          'CONFIG_INVALID',
        );
      }
      expect(await b.topicInfo('u')).toBeUndefined();
      await rejectsWithCode(b.setRetention('missing', { maxEvents: 1 }), 'NOT_FOUND');
      await rejectsWithCode(b.trim('missing'), 'NOT_FOUND');
      await rejectsWithCode(b.retention.get('missing'), 'NOT_FOUND');
    });

    it('removes idempotency markers below their group committed offset and keeps the others', async () => {
      const b = h().backend;
      await b.ensureTopic('m', { partitions: 2 });
      await fill(b, 'm', 0, 10);
      // Offsets 5 and 7 finished ahead of the committed offset 3.
      await b.commit('g', 'm', 0, 3, { idempotencyKeys: ['k5', 'k7'], idempotencyOffsets: [5, 7] });
      await b.commit('h', 'm', 0, 0, { idempotencyKeys: ['k5'], idempotencyOffsets: [5] });
      await b.commit('g', 'm', 1, 0, { idempotencyKeys: ['p1'], idempotencyOffsets: [0] });
      await b.markProcessed('g', ['loose']);
      expect((await b.trim('m')).markersRemoved).toBe(0);
      await b.commit('g', 'm', 0, 6);
      const r = await b.trim('m');
      expect(r.markersRemoved).toBe(1);
      expect(r.partitions.every((p) => p.removed === 0)).toBe(true);
      expect([...(await b.processed('g', ['k5', 'k7', 'p1', 'loose']))].sort()).toEqual([
        'k7',
        'loose',
        'p1',
      ]);
      expect([...(await b.processed('h', ['k5']))]).toEqual(['k5']);
      await b.commit('g', 'm', 0, 8);
      await b.commit('h', 'm', 0, 6);
      expect((await b.trim('m')).markersRemoved).toBe(2);
      expect([...(await b.processed('g', ['k5', 'k7', 'p1', 'loose']))].sort()).toEqual(['loose', 'p1']);
      expect((await b.processed('h', ['k5'])).size).toBe(0);
      await rejectsWithCode(
        b.commit('g', 'm', 0, 9, { idempotencyKeys: ['a', 'b'], idempotencyOffsets: [1] }),
        'CONFIG_INVALID',
      );
    });

    it('trimmed events are never delivered again: reading on from the first offset yields only newer events', async () => {
      const b = h().backend;
      await b.ensureTopic('once', { partitions: 1, retention: { maxEvents: 5 } });
      const seen = new Set<string>();
      let next = 0;
      for (let round = 0; round < 6; round++) {
        await fill(b, 'once', 0, 4, `r${round}`);
        await b.trim('once');
        const first = await b.retention.firstOffset('once', 0);
        if (next < first) next = first;
        for (const e of await b.read('once', 0, next, 100)) {
          expect(seen.has(e.id)).toBe(false);
          seen.add(e.id);
          next = e.offset + 1;
        }
      }
      expect(await b.endOffset('once', 0)).toBe(24);
      expect(await b.retention.firstOffset('once', 0)).toBe(19);
      // The trimmed ids are gone from the id index too.
      const all = await b.read('once', 0, 19, 100);
      expect(all.map((e) => e.id)).toEqual(['r4-0-3', 'r5-0-0', 'r5-0-1', 'r5-0-2', 'r5-0-3']);
    });
  });
}
