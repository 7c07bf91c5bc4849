// The connection budget of a runner on PostgreSQL: at most 3 server connections (pool of 2 + LISTEN), by pg_stat_activity.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresBackend } from '../../backend/postgres/index.ts';
import { partitionedRunner } from './PartitionedRunner.ts';

const DB_URL = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const admin = new pg.Pool({ connectionString: DB_URL, max: 1 });
afterAll(() => admin.end());

/** Server connections opened under `app` right now. */
async function connections(app: string): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(
    'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1',
    [app],
  );
  return Number(rows[0]?.n ?? 0);
}

describe('runner connection budget on PostgreSQL', () => {
  it('one busy runner with 64 partitions never opens more than 3 connections', async () => {
    const app = `sluice-budget-${randomUUID().slice(0, 8)}`;
    const schema = `sluice_budget_${randomUUID().slice(0, 8)}`;
    const backend = await createPostgresBackend({ connectionString: DB_URL, schema, applicationName: app });
    const runner = partitionedRunner({
      backend,
      group: 'g',
      topic: 't',
      partitions: 64,
      nodeName: 'solo',
      heartbeat: '200ms',
      failureTimeout: '2s',
      batchSize: 5,
      handler: () => {},
    });
    let peak = 0;
    try {
      await runner.start();
      const total = 3000;
      await backend.append(
        't',
        Array.from({ length: total }, (_, i) => ({ payload: i, partition: i % 64 })),
      );
      // Every partition busy at once: reads, commits, renewals and heartbeats all compete.
      for (let i = 0; i < 200; i++) {
        peak = Math.max(peak, await connections(app));
        if (runner.stats().handled >= total) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(runner.stats().handled).toBe(total);
      expect(peak).toBeGreaterThanOrEqual(2); // the pool and the LISTEN connection were seen
      expect(peak).toBeLessThanOrEqual(3);
    } finally {
      await runner.stop();
      await backend.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  }, 60_000);
});
