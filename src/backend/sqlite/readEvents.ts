// SQLite read of one partition's events from an offset, mapped to LogEvents.
import type { LogEvent } from '../Backend.ts';
import { decodeJson } from '../common/json.ts';
import type { SqliteConnection } from './SqliteConnection.ts';

/** A `sluice_events` row as selected by {@link readEvents}. */
interface EventRow {
  event_offset: number;
  id: string;
  key: string | null;
  payload: string;
  headers: string | null;
  ts: number;
}

/** Up to `limit` events of a partition from `fromOffset` on, in offset order (arguments already checked). */
export function readEvents(
  conn: SqliteConnection,
  topic: string,
  topicId: number,
  partition: number,
  fromOffset: number,
  limit: number,
): LogEvent[] {
  if (limit === 0) return [];
  const rows = conn
    .stmt(
      `SELECT event_offset, id, key, payload, headers, ts FROM sluice_events
           WHERE topic_id = ? AND partition_index = ? AND event_offset >= ?
           ORDER BY event_offset LIMIT ?`,
    )
    .all(topicId, partition, fromOffset, limit) as EventRow[];
  return rows.map((r) => {
    const ev: { -readonly [K in keyof LogEvent]: LogEvent[K] } = {
      topic,
      partition,
      offset: r.event_offset,
      id: r.id,
      payload: decodeJson(r.payload),
      timestamp: r.ts,
    };
    if (r.key !== null) ev.key = r.key;
    if (r.headers !== null) ev.headers = decodeJson<Record<string, string>>(r.headers);
    return ev;
  });
}
