// The numbered schema migrations of the PostgreSQL backend and the advisory-locked runner that applies them.
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
  {
    version: 2,
    name: 'retention and a compact event-id index',
    // Retention per topic, the first available offset per partition, and the log position of
    // idempotency markers recorded with an offset (so trim can remove the passed ones). The
    // unique event-id index keys on the 16-byte MD5 digest of the id instead of the id text:
    // appends look ids up through the same expression and compare the id itself, so a digest
    // collision can only make an append fail, never deduplicate two different ids.
    up: (s) => `
      ALTER TABLE ${s}.topics ADD COLUMN retention json;
      ALTER TABLE ${s}.partitions ADD COLUMN first_offset bigint NOT NULL DEFAULT 0;
      ALTER TABLE ${s}.processed ADD COLUMN topic text, ADD COLUMN partition integer,
        ADD COLUMN event_offset bigint;
      -- Only markers with an offset, by topic alone: duplicates share one posting list.
      CREATE INDEX processed_topic ON ${s}.processed (topic) WHERE topic IS NOT NULL;
      ALTER TABLE ${s}.events DROP CONSTRAINT events_topic_id_uniq;
      CREATE UNIQUE INDEX events_topic_id_uniq ON ${s}.events (topic_id, (decode(md5(id), 'hex')));
    `,
  },
  {
    version: 3,
    name: 'limiters',
    // Rate buckets keep the last decision (granted, wait_ms) so one UPSERT ... RETURNING both
    // decides and reports. Times are float8 ms: GCRA intervals may be fractional.
    up: (s) => `
      CREATE TABLE ${s}.rate_buckets (
        name text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        tat float8 NOT NULL,
        park_until float8 NOT NULL DEFAULT 0,
        granted boolean NOT NULL DEFAULT true,
        wait_ms float8 NOT NULL DEFAULT 0,
        PRIMARY KEY (name, key)
      );
      CREATE TABLE ${s}.limit_parks (
        name text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        until_ms float8 NOT NULL,
        PRIMARY KEY (name, key)
      );
      CREATE TABLE ${s}.limit_slots (
        name text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        holder text COLLATE "C" NOT NULL,
        weight float8 NOT NULL,
        expires_at float8 NOT NULL,
        PRIMARY KEY (name, key, holder)
      );
      -- One semaphore decision in one call: a transaction-level advisory lock per (name, key)
      -- serializes acquirers, expired slots are dropped, then the slot is granted or the
      -- earliest expiry is reported. The time is the p_now argument.
      CREATE FUNCTION ${s}.acquire_slot(p_name text, p_key text, p_holder text, p_weight float8,
          p_max float8, p_ttl float8, p_now float8,
          OUT granted boolean, OUT expires_at float8, OUT retry_ms float8, OUT parked boolean)
      LANGUAGE plpgsql AS $fn$
      DECLARE
        v_park float8;
        v_held float8;
        v_earliest float8;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtextextended(p_name || '/' || p_key, 0));
        SELECT coalesce(max(until_ms), 0) INTO v_park FROM ${s}.limit_parks
          WHERE name = p_name AND key IN (p_key, '');
        IF v_park > p_now THEN
          granted := false; expires_at := 0; retry_ms := v_park - p_now; parked := true;
          RETURN;
        END IF;
        DELETE FROM ${s}.limit_slots AS l
          WHERE l.name = p_name AND l.key = p_key AND (l.expires_at <= p_now OR l.holder = p_holder);
        SELECT coalesce(sum(l.weight), 0), min(l.expires_at) INTO v_held, v_earliest
          FROM ${s}.limit_slots AS l WHERE l.name = p_name AND l.key = p_key;
        parked := false;
        IF v_held + p_weight > p_max THEN
          granted := false; expires_at := 0; retry_ms := coalesce(v_earliest - p_now, 1);
          RETURN;
        END IF;
        INSERT INTO ${s}.limit_slots (name, key, holder, weight, expires_at)
          VALUES (p_name, p_key, p_holder, p_weight, p_now + p_ttl);
        granted := true; expires_at := p_now + p_ttl; retry_ms := 0;
      END
      $fn$;
    `,
  },
  {
    version: 4,
    name: 'delayed events, topic ttl, schedules',
    up: (s) => `
      CREATE TABLE ${s}.delayed (
        seq bigserial PRIMARY KEY,
        topic text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        partition integer NOT NULL,
        key text,
        payload text NOT NULL,
        headers text,
        deliver_at bigint NOT NULL,
        UNIQUE (topic, id)
      );
      CREATE INDEX delayed_due ON ${s}.delayed (deliver_at, seq);
      CREATE TABLE ${s}.topic_ttl (
        topic text COLLATE "C" PRIMARY KEY,
        ttl_ms bigint NOT NULL
      );
      CREATE TABLE ${s}.schedules (
        name text COLLATE "C" PRIMARY KEY,
        topic text COLLATE "C" NOT NULL,
        spec text NOT NULL,
        paused boolean NOT NULL DEFAULT false,
        last_tick bigint,
        created_at bigint NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'runner group assignments',
    up: (s) => `
      CREATE TABLE ${s}.assignments (
        name text COLLATE "C" PRIMARY KEY,
        generation bigint NOT NULL,
        body text NOT NULL,
        published_at bigint NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'leases bound to a holder lease',
    // A bound lease is held while its holder (name, token) is held; its own expiry plays no part.
    up: (s) => `
      ALTER TABLE ${s}.leases ADD COLUMN holder text COLLATE "C", ADD COLUMN holder_token bigint;
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
