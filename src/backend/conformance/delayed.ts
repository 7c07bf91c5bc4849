// Conformance: delayed events (due / not due, idempotent release by two schedulers, order) and topic TTLs.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../Backend.ts';
import { releaseDue } from '../common/releaseDue.ts';
import { EXPIRES_AT_HEADER, PRIORITY_HEADER } from '../common/timed.ts';
import type { DelayedStore } from '../DelayedStore.ts';
import type { Harness } from './harness.ts';
import { readAll, rejectsWithCode, T0 } from './harness.ts';

function store(b: Backend): DelayedStore {
  if (b.delayed === undefined) throw new Error(`backend ${b.kind} has no delayed store`);
  return b.delayed;
}

async function allEvents(b: Backend, topic: string) {
  const info = await b.topicInfo(topic);
  const out = [];
  for (let p = 0; p < (info?.partitions ?? 0); p++) out.push(...(await readAll(b, topic, p)));
  return out;
}

/** Conformance: delayed events kept aside until due, and released exactly once. */
export function delayedTests(h: () => Harness): void {
  describe('delayed events', () => {
    it('keeps a delayed event out of the topic until due, then releases it once with its id', async () => {
      const { backend: b } = h();
      await b.ensureTopic('t', { partitions: 2 });
      const [r, now] = await b.append('t', [
        { key: 'a', payload: { n: 1 }, delay: '10s' },
        { key: 'a', payload: { n: 0 } },
      ]);
      expect(r).toMatchObject({ offset: -1, deliverAt: T0 + 10_000 });
      expect(now?.offset).toBe(0);
      expect(await store(b).nextDueAt()).toBe(T0 + 10_000);
      expect(await store(b).due(T0 + 9_999, 10)).toEqual([]);
      expect(await store(b).counts()).toEqual([{ topic: 't', count: 1 }]);
      expect((await releaseDue(b, T0 + 9_999, 10)).released).toBe(0);
      expect(await allEvents(b, 't')).toHaveLength(1);
      const due = await store(b).due(T0 + 10_000, 10);
      expect(due).toEqual([
        {
          topic: 't',
          id: r!.id,
          partition: r!.partition,
          key: 'a',
          payload: { n: 1 },
          deliverAt: T0 + 10_000,
        },
      ]);
      expect(await releaseDue(b, T0 + 10_000, 10)).toEqual({ released: 1, deadLettered: 0, more: false });
      const events = await allEvents(b, 't');
      expect(events.map((e) => e.payload)).toEqual([{ n: 0 }, { n: 1 }]);
      expect(events[1]!.id).toBe(r!.id);
      expect(await store(b).nextDueAt()).toBeNull();
      expect(await store(b).counts()).toEqual([]);
    });

    it('two schedulers releasing the same due events append each exactly once', async () => {
      const { backend: b } = h();
      await b.ensureTopic('t', { partitions: 1 });
      await b.append(
        't',
        Array.from({ length: 20 }, (_, i) => ({ id: `e${i}`, payload: i, deliverAt: T0 + 100 + (i % 4) })),
      );
      // Both saw the same due list (a crash between append and remove looks the same).
      const first = await store(b).due(T0 + 200, 100);
      const second = await store(b).due(T0 + 200, 100);
      expect(second).toEqual(first);
      await Promise.all([releaseDue(b, T0 + 200, 7), releaseDue(b, T0 + 200, 7)]);
      await releaseDue(b, T0 + 200, 100);
      await b.append(
        't',
        first.map((e) => ({ id: e.id, payload: e.payload, partition: e.partition })),
      );
      const ids = (await allEvents(b, 't')).map((e) => e.id);
      expect(ids).toHaveLength(20);
      expect(new Set(ids).size).toBe(20);
    });

    it('orders due events by due time, then append order (per key order among events due together)', async () => {
      const { backend: b } = h();
      await b.ensureTopic('t', { partitions: 1 });
      await b.append('t', [
        { key: 'k', payload: 'b1', deliverAt: T0 + 50 },
        { key: 'k', payload: 'a', deliverAt: T0 + 20 },
        { key: 'k', payload: 'b2', deliverAt: T0 + 50 },
      ]);
      await b.append('t', [{ key: 'k', payload: 'b3', deliverAt: new Date(T0 + 50) }]);
      expect((await store(b).due(T0 + 60, 10)).map((e) => e.payload)).toEqual(['a', 'b1', 'b2', 'b3']);
      while ((await releaseDue(b, T0 + 60, 2)).more);
      expect((await allEvents(b, 't')).map((e) => e.payload)).toEqual(['a', 'b1', 'b2', 'b3']);
    });

    it('adding an id already waiting adds nothing; remove says how many went', async () => {
      const { backend: b } = h();
      await b.ensureTopic('t', { partitions: 1 });
      await b.append('t', [{ id: 'x', payload: 1, delay: 1000 }]);
      await b.append('t', [{ id: 'x', payload: 2, delay: 5000 }]);
      expect((await store(b).due(T0 + 10_000, 10)).map((e) => e.payload)).toEqual([1]);
      expect(
        await store(b).remove([
          { topic: 't', id: 'x' },
          { topic: 't', id: 'nope' },
        ]),
      ).toBe(1);
    });

    it('stores ttl and priority as headers; a past deliverAt appends at once', async () => {
      const { backend: b } = h();
      await b.ensureTopic('t', { partitions: 1 });
      await b.append('t', [{ payload: 1, ttl: '1m', priority: 5, deliverAt: T0 - 1 }]);
      await b.append('t', [{ payload: 2, ttl: 1000, delay: '10s' }]);
      const [e] = await allEvents(b, 't');
      expect(e!.headers).toEqual({ [EXPIRES_AT_HEADER]: String(T0 + 60_000), [PRIORITY_HEADER]: '5' });
      const [d] = await store(b).due(T0 + 10_000, 1);
      expect(d!.headers).toEqual({ [EXPIRES_AT_HEADER]: String(T0 + 11_000) });
    });

    it('rejects bad time options with CONFIG_INVALID naming the field, storing nothing', async () => {
      const { backend: b } = h();
      await b.ensureTopic('t', { partitions: 1 });
      for (const bad of [
        { delay: -5 },
        { delay: 'soon' },
        { deliverAt: Number.NaN },
        { delay: 1, deliverAt: T0 },
      ]) {
        const e = await rejectsWithCode(
          b.append('t', [
            { payload: 0, delay: 10 },
            { payload: 1, ...bad },
          ]),
          'CONFIG_INVALID',
        );
        expect(e.message).toMatch(/events\[1\]\.(delay|deliverAt)/);
      }
      await rejectsWithCode(b.append('t', [{ payload: 1, ttl: 0 }]), 'CONFIG_INVALID');
      await rejectsWithCode(b.append('t', [{ payload: 1, priority: 1.5 }]), 'CONFIG_INVALID');
      await rejectsWithCode(b.append('missing', [{ payload: 1, delay: 10 }]), 'NOT_FOUND');
      expect(await store(b).nextDueAt()).toBeNull();
      expect(await allEvents(b, 't')).toEqual([]);
    });

    it('a due event whose topic is gone is dead-lettered instead of blocking the others', async () => {
      const { backend: b } = h();
      await b.ensureTopic('t', { partitions: 1 });
      await store(b).add('gone', [
        { id: 'g', partition: 0, key: undefined, payload: '1', headers: undefined, deliverAt: T0 },
      ]);
      expect(await releaseDue(b, T0, 10)).toMatchObject({ released: 0, deadLettered: 1 });
      expect((await b.dlq.get('g'))?.error.code).toBe('NOT_FOUND');
      expect(await store(b).nextDueAt()).toBeNull();
    });

    it('keeps a topic default TTL set through ensureTopic (last call with ttl wins)', async () => {
      const { backend: b } = h();
      await b.ensureTopic('t', { partitions: 1, ttl: '1h' });
      expect(await store(b).topicTtl('t')).toBe(3_600_000);
      await b.ensureTopic('t', { partitions: 1 });
      expect(await store(b).topicTtl('t')).toBe(3_600_000);
      await b.ensureTopic('t', { partitions: 1, ttl: 500 });
      expect(await store(b).topicTtl('t')).toBe(500);
      await store(b).setTopicTtl('t', null);
      expect(await store(b).topicTtl('t')).toBeNull();
      await rejectsWithCode(b.ensureTopic('t', { partitions: 1, ttl: '-1s' }), 'CONFIG_INVALID');
    });
  });
}
