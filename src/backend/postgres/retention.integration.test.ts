// PostgreSQL retention specifics: upgrading a schema at version 1 with events, the digest id index, concurrent trims.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/ManualClock.ts';
import { migratePg, PG_MIGRATIONS, quoteIdent } from './migrations.ts';
import { createPostgresBackend } from './PostgresBackend.ts';

const URL = process.env.SLUICE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const admin = new pg.Pool({ connectionString: URL, max: 2 });
const schemas: string[] = [];
const freshSchema = () => {
  const s = `ret_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  schemas.push(s);
  return s;
};

afterAll(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE`);
  await admin.end();
});

async function rejectsOffsetTrimmed(p: Promise<unknown>): Promise<void> {
  await expect(p).rejects.toMatchObject({ code: 'OFFSET_TRIMMED', context: { firstAvailable: 59_990 } });
}

describe('PostgreSQL retention', () => {
  it('migration 2 upgrades a schema holding events: ids stay deduplicated, reads and trims work', async () => {
    const schema = freshSchema();
    const client = await admin.connect();
    try {
      expect(await migratePg(client, schema, 1, PG_MIGRATIONS.slice(0, 1))).toEqual([1]);
      const s = quoteIdent(schema);
      await client.query(`INSERT INTO ${s}.topics (name, partitions, created_at) VALUES ('t', 1, 0)`);
      await client.query(`INSERT INTO ${s}.partitions (topic_id, partition, next_offset) VALUES (1, 0, 3)`);
      await client.query(
        `INSERT INTO ${s}.events (topic_id, partition, event_offset, id, payload, ts)
         SELECT 1, 0, g, 'old-' || g, '{"v":1}', 0 FROM generate_series(0, 2) g`,
      );
    } finally {
      client.release();
    }
    const b = await createPostgresBackend({ connectionString: URL, schema, clock: new ManualClock(1000) });
    try {
      expect(b.appliedMigrations).toEqual([2, 3, 4, 5, 6]);
      // A retried producer id from before the upgrade is still found through the digest index.
      expect(
        await b.append('t', [
          { id: 'old-1', payload: 'again' },
          { id: 'new', payload: 'x' },
        ]),
      ).toEqual([
        { id: 'old-1', partition: 0, offset: 1 },
        { id: 'new', partition: 0, offset: 3 },
      ]);
      await b.setRetention('t', { maxEvents: 2 });
      expect((await b.trim('t')).partitions).toEqual([{ partition: 0, firstOffset: 2, removed: 2 }]);
      expect((await b.read('t', 0, 2, 10)).map((e) => e.id)).toEqual(['old-2', 'new']);
      const { rows } = await admin.query<{ indexdef: string }>(
        'SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = $2',
        [schema, 'events_topic_id_uniq'],
      );
      expect(rows[0]?.indexdef).toContain("decode(md5(id), 'hex'::text)");
    } finally {
      await b.close();
    }
  });

  it('trims more events than one delete transaction takes, in several, ending at the same first offset', async () => {
    const schema = freshSchema();
    const b = await createPostgresBackend({ connectionString: URL, schema, notify: false });
    try {
      await b.ensureTopic('many', { partitions: 1 });
      for (let i = 0; i < 60_000; i += 5000)
        await b.append(
          'many',
          Array.from({ length: 5000 }, (_, j) => ({ payload: i + j })),
        );
      await b.setRetention('many', { maxEvents: 10 });
      expect((await b.trim('many')).partitions).toEqual([
        { partition: 0, firstOffset: 59_990, removed: 59_990 },
      ]);
      const { rows } = await admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${quoteIdent(schema)}.events`,
      );
      expect(Number(rows[0]!.n)).toBe(10);
      await rejectsOffsetTrimmed(b.read('many', 0, 59_989, 5));
    } finally {
      await b.close();
    }
  });

  it('concurrent trims from two backends remove each event once and agree on the first offset', async () => {
    const schema = freshSchema();
    const one = await createPostgresBackend({ connectionString: URL, schema });
    const two = await createPostgresBackend({ connectionString: URL, schema });
    try {
      await one.ensureTopic('c', { partitions: 2, retention: { maxEvents: 10 } });
      await one.append(
        'c',
        Array.from({ length: 200 }, (_, i) => ({ partition: i % 2, payload: i })),
      );
      const [a, b] = await Promise.all([one.trim('c'), two.trim('c')]);
      for (let p = 0; p < 2; p++) {
        expect(a.partitions[p]!.removed + b.partitions[p]!.removed).toBe(90);
        expect(await one.retention.firstOffset('c', p)).toBe(90);
      }
    } finally {
      await one.close();
      await two.close();
    }
  });
});
