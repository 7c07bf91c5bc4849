// Conformance tests of the dead-letter queue: put and re-put, get, ordered list with filters and paging, count, replay, purge.
import { describe, expect, it } from 'vitest';
import type { DeadLetterInput } from '../Backend.ts';
import { DLQ_ID_HEADER } from '../common/deadLetters.ts';
import type { Harness } from './harness.ts';
import { readAll, rejectsWithCode, T0 } from './harness.ts';

function letter(id: string, extra: Partial<DeadLetterInput> = {}): DeadLetterInput {
  return {
    id,
    source: 'pipeline-a',
    payload: { id, amount: 12.5, tags: ['x', 'ü'] },
    error: { name: 'Error', message: `failed ${id}`, code: 'BOOM', retryable: true },
    attempts: 3,
    ...extra,
  };
}

/** Conformance: the dead-letter queue. */
export function dlqTests(h: () => Harness): void {
  describe('dlq', () => {
    it('put stores a new entry with deliveryCount 1 and first = last failure = now', async () => {
      const b = h().backend;
      const input = letter('e1', { topic: 'orders', partition: 2, offset: 17, key: 'cust-9' });
      const expected = { ...input, deliveryCount: 1, firstFailedAt: T0, lastFailedAt: T0 };
      expect(await b.dlq.put(input)).toEqual(expected);
      expect(await b.dlq.get('e1')).toEqual(expected);
      const minimal = await b.dlq.get((await b.dlq.put(letter('e2'))).id);
      expect(minimal?.topic).toBeUndefined();
      expect(minimal?.partition).toBeUndefined();
      expect(minimal?.offset).toBeUndefined();
      expect(minimal?.key).toBeUndefined();
    });

    it('putting an existing id increments deliveryCount and updates error, attempts and lastFailedAt', async () => {
      const { backend: b, clock } = h();
      await b.dlq.put(letter('e1', { topic: 'orders' }));
      await clock.advance(5000);
      const second = await b.dlq.put(
        letter('e1', { topic: 'orders', attempts: 5, error: { name: 'TypeError', message: 'again' } }),
      );
      expect(second).toMatchObject({
        id: 'e1',
        deliveryCount: 2,
        attempts: 5,
        firstFailedAt: T0,
        lastFailedAt: T0 + 5000,
        error: { name: 'TypeError', message: 'again' },
      });
      expect(await b.dlq.get('e1')).toEqual(second);
      expect(await b.dlq.count()).toBe(1);
    });

    it('get of a missing id is undefined', async () => {
      expect(await h().backend.dlq.get('missing')).toBeUndefined();
    });

    it('list is ordered by first failure, then id; a re-put keeps the position', async () => {
      const { backend: b, clock } = h();
      await b.dlq.put(letter('m'));
      await b.dlq.put(letter('z'));
      await clock.advance(10);
      await b.dlq.put(letter('b'));
      await b.dlq.put(letter('a'));
      await clock.advance(10);
      await b.dlq.put(letter('m'));
      expect((await b.dlq.list()).map((e) => e.id)).toEqual(['m', 'z', 'a', 'b']);
    });

    it('list filters by source, topic and ids (combined with AND)', async () => {
      const b = h().backend;
      await b.dlq.put(letter('1', { source: 's1', topic: 't1' }));
      await b.dlq.put(letter('2', { source: 's1', topic: 't2' }));
      await b.dlq.put(letter('3', { source: 's2', topic: 't1' }));
      await b.dlq.put(letter('4', { source: 's2' }));
      const ids = async (f: Parameters<typeof b.dlq.list>[0]) => (await b.dlq.list(f)).map((e) => e.id);
      expect(await ids({ source: 's1' })).toEqual(['1', '2']);
      expect(await ids({ topic: 't1' })).toEqual(['1', '3']);
      expect(await ids({ source: 's2', topic: 't1' })).toEqual(['3']);
      expect(await ids({ ids: ['4', '2', 'nope'] })).toEqual(['2', '4']);
      expect(await ids({ ids: ['1', '2'], source: 's2' })).toEqual([]);
      expect(await ids({ ids: [] })).toEqual([]);
      expect(await ids({})).toEqual(['1', '2', '3', '4']);
    });

    it('list pages with limit and after (the id of the last entry of the previous page)', async () => {
      const { backend: b, clock } = h();
      for (const id of ['e', 'c', 'a']) await b.dlq.put(letter(id));
      await clock.advance(1);
      for (const id of ['d', 'b']) await b.dlq.put(letter(id));
      // Order: a, c, e (first batch, by id), then b, d.
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await b.dlq.list(after === undefined ? { limit: 2 } : { limit: 2, after });
        seen.push(...page.map((e) => e.id));
        if (page.length < 2) break;
        after = page[page.length - 1]!.id;
      }
      expect(seen).toEqual(['a', 'c', 'e', 'b', 'd']);
      expect((await b.dlq.list({ after: 'e' })).map((e) => e.id)).toEqual(['b', 'd']);
      expect((await b.dlq.list({ after: 'd' })).map((e) => e.id)).toEqual([]);
    });

    it('a page after an entry that no longer exists starts at the beginning', async () => {
      const b = h().backend;
      for (const id of ['a', 'b', 'c', 'd']) await b.dlq.put(letter(id, { topic: 'orders' }));
      const first = await b.dlq.list({ limit: 2 });
      expect(first.map((e) => e.id)).toEqual(['a', 'b']);
      await b.dlq.purge({ ids: ['a', 'b'] });
      expect((await b.dlq.list({ limit: 2, after: 'b' })).map((e) => e.id)).toEqual(['c', 'd']);
    });

    it('count matches the filter and ignores limit and after', async () => {
      const b = h().backend;
      await b.dlq.put(letter('1', { source: 's1' }));
      await b.dlq.put(letter('2', { source: 's1' }));
      await b.dlq.put(letter('3', { source: 's2' }));
      expect(await b.dlq.count()).toBe(3);
      expect(await b.dlq.count({ source: 's1' })).toBe(2);
      expect(await b.dlq.count({ source: 's1', limit: 1, after: '1' })).toBe(2);
      expect(await b.dlq.count({ ids: ['3', 'x'] })).toBe(1);
      expect(await b.dlq.count({ source: 'none' })).toBe(0);
    });

    it('replay re-appends to the entry topic, removes the entry and returns its id', async () => {
      const b = h().backend;
      await b.ensureTopic('orders', { partitions: 4 });
      await b.dlq.put(letter('k', { topic: 'orders', partition: 3, key: 'cust-1' }));
      await b.dlq.put(letter('p', { topic: 'orders', partition: 2 }));
      expect((await b.dlq.replay({})).sort()).toEqual(['k', 'p']);
      expect(await b.dlq.count()).toBe(0);
      const events = (await Promise.all([0, 1, 2, 3].map((p) => readAll(b, 'orders', p)))).flat();
      expect(events).toHaveLength(2);
      const byDlqId = new Map(events.map((e) => [e.headers?.[DLQ_ID_HEADER], e]));
      const keyed = byDlqId.get('k')!;
      expect(keyed.payload).toEqual(letter('k').payload);
      expect(keyed.key).toBe('cust-1');
      const [routed] = await b.append('orders', [{ key: 'cust-1', payload: null }]);
      expect(keyed.partition).toBe(routed!.partition);
      expect(keyed.id).not.toBe('k');
      const unkeyed = byDlqId.get('p')!;
      expect(unkeyed.partition).toBe(2);
      expect(unkeyed.key).toBeUndefined();
    });

    it('replay leaves entries without a topic or with a missing topic in place; toTopic takes them', async () => {
      const b = h().backend;
      await b.ensureTopic('retry', { partitions: 1 });
      await b.dlq.put(letter('no-topic'));
      await b.dlq.put(letter('gone-topic', { topic: 'never-created', partition: 0 }));
      expect(await b.dlq.replay({})).toEqual([]);
      expect(await b.dlq.count()).toBe(2);
      expect((await b.dlq.replay({}, { toTopic: 'retry' })).sort()).toEqual(['gone-topic', 'no-topic']);
      expect(await b.dlq.count()).toBe(0);
      const events = await readAll(b, 'retry', 0);
      expect(events.map((e) => e.headers?.[DLQ_ID_HEADER]).sort()).toEqual(['gone-topic', 'no-topic']);
    });

    it('replay only touches entries matching the filter', async () => {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 1 });
      await b.dlq.put(letter('1', { source: 's1', topic: 't' }));
      await b.dlq.put(letter('2', { source: 's2', topic: 't' }));
      await b.dlq.put(letter('3', { source: 's1', topic: 't' }));
      expect((await b.dlq.replay({ source: 's1', ids: ['3', '2'] })).sort()).toEqual(['3']);
      expect((await b.dlq.list()).map((e) => e.id)).toEqual(['1', '2']);
      expect(await b.endOffset('t', 0)).toBe(1);
    });

    it('replay to a missing toTopic rejects with NOT_FOUND and changes nothing', async () => {
      const b = h().backend;
      await b.dlq.put(letter('1'));
      await rejectsWithCode(b.dlq.replay({}, { toTopic: 'missing' }), 'NOT_FOUND');
      expect(await b.dlq.count()).toBe(1);
    });

    it('purge deletes matching entries and returns how many; an empty filter purges all', async () => {
      const b = h().backend;
      for (const [id, source] of [
        ['1', 's1'],
        ['2', 's2'],
        ['3', 's1'],
        ['4', 's3'],
      ] as const) {
        await b.dlq.put(letter(id, { source }));
      }
      expect(await b.dlq.purge({ source: 's1' })).toBe(2);
      expect((await b.dlq.list()).map((e) => e.id)).toEqual(['2', '4']);
      expect(await b.dlq.purge({ ids: ['4', 'missing'] })).toBe(1);
      expect(await b.dlq.purge({ source: 'none' })).toBe(0);
      await b.dlq.put(letter('5'));
      expect(await b.dlq.purge()).toBe(2);
      expect(await b.dlq.count()).toBe(0);
      expect(await b.dlq.purge({})).toBe(0);
    });

    it('concurrent puts of one id count every delivery', async () => {
      const b = h().backend;
      await Promise.all(Array.from({ length: 12 }, (_, i) => b.dlq.put(letter('same', { attempts: i + 1 }))));
      const entry = await b.dlq.get('same');
      expect(entry?.deliveryCount).toBe(12);
      expect(await b.dlq.count()).toBe(1);
    });

    it('rejects invalid filters with CONFIG_INVALID', async () => {
      const b = h().backend;
      await rejectsWithCode(b.dlq.list({ limit: 0 }), 'CONFIG_INVALID');
      await rejectsWithCode(b.dlq.list({ ids: [1 as unknown as string] }), 'CONFIG_INVALID');
      await rejectsWithCode(b.dlq.put({ ...letter('x'), payload: undefined }), 'CONFIG_INVALID');
      expect(await b.dlq.count()).toBe(0);
    });
  });
}
