// PostgreSQL reads of many partitions in one statement (readMany, committedMany).
import type { LogEvent, ReadRequest } from '../Backend.ts';
import { checkNonNegativeInt } from '../common/args.ts';
import { checkPartitionList, checkReadRequests } from '../common/batchArgs.ts';
import { topicNotFound } from '../common/errors.ts';
import type { PgConnection } from './PgConnection.ts';
import { type EventRow, toLogEvent } from './pgEventRow.ts';

/** `Backend.readMany`: one statement, an index range scan per requested partition (LATERAL). */
export async function readMany(
  conn: PgConnection,
  topic: string,
  requests: readonly ReadRequest[],
  limitPerPartition: number,
  signal: AbortSignal | undefined,
): Promise<LogEvent[][]> {
  conn.ensureOpen();
  const t = await conn.topic('readMany', topic, signal);
  if (t === undefined) throw topicNotFound(topic);
  checkReadRequests(requests, t.info.partitions);
  checkNonNegativeInt('limitPerPartition', limitPerPartition);
  const out: LogEvent[][] = requests.map(() => []);
  if (requests.length === 0 || limitPerPartition === 0) return out;
  const { rows } = await conn.query<EventRow & { i: string }>(
    'readMany',
    `SELECT r.i, e.event_offset, e.id, e.key, e.payload::text AS payload, e.headers::text AS headers, e.ts
     FROM unnest($2::int[], $3::bigint[]) WITH ORDINALITY AS r(partition, from_offset, i)
     CROSS JOIN LATERAL (
       SELECT event_offset, id, key, payload, headers, ts FROM ${conn.s}.events
       WHERE topic_id = $1 AND partition = r.partition
         AND event_offset >= r.from_offset AND event_offset < r.from_offset + $4
       ORDER BY event_offset LIMIT $4
     ) e
     ORDER BY r.i, e.event_offset`,
    [t.topicId, requests.map((r) => r.partition), requests.map((r) => r.fromOffset), limitPerPartition],
    signal,
  );
  for (const r of rows) {
    const i = Number(r.i) - 1;
    out[i]!.push(toLogEvent(topic, requests[i]!.partition, r));
  }
  return out;
}

/** `Backend.committedMany`: one statement with `= ANY($3)`. */
export async function committedMany(
  conn: PgConnection,
  group: string,
  topic: string,
  partitions: readonly number[],
): Promise<number[]> {
  conn.ensureOpen();
  checkPartitionList(partitions);
  if (partitions.length === 0) return [];
  const { rows } = await conn.query<{ partition: number; committed_offset: string }>(
    'committedMany',
    `SELECT partition, committed_offset FROM ${conn.s}.offsets
     WHERE grp = $1 AND topic = $2 AND partition = ANY($3::int[])`,
    [group, topic, [...partitions]],
  );
  const byPartition = new Map(rows.map((r) => [Number(r.partition), Number(r.committed_offset)]));
  return partitions.map((p) => byPartition.get(p) ?? 0);
}
