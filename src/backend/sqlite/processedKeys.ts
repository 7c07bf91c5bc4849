// SQLite idempotency markers: inserts into sluice_processed, plain keys or keys with their event positions.
import type { SqliteConnection } from './SqliteConnection.ts';

/** Records `keys` as processed by `group`; must run inside a write transaction. */
export function insertKeys(
  conn: SqliteConnection,
  group: string,
  keys: readonly string[],
  now: number,
): void {
  if (keys.length === 0) return;
  const insert = conn.stmt(
    'INSERT INTO sluice_processed (grp, key, processed_at) VALUES (?, ?, ?) ON CONFLICT (grp, key) DO NOTHING',
  );
  for (const k of keys) insert.run(group, k, now);
}

/**
 * Records `keys` as processed by `group`, each with the position of its event (`offsets[i]` in
 * `topic`/`partition`); must run inside a write transaction.
 */
export function insertMarkers(
  conn: SqliteConnection,
  group: string,
  topic: string,
  partition: number,
  keys: readonly string[],
  offsets: readonly number[],
  now: number,
): void {
  const insert = conn.stmt(
    `INSERT INTO sluice_processed (grp, key, processed_at, topic, partition_index, event_offset)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (grp, key) DO NOTHING`,
  );
  for (let i = 0; i < keys.length; i++) insert.run(group, keys[i], now, topic, partition, offsets[i]);
}
