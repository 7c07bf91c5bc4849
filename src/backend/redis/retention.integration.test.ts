// Redis retention specifics: trimmed events leave the log hash and the id index; passed markers leave the SET and ZSET.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/ManualClock.ts';
import { deleteRedisPrefix } from './admin.ts';
import { createRedisBackend } from './RedisBackend.ts';

const URL = 'redis://127.0.0.1:6379';
const RUN = `sluice-test:redis-retention:${process.pid}:${Date.now()}`;
const admin = new Redis(URL);

afterAll(async () => {
  await deleteRedisPrefix({ client: admin, prefix: RUN });
  admin.disconnect();
});

describe('Redis retention', () => {
  it('removes trimmed events from the log hash and the id index, in chunks larger than one script call', async () => {
    const prefix = `${RUN}:a`;
    const b = createRedisBackend({ url: URL, prefix, clock: new ManualClock(1000) });
    try {
      await b.ensureTopic('big', { partitions: 1 });
      for (let i = 0; i < 12_000; i += 1000)
        await b.append(
          'big',
          Array.from({ length: 1000 }, (_, j) => ({ id: `e${i + j}`, payload: i + j })),
        );
      expect(await admin.hlen(`${prefix}:log:big:0`)).toBe(12_000);
      await b.setRetention('big', { maxEvents: 500 });
      const r = await b.trim('big');
      expect(r.partitions).toEqual([{ partition: 0, firstOffset: 11_500, removed: 11_500 }]);
      expect(await admin.hlen(`${prefix}:log:big:0`)).toBe(500);
      expect(await admin.hlen(`${prefix}:ids:big`)).toBe(500);
      expect(await admin.hexists(`${prefix}:ids:big`, 'e11499')).toBe(0);
      // A trimmed id appends a new event; a stored one is still deduplicated.
      const [again, kept] = await b.append('big', [
        { id: 'e0', payload: 'new' },
        { id: 'e11999', payload: 'dup' },
      ]);
      expect(again).toEqual({ id: 'e0', partition: 0, offset: 12_000 });
      expect(kept).toEqual({ id: 'e11999', partition: 0, offset: 11_999 });
    } finally {
      await b.close();
    }
  });

  it('removes passed markers from the group SET and the offset ZSET, and the index entry once empty', async () => {
    const prefix = `${RUN}:m`;
    const b = createRedisBackend({ url: URL, prefix, clock: new ManualClock(1000) });
    try {
      await b.ensureTopic('t', { partitions: 1 });
      await b.commit('g', 't', 0, 0, { idempotencyKeys: ['k1', 'k2'], idempotencyOffsets: [1, 2] });
      expect(await admin.scard(`${prefix}:done:g`)).toBe(2);
      expect(await admin.zcard(`${prefix}:done-at:g\u0000t\u00000`)).toBe(2);
      await b.commit('g', 't', 0, 2);
      expect((await b.trim('t')).markersRemoved).toBe(1);
      expect(await admin.smembers(`${prefix}:done:g`)).toEqual(['k2']);
      await b.commit('g', 't', 0, 3);
      expect((await b.trim('t')).markersRemoved).toBe(1);
      expect(
        await admin.exists(`${prefix}:done:g`, `${prefix}:done-at:g\u0000t\u00000`, `${prefix}:done-index:t`),
      ).toBe(0);
    } finally {
      await b.close();
    }
  });
});
