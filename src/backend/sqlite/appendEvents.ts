// SQLite append inside a write transaction: offsets from the partition counters, id deduplication, counter updates.
import { randomUUID } from 'node:crypto';
import type { AppendInput, AppendResult } from '../Backend.ts';
import { type PreparedEvent, prepareEvents } from '../common/args.ts';
import type { SqliteConnection, TopicRow } from './SqliteConnection.ts';

/**
 * Appends inside the caller's transaction (DLQ replay); returns the touched partitions, or
 * `undefined` when the topic does not exist.
 */
export function appendInTransaction(
  conn: SqliteConnection,
  topic: string,
  events: readonly AppendInput[],
): ReadonlySet<number> | undefined {
  const t = conn.topic(topic);
  if (t === undefined) return undefined;
  return insertEvents(conn, t, prepareEvents(events, t.info.partitions)).touched;
}

/**
 * Inserts a validated batch; must run inside a write transaction. An id already in the topic is
 * not inserted again: its result is the stored event's position.
 */
export function insertEvents(
  conn: SqliteConnection,
  t: TopicRow,
  prepared: readonly PreparedEvent[],
): { results: AppendResult[]; touched: Set<number> } {
  const now = conn.clock.now();
  const next = new Map<number, number>();
  const results: AppendResult[] = new Array(prepared.length);
  const insert = conn.stmt(
    `INSERT INTO sluice_events (topic_id, partition_index, event_offset, id, key, payload, headers, ts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (topic_id, id) DO NOTHING`,
  );
  for (let i = 0; i < prepared.length; i++) {
    const e = prepared[i]!;
    const id = e.id ?? randomUUID();
    let offset = next.get(e.partition);
    if (offset === undefined) offset = nextOffset(conn, t.topicId, e.partition);
    const r = insert.run(
      t.topicId,
      e.partition,
      offset,
      id,
      e.key ?? null,
      e.payload,
      e.headers ?? null,
      now,
    );
    if (r.changes === 0) {
      const seen = conn
        .stmt('SELECT partition_index, event_offset FROM sluice_events WHERE topic_id = ? AND id = ?')
        .get(t.topicId, id) as { partition_index: number; event_offset: number };
      results[i] = { id, partition: seen.partition_index, offset: seen.event_offset };
      next.set(e.partition, offset);
      continue;
    }
    results[i] = { id, partition: e.partition, offset };
    next.set(e.partition, offset + 1);
  }
  const update = conn.stmt(
    'UPDATE sluice_partitions SET next_offset = ? WHERE topic_id = ? AND partition_index = ? AND next_offset < ?',
  );
  const touched = new Set<number>();
  for (const [p, n] of next) {
    if (update.run(n, t.topicId, p, n).changes > 0) touched.add(p);
  }
  return { results, touched };
}

/** The next offset of a partition (its end offset); 0 for a partition without a counter row. */
export function nextOffset(conn: SqliteConnection, topicId: number, partition: number): number {
  const row = conn
    .stmt('SELECT next_offset FROM sluice_partitions WHERE topic_id = ? AND partition_index = ?')
    .get(topicId, partition) as { next_offset: number } | undefined;
  return row?.next_offset ?? 0;
}
