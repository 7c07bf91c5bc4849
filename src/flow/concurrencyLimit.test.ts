// concurrencyLimit tests, local and shared through a backend: max held, FIFO wake-up, keys, abort, pause, TTL renewal and expiry.
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../backend/memory/MemoryBackend.ts';
import { isSluiceError } from '../core/errors.ts';
import { flushMicrotasks, ManualClock } from '../core/ManualClock.ts';
import type { Permit } from './Limiter.ts';
import { concurrencyLimit } from './rateLimit.ts';

describe('concurrencyLimit (local)', () => {
  it('holds at most max; a release wakes the next waiter in arrival order', async () => {
    const lim = concurrencyLimit({ max: 2, clock: new ManualClock() });
    const p1 = lim.tryAcquire()!;
    const p2 = await lim.acquire();
    expect(lim.tryAcquire()).toBeUndefined();
    const order: number[] = [];
    const w3 = lim.acquire().then((p) => {
      order.push(3);
      return p;
    });
    const w4 = lim.acquire().then((p) => {
      order.push(4);
      return p;
    });
    await flushMicrotasks();
    expect(lim.stats()).toMatchObject({ held: 2, waiting: 2 });
    await p1.release();
    await p1.release();
    const p3 = await w3;
    expect(order).toEqual([3]);
    expect(lim.stats()).toMatchObject({ held: 2, waiting: 1 });
    await p2.release();
    const p4 = await w4;
    expect(order).toEqual([3, 4]);
    await p3.release();
    await p4.release();
    expect(lim.stats()).toMatchObject({ held: 0, waiting: 0, granted: 4 });
  });

  it('a heavy waiter at the head is not overtaken by lighter ones', async () => {
    const lim = concurrencyLimit({ max: 3, clock: new ManualClock() });
    const a = lim.tryAcquire('', 2)!;
    const heavy = lim.acquire('', { weight: 3 });
    expect(lim.tryAcquire('', 1)).toBeUndefined();
    await a.release();
    await expect(heavy).resolves.toBeDefined();
    expect(lim.stats().held).toBe(3);
  });

  it('keys are separate semaphores', () => {
    const lim = concurrencyLimit({ max: 1, key: (s: string) => s, clock: new ManualClock() });
    expect(lim.tryAcquire('a')).toBeDefined();
    expect(lim.tryAcquire('a')).toBeUndefined();
    expect(lim.tryAcquire('b')).toBeDefined();
  });

  it('an aborted waiter leaves the queue; close rejects the others with CLOSED', async () => {
    const lim = concurrencyLimit({ max: 1, clock: new ManualClock() });
    const held = lim.tryAcquire()!;
    const ac = new AbortController();
    const aborted = lim.acquire('', { signal: ac.signal });
    const other = lim.acquire();
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
    expect(lim.stats().waiting).toBe(1);
    await lim.close();
    await expect(other).rejects.toMatchObject({ code: 'CLOSED' });
    await held.release();
  });

  it('pause blocks grants until the park ends, then wakes waiters', async () => {
    const clock = new ManualClock();
    const lim = concurrencyLimit({ max: 5, clock });
    await lim.pause(1000);
    expect(lim.tryAcquire()).toBeUndefined();
    let at = -1;
    const w = lim.acquire().then(() => (at = clock.now()));
    await clock.advance(999);
    expect(at).toBe(-1);
    await clock.advance(1);
    await w;
    expect(at).toBe(1000);
  });

  it('validates max and weight with CONFIG_INVALID naming the field', () => {
    for (const max of [0, 1.5, -1]) {
      try {
        concurrencyLimit({ max });
        expect.unreachable();
      } catch (e) {
        expect(isSluiceError(e) && e.code === 'CONFIG_INVALID').toBe(true);
        expect((e as Error).message).toContain('`concurrencyLimit.max`');
        expect((e as Error).message).toContain(String(max));
      }
    }
    const lim = concurrencyLimit({ max: 2 });
    expect(() => lim.tryAcquire('', 3)).toThrow(/`weight`/);
    expect(() => concurrencyLimit({ max: 1, ttl: 'later' })).toThrow(/`concurrencyLimit\.ttl`.*"later"/);
  });
});

describe('concurrencyLimit (shared: slots are leases)', () => {
  it('a slot freed by another instance is found by polling', async () => {
    const clock = new ManualClock(1_000);
    const backend = createMemoryBackend({ clock });
    const a = concurrencyLimit({ max: 1, name: 'db', backend, clock, ttl: '10s' });
    const b = concurrencyLimit({ max: 1, name: 'db', backend, clock, ttl: '10s' });
    const pa = await a.acquire();
    let bAt = -1;
    const wb = b.acquire().then((p) => {
      bAt = clock.now();
      return p;
    });
    await clock.advance(500);
    expect(bAt).toBe(-1);
    await pa.release();
    await clock.advance(250);
    const pb = await wb;
    expect(bAt).toBeGreaterThan(1_500);
    expect(bAt).toBeLessThanOrEqual(1_750);
    expect(await backend.limits.heldSlots('db', '', clock.now())).toBe(1);
    await pb.release();
    expect(await backend.limits.heldSlots('db', '', clock.now())).toBe(0);
    await a.close();
    await b.close();
  });

  it('a live holder renews: its slot outlives many TTLs', async () => {
    const clock = new ManualClock(0);
    const backend = createMemoryBackend({ clock });
    const a = concurrencyLimit({ max: 1, name: 'db', backend, clock, ttl: 300 });
    const b = concurrencyLimit({ max: 1, name: 'db', backend, clock, ttl: 300 });
    const pa = await a.acquire();
    let got: Permit | undefined;
    const wb = b.acquire().then((p) => (got = p));
    await clock.advance(3000);
    expect(got).toBeUndefined();
    expect(pa.signal?.aborted).toBe(false);
    await pa.release();
    await clock.advance(300);
    await wb;
    expect(got).toBeDefined();
    await b.close();
    await a.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it("a crashed holder's slot comes back after its TTL; the late holder learns it lost it", async () => {
    const clock = new ManualClock(0);
    const frozen = new ManualClock(0); // the crashed process: its timers never fire
    const backend = createMemoryBackend({ clock });
    const crashed = concurrencyLimit({ max: 1, name: 'db', backend, clock: frozen, ttl: 900 });
    const live = concurrencyLimit({ max: 1, name: 'db', backend, clock, ttl: 900 });
    const pc = await crashed.acquire();
    let at = -1;
    const wl = live.acquire().then((p) => {
      at = clock.now();
      return p;
    });
    await clock.advance(899);
    expect(at).toBe(-1);
    await clock.advance(200);
    await wl;
    expect(at).toBe(900);
    const lost: unknown[] = [];
    crashed.on('lost', (l) => lost.push(l));
    frozen.set(1200);
    await frozen.advance(300);
    expect(lost).toHaveLength(1);
    expect(pc.signal?.aborted).toBe(true);
    expect((pc.signal?.reason as { code?: string } | undefined)?.code).toBe('LEASE_LOST');
    await live.close();
    await crashed.close();
  });

  it('a park through one instance holds the other back', async () => {
    const clock = new ManualClock(0);
    const backend = createMemoryBackend({ clock });
    const a = concurrencyLimit({ max: 2, name: 'db', backend, clock });
    const b = concurrencyLimit({ max: 2, name: 'db', backend, clock });
    await a.pause(400);
    let at = -1;
    const w = b.acquire().then((p) => {
      at = clock.now();
      return p;
    });
    await clock.runUntil(w);
    expect(at).toBe(400);
    await a.close();
    await b.close();
  });
});
