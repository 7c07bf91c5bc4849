// PostgreSQL append inside a transaction: lock partition counters, deduplicate ids, insert events and notify in three round trips.
import { randomUUID } from 'node:crypto';
import type { AppendResult } from '../Backend.ts';
import type { PreparedEvent } from '../common/args.ts';
import { notificationPayloads, type PgConnection, type PgQueryable, type PgTopic } from './PgConnection.ts';
import { sqlState } from './pgErrors.ts';
import { appendNotification, type NewEventRow } from './pgNotifyEvents.ts';

/**
 * Appends a validated batch inside the caller's transaction on `db`, in three round trips:
 * 1. lock the offset counters of the touched partitions (`SELECT ... FOR UPDATE`, in partition
 *    order so concurrent appends cannot deadlock) — offsets are then dense and follow commit order;
 * 2. look up caller ids already in the topic (producer retries are deduplicated);
 * 3. one statement inserts every new event (`unnest` of parameter arrays), moves the counters
 *    and sends the `pg_notify` wake-ups, all in the same transaction.
 *
 * Two concurrent appends carrying the same new id in different partitions both pass step 2; the
 * later one then fails on the `(topic_id, id)` unique constraint: {@link isDuplicateIdRace} tells
 * the caller to roll back and run the whole append again, when step 2 will find the id.
 */
export async function insertEvents(
  conn: PgConnection,
  db: PgQueryable,
  topic: PgTopic,
  prepared: readonly PreparedEvent[],
): Promise<AppendResult[]> {
  const s = conn.s;
  const n = prepared.length;
  const ids: string[] = new Array(n);
  // First index of each id in the batch: later duplicates resolve to the first occurrence.
  const first = new Map<string, number>();
  const callerIds: string[] = [];
  const touched = new Set<number>();
  for (let i = 0; i < n; i++) {
    const e = prepared[i]!;
    const id = e.id ?? randomUUID();
    ids[i] = id;
    if (first.has(id)) continue;
    first.set(id, i);
    if (e.id !== undefined) callerIds.push(id);
    touched.add(e.partition);
  }
  const partitions = [...touched].sort((a, b) => a - b);

  const locked = await db.query<{ partition: number; next_offset: string }>(
    `SELECT partition, next_offset FROM ${s}.partitions
     WHERE topic_id = $1 AND partition = ANY($2::int[])
     ORDER BY partition FOR UPDATE`,
    [topic.topicId, partitions],
  );
  const next = new Map<number, number>();
  for (const r of locked.rows) next.set(r.partition, Number(r.next_offset));

  const existing = new Map<string, AppendResult>();
  if (callerIds.length > 0) {
    const found = await db.query<{ id: string; partition: number; event_offset: string }>(
      // Through the digest index (migration 2): the digest narrows, the id comparison decides.
      `SELECT e.id, e.partition, e.event_offset FROM unnest($2::text[]) AS x(id)
       JOIN ${s}.events AS e ON e.topic_id = $1 AND decode(md5(e.id), 'hex') = decode(md5(x.id), 'hex')
         AND e.id = x.id`,
      [topic.topicId, callerIds],
    );
    for (const r of found.rows) {
      existing.set(r.id, { id: r.id, partition: r.partition, offset: Number(r.event_offset) });
    }
  }

  const results: AppendResult[] = new Array(n);
  const colPartition: number[] = [];
  const colOffset: number[] = [];
  const colId: string[] = [];
  const colKey: (string | null)[] = [];
  const colPayload: string[] = [];
  const colHeaders: (string | null)[] = [];
  const notified = new Set<number>();
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    const firstIndex = first.get(id)!;
    if (firstIndex !== i) {
      results[i] = { ...results[firstIndex]! };
      continue;
    }
    const seen = existing.get(id);
    if (seen !== undefined) {
      results[i] = { ...seen };
      continue;
    }
    const e = prepared[i]!;
    const offset = next.get(e.partition) ?? 0;
    next.set(e.partition, offset + 1);
    notified.add(e.partition);
    results[i] = { id, partition: e.partition, offset };
    colPartition.push(e.partition);
    colOffset.push(offset);
    colId.push(id);
    colKey.push(e.key ?? null);
    colPayload.push(e.payload);
    colHeaders.push(e.headers ?? null);
  }
  if (colId.length === 0) return results;

  const counterPartitions = [...notified].sort((a, b) => a - b);
  const counterNext = counterPartitions.map((p) => next.get(p)!);
  const now = conn.clock.now();
  let payloads: string[] = [];
  if (conn.notifyEnabled) {
    // Small appends carry their events to the watchers; others name the partitions only.
    const rows = colId.map(
      (id, i): NewEventRow => [
        colPartition[i]!,
        colOffset[i]!,
        id,
        colKey[i] ?? null,
        colPayload[i]!,
        colHeaders[i] ?? null,
      ],
    );
    const one = appendNotification(topic.info.topic, counterPartitions, rows, now);
    payloads = one !== undefined ? [one] : notificationPayloads(topic.info.topic, counterPartitions);
  }
  await db.query(
    `WITH inserted AS (
       INSERT INTO ${s}.events (topic_id, partition, event_offset, id, key, payload, headers, ts)
       SELECT $1, u.p, u.o, u.id, u.k, u.pl::json, u.h::json, $8
       FROM unnest($2::int[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(p, o, id, k, pl, h)
     ), counters AS (
       UPDATE ${s}.partitions AS c SET next_offset = n.next
       FROM unnest($9::int[], $10::bigint[]) AS n(p, next)
       WHERE c.topic_id = $1 AND c.partition = n.p
     )
     SELECT pg_notify($11, x) FROM unnest($12::text[]) AS x`,
    [
      topic.topicId,
      colPartition,
      colOffset,
      colId,
      colKey,
      colPayload,
      colHeaders,
      now,
      counterPartitions,
      counterNext,
      conn.channel,
      payloads,
    ],
  );
  return results;
}

/** Whether `e` is the unique violation of two concurrent appends racing on one new id. */
export function isDuplicateIdRace(e: unknown): boolean {
  return sqlState(e) === '23505' && (e as { constraint?: unknown }).constraint === 'events_topic_id_uniq';
}
