// PostgreSQL read of one partition: an offset window of its events and the retention check in one statement.
import type { LogEvent } from '../Backend.ts';
import { checkNonNegativeInt, checkPartition } from '../common/args.ts';
import { topicNotFound } from '../common/errors.ts';
import { offsetTrimmed } from '../common/retention.ts';
import type { PgConnection } from './PgConnection.ts';
import { type EventRow, toLogEvent } from './pgEventRow.ts';

/**
 * `Backend.read` of the PostgreSQL backend: up to `limit` events of a partition from `fromOffset`
 * on. Rejects with `OFFSET_TRIMMED` when `fromOffset` is below the partition's first offset.
 */
export async function pgRead(
  conn: PgConnection,
  topic: string,
  partition: number,
  fromOffset: number,
  limit: number,
  signal: AbortSignal | undefined,
): Promise<LogEvent[]> {
  conn.ensureOpen();
  const t = await conn.topic('read', topic, signal);
  if (t === undefined) throw topicNotFound(topic);
  checkPartition(partition, t.info.partitions);
  checkNonNegativeInt('fromOffset', fromOffset);
  checkNonNegativeInt('limit', limit);
  if (limit === 0) return [];
  // Offsets are dense, so the window is also bounded above: a pure index range scan. The
  // partition row comes along (one row even when no event matches), so the retention check
  // needs no second round trip, also on the empty reads of a consumer at the tail.
  const { rows } = await conn.query<{ first_offset: string } & Partial<EventRow>>(
    'read',
    `SELECT p.first_offset, e.event_offset, e.id, e.key, e.payload, e.headers, e.ts
       FROM ${conn.s}.partitions p
       LEFT JOIN LATERAL (
         SELECT event_offset, id, key, payload::text AS payload, headers::text AS headers, ts
         FROM ${conn.s}.events
         WHERE topic_id = p.topic_id AND partition = p.partition
           AND event_offset >= $3 AND event_offset < $3::bigint + $4
         ORDER BY event_offset LIMIT $4
       ) e ON true
       WHERE p.topic_id = $1 AND p.partition = $2`,
    [t.topicId, partition, fromOffset, limit],
    signal,
  );
  const first = Number(rows[0]?.first_offset ?? 0);
  if (fromOffset < first) throw offsetTrimmed(topic, partition, fromOffset, first);
  const events: LogEvent[] = [];
  for (const r of rows) if (r.event_offset != null) events.push(toLogEvent(topic, partition, r as EventRow));
  return events;
}
