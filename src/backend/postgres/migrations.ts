import type { ClientBase } from 'pg';
import { SluiceError } from '../../core/errors.ts';

/** One numbered schema change of the PostgreSQL backend. */
export interface PgMigration {
  /** Dense, starting at 1; never edited once released. */
  readonly version: number;
  readonly name: string;
  /** SQL run inside the migration transaction; `schema` is the quoted schema identifier. */
  readonly up: (schema: string) => string;
}

/**
 * The schema of the PostgreSQL backend, one numbered step after another. Append new steps;
 * never change a released one.
 *
 * - Times are `bigint` milliseconds since the epoch, always written from the backend's clock.
 * - Names that are listed in order (`topics.name`, `dlq.id`, `leases.name`, `members.node`) use
 *   `COLLATE "C"`: code point order, the same as every other backend.
 * - Payloads, headers, errors and metadata are `json`, not `jsonb`: `json` keeps the text exactly
 *   as written (key order, and strings holding `\u0000`, which `jsonb` rejects), so a read returns
 *   `JSON.parse(JSON.stringify(value))` like every other backend.
 */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'initial schema',
    up: (s) => `
      CREATE TABLE ${s}.topics (
        topic_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text COLLATE "C" NOT NULL UNIQUE,
        partitions integer NOT NULL CHECK (partitions >= 1),
        created_at bigint NOT NULL
      );
      -- One row per partition: the next offset to assign. Appends lock these rows
      -- (SELECT ... FOR UPDATE) so offsets are dense and follow commit order.
      CREATE TABLE ${s}.partitions (
        topic_id integer NOT NULL REFERENCES ${s}.topics (topic_id),
        partition integer NOT NULL,
        next_offset bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (topic_id, partition)
      );
      CREATE TABLE ${s}.events (
        topic_id integer NOT NULL,
        partition integer NOT NULL,
        event_offset bigint NOT NULL,
        id text COLLATE "C" NOT NULL,
        key text,
        payload json NOT NULL,
        headers json,
        ts bigint NOT NULL,
        PRIMARY KEY (topic_id, partition, event_offset),
        CONSTRAINT events_topic_id_uniq UNIQUE (topic_id, id)
      );
      CREATE TABLE ${s}.offsets (
        grp text NOT NULL,
        topic text NOT NULL,
        partition integer NOT NULL,
        committed_offset bigint NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (grp, topic, partition)
      );
      CREATE TABLE ${s}.processed (
        grp text NOT NULL,
        key text NOT NULL,
        processed_at bigint NOT NULL,
        PRIMARY KEY (grp, key)
      );
      CREATE TABLE ${s}.dlq (
        id text COLLATE "C" PRIMARY KEY,
        source text NOT NULL,
        topic text,
        partition integer,
        event_offset bigint,
        key text,
        payload json NOT NULL,
        error json NOT NULL,
        attempts integer NOT NULL,
        delivery_count integer NOT NULL,
        first_failed_at bigint NOT NULL,
        last_failed_at bigint NOT NULL
      );
      CREATE INDEX dlq_order ON ${s}.dlq (first_failed_at, id);
      CREATE INDEX dlq_source ON ${s}.dlq (source, first_failed_at, id);
      CREATE INDEX dlq_topic ON ${s}.dlq (topic, first_failed_at, id);
      -- A lease row is never deleted: release clears the owner and keeps the token, so the
      -- per-name token sequence never goes back.
      CREATE TABLE ${s}.leases (
        name text COLLATE "C" PRIMARY KEY,
        owner text,
        token bigint NOT NULL,
        expires_at bigint NOT NULL
      );
      CREATE TABLE ${s}.members (
        node text COLLATE "C" PRIMARY KEY,
        meta json NOT NULL,
        last_heartbeat bigint NOT NULL,
        joined_at bigint NOT NULL
      );
    `,
  },
];

/** Quotes an SQL identifier (`"a""b"`). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Brings `schema` up to date on `client`: in one transaction holding a transaction-level advisory
 * lock keyed by the schema name (`pg_advisory_xact_lock`), creates the schema and its
 * `migrations` table when missing, then applies the missing {@link PG_MIGRATIONS} in order and
 * records each one. Processes starting at the same time queue on the lock, so each step runs
 * exactly once. Returns the versions applied by this call (empty when already up to date).
 * Rejects with `INVALID_STATE` when the schema was migrated by a newer Sluice.
 */
export async function migratePg(
  client: ClientBase,
  schema: string,
  now: number,
  migrations: readonly PgMigration[] = PG_MIGRATIONS,
): Promise<number[]> {
  const s = quoteIdent(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`sluice.migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at bigint NOT NULL
    )`);
    const rows = (
      await client.query<{ version: number }>(`SELECT version FROM ${s}.migrations ORDER BY version`)
    ).rows;
    const applied = new Set(rows.map((r) => r.version));
    const latest = migrations[migrations.length - 1]?.version ?? 0;
    const newest = rows[rows.length - 1]?.version ?? 0;
    if (newest > latest) {
      throw new SluiceError(
        'INVALID_STATE',
        `The PostgreSQL schema "${schema}" is at version ${newest}, newer than this Sluice supports (${latest})`,
        { context: { schema, version: newest, supported: latest } },
      );
    }
    const done: number[] = [];
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await client.query(m.up(s));
      await client.query(`INSERT INTO ${s}.migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [
        m.version,
        m.name,
        now,
      ]);
      done.push(m.version);
    }
    await client.query('COMMIT');
    return done;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}
