// The numbered schema migrations of the SQLite backend.
import type BetterSqlite3 from 'better-sqlite3';
import { SluiceError } from '../../core/errors.ts';

/** One numbered schema change. Versions are dense, start at 1 and are never edited once released. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** SQL run inside the migration transaction. */
  readonly up: string;
}

/**
 * The schema of the SQLite backend. Append new migrations; never change a released one.
 * Column names avoid SQL keywords (`partition`, `offset`).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    up: `
      CREATE TABLE sluice_topics (
        topic_id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        partitions INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE sluice_partitions (
        topic_id INTEGER NOT NULL,
        partition_index INTEGER NOT NULL,
        next_offset INTEGER NOT NULL,
        PRIMARY KEY (topic_id, partition_index)
      ) WITHOUT ROWID;
      CREATE TABLE sluice_events (
        topic_id INTEGER NOT NULL,
        partition_index INTEGER NOT NULL,
        event_offset INTEGER NOT NULL,
        id TEXT NOT NULL,
        key TEXT,
        payload TEXT NOT NULL,
        headers TEXT,
        ts INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX sluice_events_position ON sluice_events (topic_id, partition_index, event_offset);
      CREATE UNIQUE INDEX sluice_events_id ON sluice_events (topic_id, id);
      CREATE TABLE sluice_offsets (
        grp TEXT NOT NULL,
        topic TEXT NOT NULL,
        partition_index INTEGER NOT NULL,
        committed_offset INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (grp, topic, partition_index)
      ) WITHOUT ROWID;
      CREATE TABLE sluice_processed (
        grp TEXT NOT NULL,
        key TEXT NOT NULL,
        processed_at INTEGER NOT NULL,
        PRIMARY KEY (grp, key)
      ) WITHOUT ROWID;
      CREATE TABLE sluice_dlq (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        topic TEXT,
        partition_index INTEGER,
        event_offset INTEGER,
        key TEXT,
        payload TEXT NOT NULL,
        error TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        delivery_count INTEGER NOT NULL,
        first_failed_at INTEGER NOT NULL,
        last_failed_at INTEGER NOT NULL
      );
      CREATE INDEX sluice_dlq_order ON sluice_dlq (first_failed_at, id);
      CREATE INDEX sluice_dlq_source ON sluice_dlq (source);
      CREATE TABLE sluice_leases (
        name TEXT PRIMARY KEY,
        owner TEXT,
        token INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE sluice_members (
        node TEXT PRIMARY KEY,
        meta TEXT NOT NULL,
        last_heartbeat INTEGER NOT NULL,
        joined_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'retention',
    // Retention per topic (JSON), the first available offset per partition, and the log position
    // of idempotency markers recorded with an offset (so trim can remove passed ones).
    up: `
      ALTER TABLE sluice_topics ADD COLUMN retention TEXT;
      ALTER TABLE sluice_partitions ADD COLUMN first_offset INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sluice_processed ADD COLUMN topic TEXT;
      ALTER TABLE sluice_processed ADD COLUMN partition_index INTEGER;
      ALTER TABLE sluice_processed ADD COLUMN event_offset INTEGER;
      CREATE INDEX sluice_processed_topic ON sluice_processed (topic) WHERE topic IS NOT NULL;
    `,
  },
  {
    version: 3,
    name: 'limiters',
    up: `
      CREATE TABLE sluice_rate_buckets (
        name TEXT NOT NULL,
        key TEXT NOT NULL,
        tat REAL NOT NULL,
        PRIMARY KEY (name, key)
      ) WITHOUT ROWID;
      CREATE TABLE sluice_limit_parks (
        name TEXT NOT NULL,
        key TEXT NOT NULL,
        until_ms REAL NOT NULL,
        PRIMARY KEY (name, key)
      ) WITHOUT ROWID;
      CREATE TABLE sluice_limit_slots (
        name TEXT NOT NULL,
        key TEXT NOT NULL,
        holder TEXT NOT NULL,
        weight REAL NOT NULL,
        expires_at REAL NOT NULL,
        PRIMARY KEY (name, key, holder)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: 'delayed events, topic ttl, schedules',
    up: `
      CREATE TABLE sluice_delayed (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        id TEXT NOT NULL,
        partition_index INTEGER NOT NULL,
        key TEXT,
        payload TEXT NOT NULL,
        headers TEXT,
        deliver_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX sluice_delayed_id ON sluice_delayed (topic, id);
      CREATE INDEX sluice_delayed_due ON sluice_delayed (deliver_at, seq);
      CREATE TABLE sluice_topic_ttl (
        topic TEXT PRIMARY KEY,
        ttl_ms INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE sluice_schedules (
        name TEXT PRIMARY KEY,
        topic TEXT NOT NULL,
        spec TEXT NOT NULL,
        paused INTEGER NOT NULL DEFAULT 0,
        last_tick INTEGER,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    name: 'runner group assignments',
    up: `
      CREATE TABLE sluice_assignments (
        name TEXT PRIMARY KEY,
        generation INTEGER NOT NULL,
        body TEXT NOT NULL,
        published_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 6,
    name: 'leases bound to a holder lease',
    // A bound lease is held while its holder (name, token) is held; its own expiry plays no part.
    up: `
      ALTER TABLE sluice_leases ADD COLUMN holder TEXT;
      ALTER TABLE sluice_leases ADD COLUMN holder_token INTEGER;
    `,
  },
];

/**
 * Brings the schema up to date: applies the missing {@link MIGRATIONS} in order and records each
 * in `sluice_migrations`, all inside one IMMEDIATE transaction so that several processes opening
 * the same file at once apply each migration exactly once. Returns the versions applied now.
 * Throws `INVALID_STATE` when the file was migrated by a newer Sluice.
 */
export function migrate(db: BetterSqlite3.Database, now: number): number[] {
  const run = db.transaction((): number[] => {
    db.exec(`CREATE TABLE IF NOT EXISTS sluice_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
    const rows = db.prepare('SELECT version FROM sluice_migrations ORDER BY version').all() as {
      version: number;
    }[];
    const applied = new Set(rows.map((r) => r.version));
    const latest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
    const newest = rows[rows.length - 1]?.version ?? 0;
    if (newest > latest) {
      throw new SluiceError(
        'INVALID_STATE',
        `The SQLite database is at schema version ${newest}, newer than this Sluice supports (${latest})`,
        { context: { version: newest, supported: latest } },
      );
    }
    const insert = db.prepare('INSERT INTO sluice_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    const done: number[] = [];
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      db.exec(m.up);
      insert.run(m.version, m.name, now);
      done.push(m.version);
    }
    return done;
  });
  return run.immediate();
}
