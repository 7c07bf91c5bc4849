// 10,000 delayed events due over 2 s, released by two real schedulers with their own connections
// (real clock) on SQLite, PostgreSQL and Redis: every event arrives exactly once, none early.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend, LogEvent } from '../src/backend/Backend.ts';
import { createPostgresBackend } from '../src/backend/postgres/index.ts';
import { deleteRedisPrefix } from '../src/backend/redis/admin.ts';
import { createRedisBackend } from '../src/backend/redis/index.ts';
import { createSqliteBackend } from '../src/backend/sqlite/index.ts';
import { createScheduler } from '../src/time/Scheduler.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-delayed-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PG_URL = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const tag = `timeplan_delayed_${process.pid}_${Date.now().toString(36)}`;

/** A backend kind under test: how to open a connection to one shared store, and how to remove it. */
interface Target {
  readonly name: string;
  open(): Promise<Backend>;
  cleanup(): Promise<void>;
}

const targets: Target[] = [
  {
    name: 'SQLite',
    open: async () => createSqliteBackend({ path: join(dir, 'sluice.db') }),
    cleanup: async () => {},
  },
  {
    name: 'PostgreSQL',
    open: () => createPostgresBackend({ connectionString: PG_URL, schema: tag }),
    cleanup: async () => {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS "${tag}" CASCADE`);
      await admin.end();
    },
  },
  {
    name: 'Redis',
    open: async () => createRedisBackend({ url: 'redis://127.0.0.1:6379', prefix: tag }),
    cleanup: async () => {
      const client = new Redis('redis://127.0.0.1:6379');
      await deleteRedisPrefix({ client, prefix: tag });
      client.disconnect();
    },
  },
];

describe.each(targets)('delayed events under load on $name', (target) => {
  afterAll(() => target.cleanup());

  it('10,000 events over 2 s all arrive once, none early', async () => {
    const producer = await target.open();
    await producer.ensureTopic('jobs', { partitions: 4 });
    // Two schedulers with their own connections, as two processes would have.
    const backends = [await target.open(), await target.open()];
    const schedulers = backends.map((backend, i) =>
      createScheduler({ backend, owner: `s${i}`, pollInterval: 50, onError: () => {} }),
    );
    const N = 10_000;
    const start = Date.now() + 500;
    for (let i = 0; i < N; i += 500) {
      await producer.append(
        'jobs',
        Array.from({ length: 500 }, (_, j) => {
          const n = i + j;
          const at = start + Math.floor((n * 2000) / N);
          return { key: `k${n % 50}`, payload: { n, at }, deliverAt: at };
        }),
      );
    }
    const seen: LogEvent<{ n: number; at: number }>[] = [];
    const next = [0, 0, 0, 0];
    const deadline = Date.now() + 60_000;
    while (seen.length < N && Date.now() < deadline) {
      for (let p = 0; p < 4; p++) {
        const batch = await producer.read('jobs', p, next[p]!, 1000);
        next[p]! += batch.length;
        seen.push(...(batch as LogEvent<{ n: number; at: number }>[]));
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(schedulers.map((s) => s.close()));
    const late = seen.map((e) => e.timestamp - e.payload.at).sort((a, b) => a - b);
    console.info(
      `${target.name}: released ${seen.length}; lateness p50 ${late[Math.floor(late.length / 2)]} ms, p99 ${late[Math.floor(late.length * 0.99)]} ms (loaded machine)`,
    );
    expect(seen).toHaveLength(N);
    expect(new Set(seen.map((e) => e.payload.n)).size).toBe(N);
    // None early: each entered the topic at or after its due time.
    expect(late[0]).toBeGreaterThanOrEqual(0);
    // Per key, the log keeps due order (due times of one key increase with n).
    const byKey = new Map<string, number[]>();
    for (const e of [...seen].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
      const list = byKey.get(e.key!) ?? [];
      list.push(e.payload.n);
      byKey.set(e.key!, list);
    }
    for (const list of byKey.values()) expect(list).toEqual([...list].sort((a, b) => a - b));
    expect(await producer.delayed?.nextDueAt()).toBeNull();
    for (const b of backends) await b.close();
    await producer.close();
  }, 120_000);
});
