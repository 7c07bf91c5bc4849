// rateLimit tests with a ManualClock: exact grant times, no drift, waiters, keys, weights, pause and the shared store.
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../backend/memory/MemoryBackend.ts';
import { isSluiceError, type SluiceError } from '../core/errors.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { rateLimit } from './rateLimit.ts';

function configError(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (e) {
    expect(isSluiceError(e)).toBe(true);
    expect((e as SluiceError).code).toBe('CONFIG_INVALID');
    return e as SluiceError;
  }
  throw new Error('expected CONFIG_INVALID');
}

/** Acquires `n` times one after the other and returns the clock time of each grant. */
async function grantTimes(clock: ManualClock, acquire: () => Promise<unknown>, n: number): Promise<number[]> {
  const times: number[] = [];
  await clock.runUntil(
    (async () => {
      for (let i = 0; i < n; i++) {
        await acquire();
        times.push(clock.now());
      }
    })(),
  );
  return times;
}

describe('rateLimit (local)', () => {
  it('grants at exact times: one per interval after the burst', async () => {
    const clock = new ManualClock();
    const lim = rateLimit({ rate: 10, per: '1s', clock });
    expect(await grantTimes(clock, () => lim.acquire(), 5)).toEqual([0, 100, 200, 300, 400]);
    const bursty = rateLimit({ rate: 10, per: '1s', burst: 3, clock });
    const start = clock.now();
    const t = await grantTimes(clock, () => bursty.acquire(), 6);
    expect(t.map((x) => x - start)).toEqual([0, 0, 0, 100, 200, 300]);
  });

  it('does not drift with a fractional interval: 3/s for 1000 grants', async () => {
    const clock = new ManualClock();
    const lim = rateLimit({ rate: 3, per: 1000, clock });
    const t = await grantTimes(clock, () => lim.acquire(), 1000);
    expect(t).toEqual(t.map((_, k) => Math.ceil((k * 1000) / 3 - 0.001) + 0));
    expect(t[999]).toBe(333_000);
  });

  it('concurrent waiters are granted one per interval, none early', async () => {
    const clock = new ManualClock();
    const lim = rateLimit({ rate: 10, clock });
    const times: number[] = [];
    const all = Promise.all(
      Array.from({ length: 5 }, () => lim.acquire().then(() => times.push(clock.now()))),
    );
    await clock.runUntil(all);
    expect(times).toEqual([0, 100, 200, 300, 400]);
    expect(lim.stats()).toMatchObject({ granted: 5, waiting: 0 });
  });

  it('keeps one bucket per key, independent of the others', async () => {
    const clock = new ManualClock();
    const lim = rateLimit({ rate: 1, per: '1s', key: (o: { tenant: string }) => o.tenant, clock });
    const a = lim.keyOf({ tenant: 'a' });
    expect(a).toBe('a');
    expect(lim.tryAcquire('a')).toBeDefined();
    expect(lim.tryAcquire('a')).toBeUndefined();
    expect(lim.tryAcquire('b')).toBeDefined();
    await clock.advance(999);
    expect(lim.tryAcquire('a')).toBeUndefined();
    await clock.advance(1);
    expect(lim.tryAcquire('a')).toBeDefined();
    expect(lim.stats()).toMatchObject({ granted: 3, denied: 2 });
  });

  it('weights take several tokens; weight beyond the burst or <= 0 is CONFIG_INVALID', async () => {
    const clock = new ManualClock();
    const lim = rateLimit({ rate: 10, burst: 4, clock });
    expect(lim.tryAcquire('', 3)).toBeDefined();
    expect(lim.tryAcquire('', 2)).toBeUndefined();
    expect(lim.tryAcquire('', 1)).toBeDefined();
    expect(configError(() => lim.tryAcquire('', 5)).message).toMatch(/`weight`.*5/);
    expect(configError(() => lim.tryAcquire('', 0)).message).toMatch(/`weight`.*0/);
    await expect(lim.acquire('', { weight: -1 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('pause parks a key without taking tokens, then resumes by itself', async () => {
    const clock = new ManualClock();
    const lim = rateLimit({ rate: 10, burst: 2, clock });
    const parked: unknown[] = [];
    lim.on('parked', (p) => parked.push(p));
    expect(await lim.pause(500, 'a')).toBe(500);
    expect(parked).toEqual([{ key: 'a', until: 500 }]);
    expect(lim.tryAcquire('a')).toBeUndefined();
    expect(lim.tryAcquire('b')).toBeDefined();
    expect(lim.parkedUntil('a')).toBe(500);
    expect(lim.stats().parked).toBe(1);
    const t = await grantTimes(clock, () => lim.acquire('a'), 3);
    expect(t).toEqual([500, 500, 600]);
    expect(lim.stats().parked).toBe(0);
  });

  it('pause without a key parks the whole limiter', async () => {
    const clock = new ManualClock();
    const lim = rateLimit({ rate: 100, key: (s: string) => s, clock });
    await lim.pause('2s');
    expect(lim.tryAcquire('x')).toBeUndefined();
    expect(lim.tryAcquire('y')).toBeUndefined();
    const t = await grantTimes(clock, () => lim.acquire('x'), 1);
    expect(t).toEqual([2000]);
  });

  it('an aborted wait rejects with ABORTED and stops waiting', async () => {
    const clock = new ManualClock();
    const lim = rateLimit({ rate: 1, clock });
    lim.tryAcquire();
    const ac = new AbortController();
    const p = lim.acquire('', { signal: ac.signal });
    await clock.advance(10);
    expect(lim.stats().waiting).toBe(1);
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    expect(lim.stats().waiting).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('after close, calls reject with CLOSED', async () => {
    const lim = rateLimit({ rate: 1, clock: new ManualClock() });
    await lim.close();
    expect(lim.state).toBe('closed');
    await expect(lim.acquire()).rejects.toMatchObject({ code: 'CLOSED' });
    expect(() => lim.tryAcquire()).toThrow(/closed/);
  });

  it('validates options with CONFIG_INVALID naming the field and the value', () => {
    expect(configError(() => rateLimit({ rate: 0 })).message).toBe(
      'Expected `rateLimit.rate` to be a number > 0, got 0',
    );
    expect(configError(() => rateLimit({ rate: -5 })).message).toMatch(/`rateLimit\.rate`.*-5/);
    expect(configError(() => rateLimit({ rate: 1, per: 'soon' })).message).toMatch(
      /`rateLimit\.per`.*"soon"/,
    );
    expect(configError(() => rateLimit({ rate: 1, per: 0 })).message).toMatch(/`rateLimit\.per`.*0/);
    expect(configError(() => rateLimit({ rate: 1, burst: 0.5 })).message).toMatch(/`rateLimit\.burst`.*0\.5/);
    expect(configError(() => rateLimit({ rate: 1, backend: createMemoryBackend() })).message).toMatch(
      /`rateLimit\.name`/,
    );
    const lim = rateLimit({ rate: 1, key: () => ({}) as unknown as string });
    expect(configError(() => lim.keyOf(1)).message).toMatch(/`key\(item\)`/);
  });
});

describe('rateLimit (shared through a backend)', () => {
  it('two limiters with one name and backend share the bucket, as two processes would', async () => {
    const clock = new ManualClock(1_000_000);
    const backend = createMemoryBackend({ clock });
    const a = rateLimit({ rate: 10, name: 'api', backend, clock });
    const b = rateLimit({ rate: 10, name: 'api', backend, clock });
    expect(a.scope).toBe('shared');
    expect(a.tryAcquire()).toBeUndefined();
    const times: [string, number][] = [];
    const run = (l: typeof a, tag: string) =>
      (async () => {
        for (let i = 0; i < 3; i++) {
          await l.acquire();
          times.push([tag, clock.now() - 1_000_000]);
        }
      })();
    await clock.runUntil(Promise.all([run(a, 'a'), run(b, 'b')]));
    expect(times.map(([, t]) => t)).toEqual([0, 100, 200, 300, 400, 500]);
    expect(a.stats().granted + b.stats().granted).toBe(6);
  });

  it('denied acquires of one process wait in line: one store call per wait, not one per waiter', async () => {
    const clock = new ManualClock(0);
    const backend = createMemoryBackend({ clock });
    const take = backend.limits.take.bind(backend.limits);
    let calls = 0;
    backend.limits.take = (...args) => {
      calls++;
      return take(...args);
    };
    const lim = rateLimit({ rate: 10, name: 'api', backend, clock });
    const times: number[] = [];
    const all = Promise.all(
      Array.from({ length: 10 }, () => lim.acquire().then(() => times.push(clock.now()))),
    );
    await clock.runUntil(all);
    expect(times).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    // 10 first tries at time 0 (one granted), then per later grant one denial and one grant.
    expect(calls).toBeLessThanOrEqual(10 + 2 * 9);
    expect(lim.stats()).toMatchObject({ granted: 10, waiting: 0 });
  });

  it('close rejects the acquires waiting in line with CLOSED', async () => {
    const clock = new ManualClock(0);
    const backend = createMemoryBackend({ clock });
    const lim = rateLimit({ rate: 1, name: 'api', backend, clock });
    await lim.acquire();
    const waiting = [lim.acquire(), lim.acquire()];
    for (const w of waiting) w.catch(() => {});
    await clock.advance(10);
    await lim.close();
    await clock.advance(2000);
    for (const w of waiting) await expect(w).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('a pause through one limiter parks the key for the other', async () => {
    const clock = new ManualClock(5_000);
    const backend = createMemoryBackend({ clock });
    const a = rateLimit({ rate: 100, name: 'api', backend, key: (s: string) => s, clock });
    const b = rateLimit({ rate: 100, name: 'api', backend, key: (s: string) => s, clock });
    expect(await a.pause(300, 'tenant')).toBe(5_300);
    const denied: unknown[] = [];
    b.on('denied', (d) => denied.push(d));
    const t = await grantTimes(clock, () => b.acquire('tenant'), 1);
    expect(t).toEqual([5_300]);
    expect(denied).toEqual([{ key: 'tenant', weight: 1, retryAfterMs: 300, parked: true }]);
    await expect(clock.runUntil(b.acquire('other'))).resolves.toBeDefined();
  });
});
