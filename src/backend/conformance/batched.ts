// Conformance: the batched calls readMany, committedMany, leases.acquireMany and leases.renewMany.
import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.ts';
import { rejectsWithCode } from './harness.ts';

/** Conformance: every batched call gives the same answers as the single-item calls, in input order. */
export function batchedTests(h: () => Harness): void {
  describe('readMany', () => {
    async function topic(): Promise<void> {
      const b = h().backend;
      await b.ensureTopic('t', { partitions: 4 });
      for (const p of [0, 2]) {
        await b.append(
          't',
          Array.from({ length: 7 }, (_, i) => ({ payload: { p, i }, partition: p, key: `k${i}` })),
        );
      }
    }

    it('reads thousands of partitions in one call, the ones with events wherever they are in the list', async () => {
      const b = h().backend;
      await b.ensureTopic('wide', { partitions: 9000 });
      const withEvents = [0, 3999, 4000, 8999];
      for (const p of withEvents) await b.append('wide', [{ payload: p, partition: p }]);
      const many = await b.readMany(
        'wide',
        Array.from({ length: 9000 }, (_, p) => ({ partition: p, fromOffset: 0 })),
        10,
      );
      expect(many).toHaveLength(9000);
      const found = many.flatMap((events, p) =>
        events.length > 0 ? [[p, events.map((e) => e.payload)]] : [],
      );
      expect(found).toEqual(withEvents.map((p) => [p, [p]]));
    });

    it('returns, per request and in request order, what read returns', async () => {
      const b = h().backend;
      await topic();
      const requests = [
        { partition: 2, fromOffset: 3 },
        { partition: 1, fromOffset: 0 },
        { partition: 0, fromOffset: 0 },
        { partition: 2, fromOffset: 7 },
        { partition: 0, fromOffset: 5 },
      ];
      const many = await b.readMany('t', requests, 3);
      expect(many).toHaveLength(5);
      for (let i = 0; i < requests.length; i++) {
        const r = requests[i]!;
        expect(many[i]).toEqual(await b.read('t', r.partition, r.fromOffset, 3));
      }
      expect(many.map((events) => events.map((e) => e.offset))).toEqual([
        [3, 4, 5],
        [],
        [0, 1, 2],
        [],
        [5, 6],
      ]);
      expect(many[0]![0]).toMatchObject({ topic: 't', partition: 2, payload: { p: 2, i: 3 }, key: 'k3' });
    });

    it('no requests or a limit of 0 give empty results', async () => {
      const b = h().backend;
      await topic();
      expect(await b.readMany('t', [], 10)).toEqual([]);
      expect(await b.readMany('t', [{ partition: 0, fromOffset: 0 }], 0)).toEqual([[]]);
    });

    it('rejects an out-of-range partition (CONFIG_INVALID) and a missing topic (NOT_FOUND)', async () => {
      const b = h().backend;
      await topic();
      await rejectsWithCode(
        b.readMany(
          't',
          [
            { partition: 0, fromOffset: 0 },
            { partition: 4, fromOffset: 0 },
          ],
          1,
        ),
        'CONFIG_INVALID',
      );
      await rejectsWithCode(b.readMany('t', [{ partition: 0, fromOffset: -1 }], 1), 'CONFIG_INVALID');
      await rejectsWithCode(b.readMany('t', [{ partition: 0, fromOffset: 0 }], -1), 'CONFIG_INVALID');
      await rejectsWithCode(b.readMany('missing', [{ partition: 0, fromOffset: 0 }], 1), 'NOT_FOUND');
    });
  });

  describe('committedMany', () => {
    it('returns each partition committed offset (0 when none), in input order', async () => {
      const b = h().backend;
      await b.commit('g', 't', 3, 12);
      await b.commit('g', 't', 0, 5);
      await b.commit('other', 't', 1, 99);
      expect(await b.committedMany('g', 't', [3, 1, 0, 7])).toEqual([12, 0, 5, 0]);
      expect(await b.committedMany('g', 't', [])).toEqual([]);
      await rejectsWithCode(b.committedMany('g', 't', [-1]), 'CONFIG_INVALID');
    });
  });

  describe('leases.acquireMany / renewMany', () => {
    it('acquires each free name, reports each held one as null, with the tokens acquire would give', async () => {
      const { backend: b, clock } = h();
      const held = await b.leases.acquire('l/1', 'other', 10_000);
      const out = await b.leases.acquireMany(
        [
          { name: 'l/2', owner: 'me#1' },
          { name: 'l/1', owner: 'me#2' },
          { name: 'l/0', owner: 'me#3' },
        ],
        5_000,
      );
      expect(out.map((l) => l && { name: l.name, owner: l.owner, token: l.fencingToken })).toEqual([
        { name: 'l/2', owner: 'me#1', token: 1 },
        null,
        { name: 'l/0', owner: 'me#3', token: 1 },
      ]);
      expect(out[0]!.expiresAt).toBe(clock.now() + 5_000);
      expect((await b.leases.get('l/1'))?.fencingToken).toBe(held!.fencingToken);
      // After expiry the held one is taken with the next token; an owner acquiring again keeps its token.
      await clock.advance(10_000);
      const again = await b.leases.acquireMany(
        [
          { name: 'l/1', owner: 'me#2' },
          { name: 'l/2', owner: 'me#1' },
        ],
        5_000,
      );
      expect(again.map((l) => l?.fencingToken)).toEqual([held!.fencingToken + 1, 1]);
      expect(await b.leases.acquireMany([], 1000)).toEqual([]);
    });

    it('renews every lease still held with its token; lost ones are null; in input order', async () => {
      const { backend: b, clock } = h();
      const [a, c, d] = await b.leases.acquireMany(
        [
          { name: 'r/a', owner: 'me#1' },
          { name: 'r/c', owner: 'me#2' },
          { name: 'r/d', owner: 'me#3' },
        ],
        1_000,
      );
      await clock.advance(1_500); // all expired; nobody took a or d
      const taken = await b.leases.acquire('r/c', 'thief', 1_000);
      expect(taken?.fencingToken).toBe(c!.fencingToken + 1);
      expect(await b.leases.release(d!)).toBe(true);
      const renewed = await b.leases.renewMany([d!, a!, c!], 2_000);
      expect(renewed[0]).toBeNull(); // released
      expect(renewed[1]).toEqual({ ...a!, expiresAt: clock.now() + 2_000 });
      expect(renewed[2]).toBeNull(); // taken by another owner
      expect(await b.leases.get('r/a')).toEqual(renewed[1]);
      expect((await b.leases.get('r/c'))?.owner).toBe('thief');
      expect(await b.leases.renewMany([], 1000)).toEqual([]);
    });

    it('rejects duplicate names and bad arguments with CONFIG_INVALID', async () => {
      const b = h().backend;
      const [x] = await b.leases.acquireMany([{ name: 'd/x', owner: 'o' }], 1000);
      await rejectsWithCode(
        b.leases.acquireMany(
          [
            { name: 'd/y', owner: 'o' },
            { name: 'd/y', owner: 'p' },
          ],
          1000,
        ),
        'CONFIG_INVALID',
      );
      expect(await b.leases.get('d/y')).toBeUndefined();
      await rejectsWithCode(b.leases.renewMany([x!, x!], 1000), 'CONFIG_INVALID');
      await rejectsWithCode(b.leases.acquireMany([{ name: '', owner: 'o' }], 1000), 'CONFIG_INVALID');
      await rejectsWithCode(b.leases.renewMany([x!], 0), 'CONFIG_INVALID');
    });
  });
}
