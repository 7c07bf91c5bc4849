// Conformance tests of append: routing, input order, dense offsets, ids, atomicity and concurrent writers.
import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../core/hash.ts';
import type { AppendResult } from '../Backend.ts';
import type { Harness } from './harness.ts';
import { readAll, rejectsWithCode, seeded, T0 } from './harness.ts';

/** Conformance: `append` (routing, ordering, ids, atomicity, concurrency). */
export function appendTests(h: () => Harness): void {
  describe('append', () => {
    it('appends in input order with dense offsets within a partition', async () => {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 1 });
      const r1 = await b.append('t', [{ payload: 'a' }, { payload: 'b' }, { payload: 'c' }]);
      const r2 = await b.append('t', [{ payload: 'd' }, { payload: 'e' }]);
      expect([...r1, ...r2].map((r) => [r.partition, r.offset])).toEqual([
        [0, 0],
        [0, 1],
        [0, 2],
        [0, 3],
        [0, 4],
      ]);
      const events = await readAll(b, 't', 0);
      expect(events.map((e) => e.payload)).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(events.map((e) => e.offset)).toEqual([0, 1, 2, 3, 4]);
      expect(events.map((e) => e.id)).toEqual([...r1, ...r2].map((r) => r.id));
      expect(events.every((e) => e.topic === 't' && e.partition === 0)).toBe(true);
    });

    it('routes keyed events to partitionForKey(key, partitions)', async () => {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 8 });
      const keys = Array.from({ length: 40 }, (_, i) => `customer-${i}`);
      const results = await b.append(
        't',
        keys.map((key) => ({ key, payload: key })),
      );
      const used = new Set<number>();
      for (let i = 0; i < keys.length; i++) {
        expect(results[i]!.partition).toBe(partitionForKey(keys[i]!, 8));
        used.add(results[i]!.partition);
      }
      expect(used.size).toBeGreaterThan(1);
      for (const p of used) {
        const events = await readAll(b, 't', p);
        const expected = keys.filter((k) => partitionForKey(k, 8) === p);
        expect(events.map((e) => e.key)).toEqual(expected);
        expect(events.map((e) => e.payload)).toEqual(expected);
      }
    });

    it('an explicit partition wins over the key; no key and no partition means partition 0', async () => {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 4 });
      const key = 'k';
      const explicit = (partitionForKey(key, 4) + 1) % 4;
      const [a, c] = await b.append('t', [{ key, partition: explicit, payload: 1 }, { payload: 2 }]);
      expect(a!.partition).toBe(explicit);
      expect(c!.partition).toBe(0);
      const [ev] = await b.read('t', explicit, 0, 1);
      expect(ev).toMatchObject({ key, payload: 1, partition: explicit });
    });

    it('returns one result per input in input order across partitions', async () => {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 3 });
      const plan = [2, 0, 2, 1, 0, 2, 2, 1];
      const results = await b.append(
        't',
        plan.map((partition, i) => ({ partition, payload: i })),
      );
      expect(results.map((r) => r.partition)).toEqual(plan);
      const next = [0, 0, 0];
      for (const r of results) expect(r.offset).toBe(next[r.partition]!++);
      for (let p = 0; p < 3; p++) {
        const events = await readAll(b, 't', p);
        expect(events.map((e) => e.payload)).toEqual(plan.flatMap((q, i) => (q === p ? [i] : [])));
      }
    });

    it('an out-of-range partition rejects the whole batch with CONFIG_INVALID', async () => {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 4 });
      for (const partition of [4, -1, 1.5]) {
        await rejectsWithCode(
          b.append('t', [
            { payload: 'ok', partition: 0 },
            { payload: 'bad', partition },
          ]),
          'CONFIG_INVALID',
        );
      }
      for (let p = 0; p < 4; p++) expect(await b.endOffset('t', p)).toBe(0);
    });

    it('rejects invalid event fields with CONFIG_INVALID and appends nothing', async () => {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 1 });
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const bad: unknown[] = [
        { payload: undefined },
        { payload: () => 1 },
        { payload: 10n },
        { payload: cyclic },
        { payload: 1, id: '' },
        { payload: 1, key: 7 },
        { payload: 1, headers: { a: 1 } },
      ];
      for (const ev of bad) {
        await rejectsWithCode(
          b.append('t', [{ payload: 'first' }, ev as { payload: unknown }]),
          'CONFIG_INVALID',
        );
      }
      expect(await b.endOffset('t', 0)).toBe(0);
    });

    it('appending to a missing topic rejects with NOT_FOUND', async () => {
      const b = h().backend;
      await rejectsWithCode(b.append('nope', [{ payload: 1 }]), 'NOT_FOUND');
      expect(await b.topicInfo('nope')).toBeUndefined();
    });

    it('an empty batch appends nothing', async () => {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 2 });
      expect(await b.append('t', [])).toEqual([]);
      expect(await b.endOffset('t', 0)).toBe(0);
    });

    it('generates distinct ids when none are given', async () => {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 2 });
      const results = await b.append(
        't',
        Array.from({ length: 50 }, (_, i) => ({ payload: i, partition: i % 2 })),
      );
      const ids = new Set(results.map((r) => r.id));
      expect(ids.size).toBe(50);
      for (const id of ids) expect(typeof id === 'string' && id.length > 0).toBe(true);
    });

    it('a caller id already in the topic is deduplicated: original position returned, nothing appended', async () => {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 4 });
      const [first] = await b.append('t', [{ id: 'evt-1', payload: 'original', partition: 1 }]);
      expect(first).toEqual({ id: 'evt-1', partition: 1, offset: 0 });
      const again = await b.append('t', [
        { id: 'evt-1', payload: 'changed', partition: 3 },
        { id: 'evt-2', payload: 'new', partition: 1 },
      ]);
      expect(again).toEqual([
        { id: 'evt-1', partition: 1, offset: 0 },
        { id: 'evt-2', partition: 1, offset: 1 },
      ]);
      expect(await b.endOffset('t', 3)).toBe(0);
      expect((await readAll(b, 't', 1)).map((e) => e.payload)).toEqual(['original', 'new']);
    });

    it('a duplicate id within one batch is appended once', async () => {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 1 });
      const results = await b.append('t', [
        { id: 'a', payload: 1 },
        { id: 'b', payload: 2 },
        { id: 'a', payload: 3 },
      ]);
      expect(results).toEqual([
        { id: 'a', partition: 0, offset: 0 },
        { id: 'b', partition: 0, offset: 1 },
        { id: 'a', partition: 0, offset: 0 },
      ]);
      expect((await readAll(b, 't', 0)).map((e) => e.payload)).toEqual([1, 2]);
    });

    it('ids are unique per topic, not across topics', async () => {
      const b = h().backend;
      await b.ensureTopic('x', { partitions: 1 });
      await b.ensureTopic('y', { partitions: 1 });
      await b.append('x', [{ id: 'same', payload: 'x' }]);
      expect(await b.append('y', [{ id: 'same', payload: 'y' }])).toEqual([
        { id: 'same', partition: 0, offset: 0 },
      ]);
      expect((await b.read('y', 0, 0, 10)).map((e) => e.payload)).toEqual(['y']);
    });

    it('stamps events with the time of the backend clock', async () => {
      const { backend: b, clock } = h();
      await b.ensureTopic('t', { partitions: 1 });
      await b.append('t', [{ payload: 1 }]);
      await clock.advance(1500);
      await b.append('t', [{ payload: 2 }]);
      expect((await readAll(b, 't', 0)).map((e) => e.timestamp)).toEqual([T0, T0 + 1500]);
    });

    it('round-trips keys and headers; absent ones read back as undefined', async () => {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 1 });
      await b.append('t', [
        {
          payload: 1,
          partition: 0,
          key: 'k-1',
          headers: { trace: 'abc', 'content-type': 'json', empty: '' },
        },
        { payload: 2 },
        { payload: 3, key: '' },
      ]);
      const [a, c, d] = await b.read('t', 0, 0, 10);
      expect(a!.key).toBe('k-1');
      expect(a!.headers).toEqual({ trace: 'abc', 'content-type': 'json', empty: '' });
      expect(c!.key).toBeUndefined();
      expect(c!.headers).toBeUndefined();
      expect(d!.key).toBe('');
    });

    it('concurrent appends from many promises keep offsets dense with no gaps or duplicates', async () => {
      const b = h().backend;
      const partitions = 4;
      await b.ensureTopic('t', { partitions });
      const rnd = seeded(42);
      const producers = Array.from({ length: 40 }, (_, p) =>
        Array.from({ length: 1 + Math.floor(rnd() * 5) }, (_, i) => ({
          payload: { producer: p, seq: i },
          partition: Math.floor(rnd() * partitions),
        })),
      );
      const results = await Promise.all(producers.map((events) => b.append('t', events)));
      const total = producers.reduce((n, evs) => n + evs.length, 0);
      const byPosition = new Map<string, AppendResult>();
      for (const list of results) for (const r of list) byPosition.set(`${r.partition}:${r.offset}`, r);
      expect(byPosition.size).toBe(total);
      let read = 0;
      for (let p = 0; p < partitions; p++) {
        const events = await readAll(b, 't', p);
        expect(events.map((e) => e.offset)).toEqual(events.map((_, i) => i));
        expect(await b.endOffset('t', p)).toBe(events.length);
        for (const e of events) expect(byPosition.get(`${p}:${e.offset}`)?.id).toBe(e.id);
        // Each producer's events keep their order within the partition.
        const seqs = new Map<number, number>();
        for (const e of events) {
          const { producer, seq } = e.payload as { producer: number; seq: number };
          expect(seq).toBeGreaterThan(seqs.get(producer) ?? -1);
          seqs.set(producer, seq);
        }
        read += events.length;
      }
      expect(read).toBe(total);
    });

    it('a pre-aborted signal rejects append and read with ABORTED and appends nothing', async () => {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 1 });
      const ctrl = new AbortController();
      ctrl.abort();
      await rejectsWithCode(b.append('t', [{ payload: 1 }], { signal: ctrl.signal }), 'ABORTED');
      await rejectsWithCode(b.read('t', 0, 0, 10, { signal: ctrl.signal }), 'ABORTED');
      expect(await b.endOffset('t', 0)).toBe(0);
    });
  });
}
