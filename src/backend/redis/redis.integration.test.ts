// Redis backend tests on the local server: conformance, concurrent writers, SCRIPT FLUSH fallback, cross-process watch, prefixes, outages.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/ManualClock.ts';
import type { LogEvent } from '../Backend.ts';
import { runBackendConformance, T0 } from '../conformance/index.ts';
import { deleteRedisPrefix } from './admin.ts';
import { createRedisBackend, type RedisBackend } from './RedisBackend.ts';
import { SCRIPTS } from './scripts.ts';

const URL = 'redis://127.0.0.1:6379';
const RUN = `sluice-test:redis:${process.pid}:${Date.now()}`;
let seq = 0;
const admin = new Redis(URL);

afterAll(async () => {
  await deleteRedisPrefix({ client: admin, prefix: RUN });
  admin.disconnect();
});

runBackendConformance('redis', async ({ clock }) => {
  const prefix = `${RUN}:c${++seq}`;
  return {
    backend: createRedisBackend({ url: URL, prefix, clock }),
    cleanup: async () => {
      await deleteRedisPrefix({ client: admin, prefix });
    },
  };
});

function fresh(clock = new ManualClock(T0)): { backend: RedisBackend; prefix: string; clock: ManualClock } {
  const prefix = `${RUN}:x${++seq}`;
  return { backend: createRedisBackend({ url: URL, prefix, clock }), prefix, clock };
}

