// Conformance tests of leases: acquire, renew, release, expiry and strictly increasing fencing tokens.
import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.ts';
import { rejectsWithCode, T0 } from './harness.ts';

/** Conformance: leases with fencing tokens. */
export function leaseTests(h: () => Harness): void {
  describe('leases', () => {
    it('acquires a free lease with a positive fencing token and expiry now + ttl', async () => {
      const b = h().backend;
      const lease = await b.leases.acquire('L', 'a', 5000);
      expect(lease).toEqual({
        name: 'L',
        owner: 'a',
        fencingToken: expect.any(Number),
        expiresAt: T0 + 5000,
      });
      expect(Number.isSafeInteger(lease!.fencingToken) && lease!.fencingToken > 0).toBe(true);
      expect(await b.leases.get('L')).toEqual(lease);
      expect(await b.leases.get('other')).toBeUndefined();
    });

    it('a lease held by another owner cannot be acquired', async () => {
      const { backend: b, clock } = h();
      const held = await b.leases.acquire('L', 'a', 5000);
      await clock.advance(4999);
      expect(await b.leases.acquire('L', 'b', 5000)).toBeNull();
      expect(await b.leases.get('L')).toEqual(held);
    });

    it('the same owner re-acquiring keeps its token and extends the expiry', async () => {
      const { backend: b, clock } = h();
      const first = await b.leases.acquire('L', 'a', 5000);
      await clock.advance(3000);
      const again = await b.leases.acquire('L', 'a', 5000);
      expect(again).toEqual({ ...first, expiresAt: T0 + 8000 });
      await clock.advance(4000);
      expect(await b.leases.acquire('L', 'b', 5000)).toBeNull();
    });

    it('once expired, another owner takes the lease with a strictly larger token', async () => {
      const { backend: b, clock } = h();
      const a = await b.leases.acquire('L', 'a', 1000);
      await clock.advance(1000);
      expect(await b.leases.get('L')).toBeUndefined();
      const taken = await b.leases.acquire('L', 'b', 1000);
      expect(taken).toMatchObject({ owner: 'b', expiresAt: T0 + 2000 });
      expect(taken!.fencingToken).toBeGreaterThan(a!.fencingToken);
      expect(await b.leases.get('L')).toEqual(taken);
      expect(await b.leases.acquire('L', 'a', 1000)).toBeNull();
    });

    it('a lease is held while now < expiresAt and free from expiresAt on', async () => {
      const { backend: b, clock } = h();
      await b.leases.acquire('L', 'a', 100);
      await clock.advance(99);
      expect((await b.leases.get('L'))?.owner).toBe('a');
      expect(await b.leases.acquire('L', 'b', 100)).toBeNull();
      await clock.advance(1);
      expect(await b.leases.get('L')).toBeUndefined();
      expect((await b.leases.acquire('L', 'b', 100))?.owner).toBe('b');
    });

    it('renew extends a held lease; after a takeover renew returns null', async () => {
      const { backend: b, clock } = h();
      const a = await b.leases.acquire('L', 'a', 1000);
      await clock.advance(800);
      const renewed = await b.leases.renew(a!, 1000);
      expect(renewed).toEqual({ ...a, expiresAt: T0 + 1800 });
      await clock.advance(900);
      expect(await b.leases.acquire('L', 'b', 1000)).toBeNull();
      await clock.advance(100);
      const taken = await b.leases.acquire('L', 'b', 1000);
      expect(taken).not.toBeNull();
      expect(await b.leases.renew(a!, 1000)).toBeNull();
      expect(await b.leases.renew(renewed!, 1000)).toBeNull();
      expect(await b.leases.get('L')).toEqual(taken);
    });

    it('release works only with the current token; get is then undefined', async () => {
      const { backend: b, clock } = h();
      const a = await b.leases.acquire('L', 'a', 1000);
      await clock.advance(1000);
      const taken = await b.leases.acquire('L', 'b', 1000);
      expect(await b.leases.release(a!)).toBe(false);
      expect(await b.leases.get('L')).toEqual(taken);
      expect(await b.leases.release(taken!)).toBe(true);
      expect(await b.leases.get('L')).toBeUndefined();
      expect(await b.leases.release(taken!)).toBe(false);
      expect(await b.leases.renew(taken!, 1000)).toBeNull();
      expect((await b.leases.acquire('L', 'c', 1000))?.owner).toBe('c');
    });

    it('fencing tokens are never reused after release, even by the same owner', async () => {
      const b = h().backend;
      const tokens: number[] = [];
      for (let i = 0; i < 5; i++) {
        const lease = await b.leases.acquire('L', 'a', 1000);
        tokens.push(lease!.fencingToken);
        expect(await b.leases.release(lease!)).toBe(true);
      }
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
    });

    it('list returns unexpired leases by prefix in name order, treating % and _ literally', async () => {
      const { backend: b, clock } = h();
      await b.leases.acquire('part_2', 'a', 1000);
      await b.leases.acquire('part_1', 'b', 1000);
      await b.leases.acquire('partX1', 'c', 1000);
      await b.leases.acquire('part%', 'd', 1000);
      await b.leases.acquire('part_3', 'e', 10);
      await b.leases.acquire('other', 'f', 1000);
      await clock.advance(10);
      expect((await b.leases.list('part_')).map((l) => [l.name, l.owner])).toEqual([
        ['part_1', 'b'],
        ['part_2', 'a'],
      ]);
      expect((await b.leases.list('part%')).map((l) => l.name)).toEqual(['part%']);
      expect((await b.leases.list('')).map((l) => l.name)).toEqual([
        'other',
        'part%',
        'partX1',
        'part_1',
        'part_2',
      ]);
      const released = await b.leases.get('part_1');
      await b.leases.release(released!);
      expect((await b.leases.list('part_')).map((l) => l.name)).toEqual(['part_2']);
    });

    it('concurrent acquires by many owners: exactly one wins', async () => {
      const b = h().backend;
      const owners = Array.from({ length: 10 }, (_, i) => `node-${i}`);
      const results = await Promise.all(owners.map((o) => b.leases.acquire('L', o, 1000)));
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect(await b.leases.get('L')).toEqual(winners[0]);
    });

    it('rejects invalid ttls and names with CONFIG_INVALID', async () => {
      const b = h().backend;
      for (const ttl of [0, -5, 1.5, Number.POSITIVE_INFINITY]) {
        await rejectsWithCode(b.leases.acquire('L', 'a', ttl), 'CONFIG_INVALID');
      }
      await rejectsWithCode(b.leases.acquire('', 'a', 1000), 'CONFIG_INVALID');
      await rejectsWithCode(b.leases.acquire('L', '', 1000), 'CONFIG_INVALID');
      expect(await b.leases.get('L')).toBeUndefined();
      const lease = await b.leases.acquire('L', 'a', 1000);
      await rejectsWithCode(b.leases.renew(lease!, 0), 'CONFIG_INVALID');
    });
  });
}
