// The DistributedLock and Projection suites on a real PostgreSQL server, each subject in a fresh schema.
import pg from 'pg';
import { afterAll } from 'vitest';
import { distributedLockSuite } from '../../test/fixtures/patterns/lockSuite.ts';
import { projectionSuite } from '../../test/fixtures/patterns/projectionSuite.ts';
import { createPostgresBackend } from '../backend/postgres/index.ts';
import { ManualClock } from '../core/ManualClock.ts';

const DB_URL = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const admin = new pg.Pool({ connectionString: DB_URL, max: 2 });
afterAll(() => admin.end());
let seq = 0;

/** A PostgreSQL backend in a fresh schema around a manual clock, and the cleanup dropping it. */
async function subject() {
  const clock = new ManualClock(1_700_000_000_000);
  const schema = `sluice_pat${process.pid}_${Date.now().toString(36)}_${++seq}`;
  const backend = await createPostgresBackend({ connectionString: DB_URL, schema, clock });
  return {
    backend,
    clock,
    cleanup: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

distributedLockSuite('postgres', subject);
projectionSuite('postgres', subject);
