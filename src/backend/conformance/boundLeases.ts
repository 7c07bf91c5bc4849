// Conformance tests of leases bound to a holder lease (acquireMany's `holder`) and of releaseMany.
import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.ts';
import { rejectsWithCode, T0 } from './harness.ts';

/** Conformance: bound leases follow their holder; releaseMany releases many at once. */
export function boundLeaseTests(h: () => Harness): void {
  describe('leases bound to a holder', () => {
    it('a bound lease is held exactly while its holder is: the holder renewal keeps them all', async () => {
      const { backend: b, clock } = h();
      const holder = (await b.leases.acquire('runner/a', 'a#1', 1000))!;
      const bound = await b.leases.acquireMany(
        [
          { name: 'g/t/0', owner: 'a#1#1' },
          { name: 'g/t/1', owner: 'a#1#2' },
        ],
        60_000,
        { holder },
      );
      const link = { name: 'runner/a', token: holder.fencingToken };
      expect(bound).toEqual([
        {
          name: 'g/t/0',
          owner: 'a#1#1',
          fencingToken: expect.any(Number),
          expiresAt: T0 + 1000,
          holder: link,
        },
        {
          name: 'g/t/1',
          owner: 'a#1#2',
          fencingToken: expect.any(Number),
          expiresAt: T0 + 1000,
          holder: link,
        },
      ]);
      expect(await b.leases.get('g/t/0')).toEqual(bound[0]);
      await clock.advance(900);
      await b.leases.renew(holder, 1000);
      await clock.advance(900);
      // Past the expiry the acquisition had (T0 + 1000): still held, through the holder.
      expect(await b.leases.get('g/t/1')).toEqual({ ...bound[1], expiresAt: T0 + 1900 });
      expect(await b.leases.acquire('g/t/1', 'b#1', 1000)).toBeNull();
      expect((await b.leases.list('g/t/')).map((l) => [l.name, l.expiresAt])).toEqual([
        ['g/t/0', T0 + 1900],
        ['g/t/1', T0 + 1900],
      ]);
      await clock.advance(100);
      // The holder expired: every bound lease is free at once, taken with a larger token.
      expect(await b.leases.get('g/t/0')).toBeUndefined();
      expect(await b.leases.list('g/t/')).toEqual([]);
      const taken = await b.leases.acquire('g/t/0', 'b#1', 1000);
      expect(taken!.fencingToken).toBeGreaterThan(bound[0]!.fencingToken);
      expect(taken!.holder).toBeUndefined();
    });

    it('renewMany checks bound leases without extending them; one taken meanwhile comes back null', async () => {
      const { backend: b, clock } = h();
      const holder = (await b.leases.acquire('runner/a', 'a#1', 1000))!;
      const [p0, p1] = await b.leases.acquireMany(
        [
          { name: 'g/t/0', owner: 'a#1#1' },
          { name: 'g/t/1', owner: 'a#1#2' },
        ],
        1000,
        { holder },
      );
      await clock.advance(1500);
      // The holder lapsed; another runner took partition 1 before the holder came back.
      await b.leases.acquire('g/t/1', 'b#1', 5000);
      const back = await b.leases.renew(holder, 1000);
      expect(back).toEqual({ ...holder, expiresAt: T0 + 2500 });
      expect(await b.leases.renewMany([p0!, p1!], 60_000)).toEqual([{ ...p0, expiresAt: T0 + 2500 }, null]);
      await clock.advance(999);
      expect((await b.leases.get('g/t/0'))?.owner).toBe('a#1#1');
      await clock.advance(1);
      expect(await b.leases.get('g/t/0')).toBeUndefined();
    });

    it('releasing the holder frees its bound leases; releasing a bound lease leaves the holder held', async () => {
      const { backend: b } = h();
      const holder = (await b.leases.acquire('runner/a', 'a#1', 5000))!;
      const [p0, p1] = await b.leases.acquireMany(
        [
          { name: 'g/t/0', owner: 'a#1#1' },
          { name: 'g/t/1', owner: 'a#1#2' },
        ],
        5000,
        { holder },
      );
      expect(await b.leases.release(p0!)).toBe(true);
      expect(await b.leases.get('g/t/0')).toBeUndefined();
      expect((await b.leases.get('runner/a'))?.owner).toBe('a#1');
      expect((await b.leases.get('g/t/1'))?.owner).toBe('a#1#2');
      expect(await b.leases.release(holder)).toBe(true);
      expect(await b.leases.get('g/t/1')).toBeUndefined();
      expect((await b.leases.acquire('g/t/1', 'b#1', 1000))!.fencingToken).toBeGreaterThan(p1!.fencingToken);
    });

    it('a holder that is not held binds nothing: every result is null', async () => {
      const { backend: b, clock } = h();
      const holder = (await b.leases.acquire('runner/a', 'a#1', 1000))!;
      await clock.advance(1000);
      expect(await b.leases.acquireMany([{ name: 'g/t/0', owner: 'a#1#1' }], 1000, { holder })).toEqual([
        null,
      ]);
      await b.leases.acquire('runner/a', 'other#1', 1000);
      expect(await b.leases.acquireMany([{ name: 'g/t/0', owner: 'a#1#1' }], 1000, { holder })).toEqual([
        null,
      ]);
      expect(await b.leases.get('g/t/0')).toBeUndefined();
    });

    it('commits fenced by a bound lease hold while the holder is held, and are FENCED once it lapses', async () => {
      const { backend: b, clock } = h();
      const holder = (await b.leases.acquire('runner/a', 'a#1', 1000))!;
      const [p0] = await b.leases.acquireMany([{ name: 'g/t/0', owner: 'a#1#1' }], 1000, { holder });
      const fence = { lease: 'g/t/0', token: p0!.fencingToken };
      await clock.advance(999);
      await b.commit('g', 't', 0, 1, { fence });
      expect(await b.commitMany('g', 't', [{ partition: 0, offset: 2, fence }])).toEqual(['ok']);
      await clock.advance(1);
      await rejectsWithCode(b.commit('g', 't', 0, 3, { fence }), 'FENCED');
      expect(await b.commitMany('g', 't', [{ partition: 0, offset: 3, fence }])).toEqual(['fenced']);
      expect(await b.committed('g', 't', 0)).toBe(2);
      await b.leases.renew(holder, 1000);
      await b.commit('g', 't', 0, 3, { fence });
      expect(await b.committed('g', 't', 0)).toBe(3);
    });

    it('rejects a bound holder or a holder among the requests with CONFIG_INVALID', async () => {
      const { backend: b } = h();
      const holder = (await b.leases.acquire('runner/a', 'a#1', 1000))!;
      const [p0] = await b.leases.acquireMany([{ name: 'g/t/0', owner: 'a#1#1' }], 1000, { holder });
      const nested = await rejectsWithCode(
        b.leases.acquireMany([{ name: 'g/t/1', owner: 'x' }], 1000, { holder: p0! }),
        'CONFIG_INVALID',
      );
      expect(nested.message).toContain('options.holder');
      await rejectsWithCode(
        b.leases.acquireMany([{ name: 'runner/a', owner: 'x' }], 1000, { holder }),
        'CONFIG_INVALID',
      );
      await rejectsWithCode(
        b.leases.acquireMany([{ name: 'g/t/1', owner: 'x' }], 1000, { holder: { ...holder, name: '' } }),
        'CONFIG_INVALID',
      );
    });
  });

  describe('leases.releaseMany', () => {
    it('releases each lease held with its token, in input order; others are false', async () => {
      const { backend: b, clock } = h();
      const [a, c, d] = await b.leases.acquireMany(
        [
          { name: 'r/a', owner: 'o' },
          { name: 'r/c', owner: 'o' },
          { name: 'r/d', owner: 'o' },
        ],
        1000,
      );
      await clock.advance(1000);
      const taken = await b.leases.acquire('r/c', 'p', 1000);
      expect(await b.leases.releaseMany([d!, c!, a!])).toEqual([true, false, true]);
      expect(await b.leases.get('r/a')).toBeUndefined();
      expect(await b.leases.get('r/c')).toEqual(taken);
      expect(await b.leases.releaseMany([])).toEqual([]);
      await rejectsWithCode(b.leases.releaseMany([taken!, taken!]), 'CONFIG_INVALID');
      // Tokens are never handed out again after a release.
      expect((await b.leases.acquire('r/a', 'q', 1000))!.fencingToken).toBeGreaterThan(a!.fencingToken);
    });
  });
}
