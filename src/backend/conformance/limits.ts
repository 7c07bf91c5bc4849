// Conformance: the LimitStore (GCRA buckets, parks, leased semaphore slots) with time passed in.
import { describe, expect, it } from 'vitest';
import type { LimitStore } from '../LimitStore.ts';
import type { Harness } from './harness.ts';
import { rejectsWithCode, T0 } from './harness.ts';

const TEN_PER_S = { intervalMs: 100, burst: 3 };
const SLOTS = { max: 2, ttlMs: 1000 };

function store(h: () => Harness): LimitStore {
  const limits = h().backend.limits;
  if (limits === undefined) throw new Error(`backend ${h().backend.kind} has no limits store`);
  return limits;
}

/** Conformance: limiter state shared through the backend. */
export function limitTests(h: () => Harness): void {
  describe('limits: rate buckets', () => {
    it('grants the burst at once, then one token per interval, each denial naming the exact wait', async () => {
      const s = store(h);
      for (let i = 0; i < 3; i++)
        expect(await s.take('api', '', 1, TEN_PER_S, T0)).toEqual({ granted: true });
      expect(await s.take('api', '', 1, TEN_PER_S, T0)).toEqual({
        granted: false,
        retryAfterMs: 100,
        parked: false,
      });
      expect(await s.take('api', '', 1, TEN_PER_S, T0 + 99)).toEqual({
        granted: false,
        retryAfterMs: 1,
        parked: false,
      });
      expect(await s.take('api', '', 1, TEN_PER_S, T0 + 100)).toEqual({ granted: true });
      expect((await s.take('api', '', 1, TEN_PER_S, T0 + 100)).granted).toBe(false);
    });

    it('a denial takes nothing: the wait it names is the wait that works', async () => {
      const s = store(h);
      const spec = { intervalMs: 50, burst: 1 };
      expect((await s.take('api', 'k', 1, spec, T0)).granted).toBe(true);
      for (let i = 0; i < 10; i++) await s.take('api', 'k', 1, spec, T0 + i);
      expect(await s.take('api', 'k', 1, spec, T0 + 49)).toMatchObject({ granted: false, retryAfterMs: 1 });
      expect(await s.take('api', 'k', 1, spec, T0 + 50)).toEqual({ granted: true });
    });

    it('fractional intervals do not drift: 300 grants at 3/s land on ceil(k·333.33 ms)', async () => {
      const s = store(h);
      const spec = { intervalMs: 1000 / 3, burst: 1 };
      let t = T0;
      const times: number[] = [];
      while (times.length < 300) {
        const d = await s.take('slow', '', 1, spec, t);
        if (d.granted) times.push(t - T0);
        else t += d.retryAfterMs;
      }
      expect(times).toEqual(times.map((_, k) => Math.ceil((k * 1000) / 3 - 0.001) + 0));
      expect(times[299]).toBe(99_667);
    });

    it('a weighted take uses weight tokens; weight above the burst is CONFIG_INVALID', async () => {
      const s = store(h);
      expect(await s.take('api', '', 2, TEN_PER_S, T0)).toEqual({ granted: true });
      expect(await s.take('api', '', 2, TEN_PER_S, T0)).toEqual({
        granted: false,
        retryAfterMs: 100,
        parked: false,
      });
      expect(await s.take('api', '', 1, TEN_PER_S, T0)).toEqual({ granted: true });
      await rejectsWithCode(s.take('api', '', 4, TEN_PER_S, T0), 'CONFIG_INVALID');
      await rejectsWithCode(s.take('api', '', 0, TEN_PER_S, T0), 'CONFIG_INVALID');
      await rejectsWithCode(s.take('', '', 1, TEN_PER_S, T0), 'CONFIG_INVALID');
    });

    it('keys and limiter names are independent buckets', async () => {
      const s = store(h);
      const spec = { intervalMs: 1000, burst: 1 };
      expect((await s.take('api', 'tenant-a', 1, spec, T0)).granted).toBe(true);
      expect((await s.take('api', 'tenant-a', 1, spec, T0)).granted).toBe(false);
      expect((await s.take('api', 'tenant-b', 1, spec, T0)).granted).toBe(true);
      expect((await s.take('db', 'tenant-a', 1, spec, T0)).granted).toBe(true);
    });

    it('an idle bucket refills to the burst, never above it', async () => {
      const s = store(h);
      for (let i = 0; i < 3; i++) await s.take('api', '', 1, TEN_PER_S, T0);
      const later = T0 + 60_000;
      for (let i = 0; i < 3; i++) expect((await s.take('api', '', 1, TEN_PER_S, later)).granted).toBe(true);
      expect(await s.take('api', '', 1, TEN_PER_S, later)).toMatchObject({
        granted: false,
        retryAfterMs: 100,
      });
    });

    it('concurrent takes are atomic: exactly the burst is granted', async () => {
      const s = store(h);
      const spec = { intervalMs: 1000, burst: 10 };
      const all = await Promise.all(Array.from({ length: 40 }, () => s.take('hot', '', 1, spec, T0)));
      expect(all.filter((d) => d.granted)).toHaveLength(10);
    });
  });

  describe('limits: parks', () => {
    it('a parked key is denied until the park ends, without taking tokens; other keys run', async () => {
      const s = store(h);
      expect(await s.park('api', 'a', T0 + 500, T0)).toBe(T0 + 500);
      expect(await s.take('api', 'a', 1, TEN_PER_S, T0 + 100)).toEqual({
        granted: false,
        retryAfterMs: 400,
        parked: true,
      });
      expect((await s.take('api', 'b', 1, TEN_PER_S, T0 + 100)).granted).toBe(true);
      expect(await s.parkedUntil('api', 'a', T0 + 100)).toBe(T0 + 500);
      expect(await s.parkedUntil('api', 'b', T0 + 100)).toBe(0);
      for (let i = 0; i < 3; i++)
        expect((await s.take('api', 'a', 1, TEN_PER_S, T0 + 500)).granted).toBe(true);
      expect(await s.parkedUntil('api', 'a', T0 + 500)).toBe(0);
    });

    it("parking key '' parks every key of the limiter; parks only extend", async () => {
      const s = store(h);
      await s.park('api', '', T0 + 1000, T0);
      expect(await s.park('api', '', T0 + 200, T0)).toBe(T0 + 1000);
      expect(await s.take('api', 'x', 1, TEN_PER_S, T0)).toEqual({
        granted: false,
        retryAfterMs: 1000,
        parked: true,
      });
      expect(await s.take('api', '', 1, TEN_PER_S, T0 + 999)).toMatchObject({ granted: false, parked: true });
      expect((await s.take('other', 'x', 1, TEN_PER_S, T0)).granted).toBe(true);
      expect(await s.parkedUntil('api', 'x', T0)).toBe(T0 + 1000);
      expect((await s.take('api', 'x', 1, TEN_PER_S, T0 + 1000)).granted).toBe(true);
    });
  });

  describe('limits: semaphore slots', () => {
    it('grants up to max, denies with the time until the earliest expiry, frees on release', async () => {
      const s = store(h);
      expect(await s.acquireSlot('db', '', 'h1', 1, SLOTS, T0)).toEqual({
        granted: true,
        expiresAt: T0 + 1000,
      });
      expect(await s.acquireSlot('db', '', 'h2', 1, SLOTS, T0 + 10)).toEqual({
        granted: true,
        expiresAt: T0 + 1010,
      });
      expect(await s.acquireSlot('db', '', 'h3', 1, SLOTS, T0 + 20)).toEqual({
        granted: false,
        retryAfterMs: 980,
        parked: false,
      });
      expect(await s.heldSlots('db', '', T0 + 20)).toBe(2);
      expect(await s.releaseSlot('db', '', 'h1')).toBe(true);
      expect(await s.releaseSlot('db', '', 'h1')).toBe(false);
      expect((await s.acquireSlot('db', '', 'h3', 1, SLOTS, T0 + 30)).granted).toBe(true);
      expect((await s.acquireSlot('db', 'other-key', 'h4', 1, SLOTS, T0 + 30)).granted).toBe(true);
    });

    it('a holder that stops renewing loses its slot at its TTL; renewing keeps it', async () => {
      const s = store(h);
      await s.acquireSlot('db', '', 'crashed', 1, SLOTS, T0);
      await s.acquireSlot('db', '', 'alive', 1, SLOTS, T0);
      expect(await s.renewSlot('db', '', 'alive', 1000, T0 + 600)).toBe(T0 + 1600);
      expect((await s.acquireSlot('db', '', 'new', 1, SLOTS, T0 + 999)).granted).toBe(false);
      expect(await s.acquireSlot('db', '', 'new', 1, SLOTS, T0 + 1000)).toEqual({
        granted: true,
        expiresAt: T0 + 2000,
      });
      expect(await s.renewSlot('db', '', 'crashed', 1000, T0 + 1000)).toBeNull();
      expect(await s.heldSlots('db', '', T0 + 1000)).toBe(2);
      expect(await s.heldSlots('db', '', T0 + 1600)).toBe(1);
    });

    it('weights count against max; the same holder acquiring again replaces its slot', async () => {
      const s = store(h);
      const spec = { max: 5, ttlMs: 1000 };
      expect((await s.acquireSlot('db', '', 'big', 4, spec, T0)).granted).toBe(true);
      expect((await s.acquireSlot('db', '', 'small', 2, spec, T0)).granted).toBe(false);
      expect((await s.acquireSlot('db', '', 'big', 3, spec, T0)).granted).toBe(true);
      expect((await s.acquireSlot('db', '', 'small', 2, spec, T0)).granted).toBe(true);
      expect(await s.heldSlots('db', '', T0)).toBe(5);
      await rejectsWithCode(s.acquireSlot('db', '', 'x', 6, spec, T0), 'CONFIG_INVALID');
    });

    it('a parked semaphore grants nothing until the park ends', async () => {
      const s = store(h);
      await s.park('db', 'k', T0 + 300, T0);
      expect(await s.acquireSlot('db', 'k', 'h', 1, SLOTS, T0)).toEqual({
        granted: false,
        retryAfterMs: 300,
        parked: true,
      });
      expect((await s.acquireSlot('db', 'k', 'h', 1, SLOTS, T0 + 300)).granted).toBe(true);
    });

    it('concurrent acquires are atomic: exactly max slots are granted', async () => {
      const s = store(h);
      const spec = { max: 3, ttlMs: 5000 };
      const all = await Promise.all(
        Array.from({ length: 20 }, (_, i) => s.acquireSlot('race', '', `h${i}`, 1, spec, T0)),
      );
      expect(all.filter((d) => d.granted)).toHaveLength(3);
      expect(await s.heldSlots('race', '', T0)).toBe(3);
    });
  });
}