describe('RedisBackend', () => {
  it('rejects invalid options with CONFIG_INVALID naming the field', () => {
    expect(() => createRedisBackend({ prefix: '' })).toThrow(/`RedisBackend\.prefix`/);
    expect(() => createRedisBackend({ clock: 5 as unknown as ManualClock })).toThrow(/`RedisBackend\.clock`/);
  });

  it('concurrent appends from several connections keep offsets dense', async () => {
    const prefix = `${RUN}:dense${++seq}`;
    const clock = new ManualClock(T0);
    const backends = Array.from({ length: 4 }, () => createRedisBackend({ url: URL, prefix, clock }));
    try {
      await backends[0]!.ensureTopic('t', { partitions: 3 });
      const perWriter = 25;
      await Promise.all(
        backends.map((b, w) =>
          Promise.all(
            Array.from({ length: perWriter }, (_, i) =>
              b.append('t', [
                { payload: { w, i }, partition: i % 3 },
                { payload: { w, i, second: true }, partition: (i + 1) % 3 },
              ]),
            ),
          ),
        ),
      );
      let total = 0;
      const seen = new Set<string>();
      for (let p = 0; p < 3; p++) {
        const end = await backends[1]!.endOffset('t', p);
        const events = await backends[2]!.read('t', p, 0, end + 10);
        expect(events.map((e) => e.offset)).toEqual(Array.from({ length: end }, (_, i) => i));
        for (const e of events) seen.add(e.id);
        total += events.length;
      }
      expect(total).toBe(4 * perWriter * 2);
      expect(seen.size).toBe(total);
    } finally {
      await Promise.all(backends.map((b) => b.close()));
      await deleteRedisPrefix({ client: admin, prefix });
    }
  });

  it('keeps working after SCRIPT FLUSH: EVALSHA falls back to EVAL and the script is loaded again', async () => {
    const { backend: b, prefix } = fresh();
    try {
      await b.ensureTopic('t', { partitions: 1 });
      await b.append('t', [{ payload: 1 }]);
      const sha = (await admin.script('EXISTS', ...shas(['sluiceAppend', 'sluiceRead']))) as number[];
      expect(sha).toEqual([1, 1]);
      await admin.script('FLUSH');
      expect(await admin.script('EXISTS', ...shas(['sluiceAppend', 'sluiceRead']))).toEqual([0, 0]);
      await b.append('t', [{ payload: 2 }]);
      expect((await b.read('t', 0, 0, 10)).map((e) => e.payload)).toEqual([1, 2]);
      expect(await admin.script('EXISTS', ...shas(['sluiceAppend', 'sluiceRead']))).toEqual([1, 1]);
    } finally {
      await b.close();
      await deleteRedisPrefix({ client: admin, prefix });
    }
  });

  it('publishes appends to other processes watching the same prefix', async () => {
    const { backend: writer, prefix, clock } = fresh();
    const reader = createRedisBackend({ url: URL, prefix, clock });
    try {
      await writer.ensureTopic('t', { partitions: 2 });
      const seen: number[] = [];
      const off = reader.watch('t', (p) => seen.push(p));
      // The watcher's own append waits for its subscription; give the other connection time too.
      await reader.append('t', [{ payload: 0, partition: 0 }]);
      await writer.append('t', [{ payload: 1, partition: 1 }]);
      await expect.poll(() => seen.includes(1), { timeout: 5000 }).toBe(true);
      off();
    } finally {
      await writer.close();
      await reader.close();
      await deleteRedisPrefix({ client: admin, prefix });
    }
  });

  it('carries small appends in the hint (as read returns them), large ones as the partition only', async () => {
    const { backend, prefix } = fresh();
    try {
      await backend.ensureTopic('t', { partitions: 2 });
      const hints: { partition: number; events: readonly LogEvent[] | undefined }[] = [];
      const off = backend.watch('t', (partition, events) => hints.push({ partition, events }));
      await backend.append('t', [
        { payload: { n: 1, text: 'é✓' }, partition: 1, key: 'k', headers: { traceparent: 'x' } },
        { payload: { n: 2 }, partition: 1 },
      ]);
      await expect.poll(() => hints.length, { timeout: 5000 }).toBe(1);
      expect(hints[0]!.partition).toBe(1);
      expect(hints[0]!.events).toEqual(await backend.read('t', 1, 0, 10));
      // Over 8 KB of new events: the hint names the partition only.
      await backend.append('t', [{ payload: 'x'.repeat(9000), partition: 0 }]);
      await expect.poll(() => hints.length, { timeout: 5000 }).toBe(2);
      expect(hints[1]).toEqual({ partition: 0, events: undefined });
      // A repeated id appends nothing new: no events to carry, and no hint at all.
      const [first] = await backend.append('t', [{ id: 'same', payload: 1, partition: 0 }]);
      await backend.append('t', [{ id: 'same', payload: 1, partition: 0 }]);
      await expect.poll(() => hints.length, { timeout: 5000 }).toBe(3);
      expect(hints[2]!.events?.map((e) => e.offset)).toEqual([first!.offset]);
      await new Promise((r) => setTimeout(r, 100));
      expect(hints).toHaveLength(3);
      off();
    } finally {
      await backend.close();
      await deleteRedisPrefix({ client: admin, prefix });
    }
  });

  it('sees a topic created by another connection and a recreated topic with another partition count', async () => {
    const { backend: a, prefix, clock } = fresh();
    const b = createRedisBackend({ url: URL, prefix, clock });
    try {
      await a.ensureTopic('t', { partitions: 2 });
      await b.append('t', [{ payload: 'x', partition: 1 }]);
      // The data vanishes (as after a restart without persistence) and the topic comes back bigger.
      await deleteRedisPrefix({ client: admin, prefix });
      await a.ensureTopic('t', { partitions: 4 });
      const [r] = await b.append('t', [{ payload: 'y', partition: 3 }]);
      expect(r).toMatchObject({ partition: 3, offset: 0 });
      expect((await b.read('t', 3, 0, 10)).map((e) => e.payload)).toEqual(['y']);
      await deleteRedisPrefix({ client: admin, prefix });
      await expect(b.append('t', [{ payload: 'z' }])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await a.close();
      await b.close();
      await deleteRedisPrefix({ client: admin, prefix });
    }
  });

  it('stores only keys under its prefix and deleteRedisPrefix removes them all', async () => {
    const { backend: b, prefix } = fresh();
    try {
      await b.ensureTopic('t', { partitions: 2 });
      await b.append('t', [{ payload: 1, id: 'a' }]);
      await b.commit('g', 't', 0, 1, { idempotencyKeys: ['k'] });
      await b.leases.acquire('L', 'o', 1000);
      await b.membership.heartbeat('n');
      await b.dlq.put({ id: 'd', source: 's', payload: 1, error: { name: 'E', message: 'm' }, attempts: 1 });
      const keys = await admin.keys(`${prefix}:*`);
      expect(keys.length).toBeGreaterThan(10);
      expect(keys.every((k) => k.startsWith(`${prefix}:`))).toBe(true);
      expect(await deleteRedisPrefix({ client: admin, prefix })).toBe(keys.length);
      expect(await admin.keys(`${prefix}:*`)).toEqual([]);
    } finally {
      await b.close();
    }
  });

  it('reads a window deep inside a large partition', async () => {
    const { backend: b, prefix } = fresh();
    try {
      await b.ensureTopic('big', { partitions: 1 });
      const batch = Array.from({ length: 1000 }, (_, i) => ({ payload: i }));
      for (let i = 0; i < 5; i++) await b.append('big', batch);
      expect(await b.endOffset('big', 0)).toBe(5000);
      const page = await b.read('big', 0, 4990, 100);
      expect(page.map((e) => e.offset)).toEqual(Array.from({ length: 10 }, (_, i) => 4990 + i));
      expect(page[0]!.payload).toBe(990);
      expect((await b.read('big', 0, 0, 2000)).length).toBe(2000);
    } finally {
      await b.close();
      await deleteRedisPrefix({ client: admin, prefix });
    }
  });

  it('an unreachable server rejects with BACKEND_UNAVAILABLE (retryable) instead of hanging', async () => {
    const b = createRedisBackend({ url: 'redis://127.0.0.1:1', prefix: `${RUN}:down` });
    try {
      const err = await b.ensureTopic('t', { partitions: 1 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true });
      await expect(b.leases.acquire('L', 'o', 1000)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    } finally {
      await b.close();
    }
  });
});

/** SHA1 of scripts, as SCRIPT EXISTS expects. */
function shas(names: (keyof typeof SCRIPTS)[]): string[] {
  return names.map((n) => createHash('sha1').update(SCRIPTS[n]).digest('hex'));
}
