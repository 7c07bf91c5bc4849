import { describe, expect, it } from 'vitest';
import type { Backend } from '../../backend/Backend.ts';
import { unavailableError } from '../../backend/common/errors.ts';
import { isSluiceError } from '../../core/errors.ts';
import { flushMicrotasks, type ManualClock } from '../../core/ManualClock.ts';
import { DistributedLock } from './DistributedLock.ts';

/** What each lock test works with: a fresh backend and the manual clock it (and the locks) read. */
export interface LockSubject {
  readonly backend: Backend;
  readonly clock: ManualClock;
  readonly cleanup: () => Promise<void>;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e,
  );
}

/**
 * The DistributedLock behaviour suite, run against each backend. Time is a ManualClock; after
 * moving it, `tick` waits for the backend's I/O (a round trip) so renewals triggered by timers
 * have completed.
 *
 * Test-only: imports vitest.
 */
export function distributedLockSuite(name: string, make: () => Promise<LockSubject>): void {
  describe(`DistributedLock on ${name}`, () => {
    async function withSubject(
      fn: (s: LockSubject & { tick: (ms: number) => Promise<void> }) => Promise<void>,
    ) {
      const s = await make();
      const tick = async (ms: number) => {
        await s.clock.advance(ms);
        await s.backend.leases.get('sync');
        await flushMicrotasks();
      };
      try {
        await fn({ ...s, tick });
      } finally {
        await s.backend.close();
        await s.cleanup();
      }
    }

    it('gives one holder at a time, with strictly increasing fencing tokens', () =>
      withSubject(async ({ backend, clock }) => {
        const a = new DistributedLock({ backend, name: 'L', ttl: 3000, clock });
        const b = new DistributedLock({ backend, name: 'L', ttl: 3000, clock });
        const held = await a.acquire();
        expect(held.state).toBe('held');
        expect(held.fencingToken).toBeGreaterThan(0);
        expect(await b.tryAcquire()).toBeNull();
        // Even the same lock object cannot acquire twice: each acquisition is its own owner.
        expect(await a.tryAcquire()).toBeNull();
        const busy = await rejection(b.acquire({ wait: false }));
        expect(busy).toMatchObject({ code: 'LOCK_HELD', retryable: true });
        expect(await held.release()).toBe(true);
        expect(held.state).toBe('released');
        expect(held.signal.aborted).toBe(true);
        expect((held.signal.reason as { code: string }).code).toBe('ABORTED');
        const next = await b.acquire({ wait: false });
        expect(next.fencingToken).toBeGreaterThan(held.fencingToken);
        expect(await held.release()).toBe(false);
        await next.release();
      }));

    it('renews the lease every ttl/3 while held, so nobody else gets it', () =>
      withSubject(async ({ backend, clock, tick }) => {
        const a = new DistributedLock({ backend, name: 'L', ttl: 3000, clock });
        const other = new DistributedLock({ backend, name: 'L', ttl: 3000, clock });
        const held = await a.acquire();
        const firstExpiry = held.expiresAt;
        for (let i = 0; i < 30; i++) await tick(1000);
        expect(held.state).toBe('held');
        expect(held.signal.aborted).toBe(false);
        expect(held.expiresAt).toBeGreaterThan(firstExpiry + 25_000);
        expect(await other.tryAcquire()).toBeNull();
        expect((await backend.leases.get('L'))?.fencingToken).toBe(held.fencingToken);
        await held.release();
        expect(await backend.leases.get('L')).toBeUndefined();
      }));

    it('a waiting acquire gets the lock once it is released', () =>
      withSubject(async ({ backend, clock, tick }) => {
        const a = new DistributedLock({ backend, name: 'L', ttl: 3000, clock });
        const b = new DistributedLock({ backend, name: 'L', ttl: 3000, clock, retryInterval: 100 });
        const held = await a.acquire();
        let got: Awaited<ReturnType<typeof b.acquire>> | undefined;
        const waiting = b.acquire().then((h) => {
          got = h;
        });
        await tick(500);
        expect(got).toBeUndefined();
        await held.release();
        for (let i = 0; i < 5 && got === undefined; i++) await tick(100);
        await waiting;
        expect(got?.state).toBe('held');
        expect(got!.fencingToken).toBeGreaterThan(held.fencingToken);
        await got!.release();
      }));

    it('a bounded wait rejects with TIMEOUT; an aborted wait rejects with ABORTED', () =>
      withSubject(async ({ backend, clock, tick }) => {
        const a = new DistributedLock({ backend, name: 'L', ttl: 3000, clock });
        const b = new DistributedLock({ backend, name: 'L', ttl: 3000, clock, retryInterval: 100 });
        const held = await a.acquire();
        const timed = rejection(b.acquire({ wait: 450 }));
        for (let i = 0; i < 6; i++) await tick(100);
        expect(await timed).toMatchObject({ code: 'TIMEOUT' });
        const ctrl = new AbortController();
        const aborted = rejection(b.acquire({ signal: ctrl.signal }));
        await tick(150);
        ctrl.abort();
        expect(await aborted).toMatchObject({ code: 'ABORTED' });
        expect((await backend.leases.get('L'))?.owner).toBe(held.owner);
        await held.release();
      }));

    it('a lease taken away is noticed at the next renewal: the signal aborts with LEASE_LOST', () =>
      withSubject(async ({ backend, clock, tick }) => {
        const a = new DistributedLock({ backend, name: 'L', ttl: 3000, clock });
        const held = await a.acquire();
        // An operator (or a bug) releases the lease behind the holder's back.
        expect(await backend.leases.release((await backend.leases.get('L'))!)).toBe(true);
        const thief = await backend.leases.acquire('L', 'thief', 60_000);
        expect(thief).not.toBeNull();
        await tick(1000);
        expect(held.state).toBe('lost');
        expect(held.signal.reason).toMatchObject({ code: 'LEASE_LOST' });
        expect(() => held.throwIfLost()).toThrow(/was lost/);
        expect(await held.release()).toBe(false);
        expect((await backend.leases.get('L'))?.owner).toBe('thief');
      }));

    it('when renewals cannot reach the backend, the lock is lost at expiry, not before', () =>
      withSubject(async ({ backend, clock, tick }) => {
        let down = false;
        const flaky: Backend = Object.create(backend) as Backend;
        Object.defineProperty(flaky, 'leases', {
          value: new Proxy(backend.leases, {
            get(target, prop, receiver) {
              const v = Reflect.get(target, prop, receiver) as unknown;
              if (prop !== 'renew' || typeof v !== 'function')
                return typeof v === 'function' ? v.bind(target) : v;
              return (...args: unknown[]) =>
                down
                  ? Promise.reject(
                      unavailableError(backend.kind, new Error('injected outage'), 'leases.renew'),
                    )
                  : (v as (...a: unknown[]) => unknown).apply(target, args);
            },
          }),
        });
        const lock = new DistributedLock({ backend: flaky, name: 'L', ttl: 3000, clock });
        const held = await lock.acquire();
        await tick(1000);
        const expiry = held.expiresAt;
        down = true;
        for (let t = clock.now(); t + 250 < expiry; t = clock.now()) {
          await tick(250);
          expect(held.state).toBe('held');
        }
        await tick(expiry - clock.now());
        expect(held.state).toBe('lost');
        expect(held.signal.reason).toMatchObject({ code: 'LEASE_LOST' });
      }));

    it('withLock releases after success and failure; a loss during fn rejects with LEASE_LOST', () =>
      withSubject(async ({ backend, clock, tick }) => {
        const lock = new DistributedLock({ backend, name: 'L', ttl: 3000, clock });
        let token = 0;
        expect(
          await lock.withLock((h) => {
            token = h.fencingToken;
            return 'done';
          }),
        ).toBe('done');
        expect(await backend.leases.get('L')).toBeUndefined();
        const boom = await rejection(
          lock.withLock(() => {
            throw new Error('boom');
          }),
        );
        expect((boom as Error).message).toBe('boom');
        expect(await backend.leases.get('L')).toBeUndefined();

        let release!: () => void;
        const gate = new Promise<void>((r) => {
          release = r;
        });
        const run = rejection(
          lock.withLock(async (h) => {
            expect(h.fencingToken).toBeGreaterThan(token);
            await gate;
            return 'late';
          }),
        );
        await tick(10);
        await backend.leases.release((await backend.leases.get('L'))!);
        await backend.leases.acquire('L', 'other', 60_000);
        await tick(1000);
        release();
        const err = await run;
        expect(isSluiceError(err) && err.code).toBe('LEASE_LOST');
      }));

    it('serializes contending holders: never two inside at once, every one gets a turn', () =>
      withSubject(async ({ backend, clock, tick }) => {
        const inside: number[] = [];
        let max = 0;
        let current = 0;
        const runs = Array.from({ length: 5 }, (_, i) =>
          new DistributedLock({ backend, name: 'L', ttl: 3000, clock, retryInterval: 50 }).withLock(
            async () => {
              current++;
              max = Math.max(max, current);
              inside.push(i);
              await clock.sleep(200);
              current--;
            },
          ),
        );
        const all = Promise.all(runs);
        let done = false;
        void all.then(() => {
          done = true;
        });
        for (let i = 0; i < 200 && !done; i++) await tick(50);
        await all;
        expect(max).toBe(1);
        expect(inside.sort()).toEqual([0, 1, 2, 3, 4]);
      }));

    it('the fencing token rejects a stale holder commit after a takeover', () =>
      withSubject(async ({ backend, clock, tick }) => {
        const lock = new DistributedLock({ backend, name: 'L', ttl: 3000, clock });
        const held = await lock.acquire();
        await backend.commit('g', 't', 0, 1, { fence: held.fence });
        await backend.leases.release((await backend.leases.get('L'))!);
        const next = await lock.acquire({ wait: false });
        await tick(1000);
        expect(held.state).toBe('lost');
        await expect(backend.commit('g', 't', 0, 2, { fence: held.fence })).rejects.toMatchObject({
          code: 'FENCED',
        });
        await backend.commit('g', 't', 0, 2, { fence: next.fence });
        expect(await backend.committed('g', 't', 0)).toBe(2);
        await next.release();
      }));
  });
}
