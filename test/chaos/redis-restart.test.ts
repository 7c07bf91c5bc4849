// The local Redis server restarted for real: calls fail fast with BACKEND_UNAVAILABLE and recover after (run alone).
/**
 * Restarts the local Redis server for real (`redis-cli shutdown nosave`, then `redis-server`).
 * Other test files using Redis fail while it is down: run this file on its own, serially.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisBackend, deleteRedisPrefix } from '../../src/backend/redis/index.ts';
import { isSluiceError } from '../../src/core/errors.ts';
import { DistributedLock } from '../../src/patterns/lock/DistributedLock.ts';
import { redisAlive, startRedis, stopRedis } from '../fixtures/redis/redisServer.ts';

const URL = 'redis://127.0.0.1:6379';
const PREFIX = `sluice-test:chaos:${process.pid}:${Date.now()}`;
/** An outage must surface within this bound rather than hang (the backend's own bound is ~1 s). */
const OUTAGE_BOUND_MS = 5000;

/** Settles `p` or fails when it is still pending after `ms` (a hang, not a slowness check). */
async function settlesWithin<T>(
  p: Promise<T>,
  ms: number,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([
      p.then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
      hang,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function expectUnavailable(p: Promise<unknown>): Promise<void> {
  const outcome = await settlesWithin(p, OUTAGE_BOUND_MS);
  expect(outcome.ok).toBe(false);
  const error = (outcome as { error: unknown }).error;
  expect(isSluiceError(error), String(error)).toBe(true);
  expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true });
}

/** Retries `fn` while it fails with BACKEND_UNAVAILABLE (the client reconnects on its own). */
async function eventually<T>(fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!(isSluiceError(e) && e.code === 'BACKEND_UNAVAILABLE') || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

afterAll(async () => {
  await startRedis();
  await deleteRedisPrefix({ url: URL, prefix: PREFIX }).catch(() => {});
});

describe('Redis restart', () => {
  it('rejects with BACKEND_UNAVAILABLE during the outage and recovers the connection afterwards', {
    timeout: 90_000,
  }, async () => {
    await startRedis();
    const backend = createRedisBackend({ url: URL, prefix: PREFIX });
    try {
      await backend.ensureTopic('t', { partitions: 2 });
      await backend.append('t', [{ payload: 'before', partition: 0 }]);
      expect(await backend.endOffset('t', 0)).toBe(1);
      const seen: number[] = [];
      const off = backend.watch('t', (p) => seen.push(p));
      await backend.append('t', [{ payload: 'watched', partition: 1 }]);
      await expect.poll(() => seen.includes(1), { timeout: 5000 }).toBe(true);

      const held = await new DistributedLock({ backend, name: 'chaos-lock', ttl: 1500 }).acquire();

      await stopRedis();
      try {
        await expectUnavailable(backend.append('t', [{ payload: 'lost' }]));
        await expectUnavailable(backend.read('t', 0, 0, 10));
        await expectUnavailable(backend.commit('g', 't', 0, 1));
        await expectUnavailable(backend.leases.acquire('L', 'me', 1000));
        await expectUnavailable(backend.membership.heartbeat('n1'));
        await expectUnavailable(backend.dlq.count());
        // Still unavailable on a later call: nothing is queued forever.
        await new Promise((r) => setTimeout(r, 1500));
        await expectUnavailable(backend.topicInfo('t'));
        // A lock cannot be renewed during the outage: it is lost at its expiry.
        await expect.poll(() => held.state, { timeout: 5000 }).toBe('lost');
        expect(held.signal.reason).toMatchObject({ code: 'LEASE_LOST' });
      } finally {
        await startRedis();
      }

      // The server keeps nothing on disk: the topic is gone, the connection is back.
      expect(await eventually(() => backend.topicInfo('t'))).toBeUndefined();
      await expect(backend.append('t', [{ payload: 'x' }])).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await backend.ensureTopic('t', { partitions: 2 });
      const [pos] = await backend.append('t', [{ payload: 'after', partition: 0 }]);
      expect(pos).toMatchObject({ partition: 0, offset: 0 });
      expect((await backend.read('t', 0, 0, 10)).map((e) => e.payload)).toEqual(['after']);
      expect(await backend.leases.acquire('L', 'me', 1000)).toMatchObject({ owner: 'me' });

      // The subscriber connection re-subscribed by itself (no new watch() call).
      seen.length = 0;
      const deadline = Date.now() + 15_000;
      while (!seen.includes(1)) {
        expect(Date.now() < deadline, 'no append notification after the restart').toBe(true);
        await backend.append('t', [{ payload: 'ping', partition: 1 }]);
        await new Promise((r) => setTimeout(r, 200));
      }
      off();
    } finally {
      await backend.close();
      if (!(await redisAlive())) await startRedis();
    }
  });
});
