import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runBackendConformance } from '../conformance/index.ts';
import { createPostgresBackend } from './PostgresBackend.ts';

/** The local test server (trust authentication). */
const URL = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const admin = new pg.Pool({ connectionString: URL, max: 2 });
afterAll(() => admin.end());

let seq = 0;
/** A schema name no other test (file, fork or run) uses. */
function freshSchema(): string {
  seq += 1;
  return `sluice_t${process.pid}_${Date.now().toString(36)}_${seq}`;
}

async function dropSchema(schema: string): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

runBackendConformance('postgres', async ({ clock }) => {
  const schema = freshSchema();
  const backend = await createPostgresBackend({ connectionString: URL, schema, clock });
  return { backend, cleanup: () => dropSchema(schema) };
});
