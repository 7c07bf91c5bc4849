// Append notifications that carry small appends' events, so a waiting reader of another process needs no read.
import type { LogEvent } from '../Backend.ts';
import { type EventRow, toLogEvent } from './pgEventRow.ts';

/** A new event as {@link appendNotification} takes it: partition, offset, id, key, payload and headers JSON. */
export type NewEventRow = readonly [number, number, string, string | null, string, string | null];

/** A notification payload must stay under PostgreSQL's 8000-byte limit. */
const PAYLOAD_BUDGET = 7900;

/**
 * The one `pg_notify` payload of an append that carries its new events:
 * `"<partition>,...,~<data>:<topic>"`, where the data part is `~` and the base64 of the rows'
 * JSON. Base64 has neither `,` nor `:`, so a listener that only reads partitions skips that part
 * as a non-number and still finds the topic after the first colon. `undefined` when it would not
 * fit into one payload (then the append sends the partitions only).
 */
export function appendNotification(
  topic: string,
  partitions: readonly number[],
  events: readonly NewEventRow[],
  ts: number,
): string | undefined {
  // A cheap lower bound of the size first: a large batch is not encoded only to be dropped.
  let chars = 0;
  for (const [, , id, key, payload, headers] of events) {
    chars += id.length + payload.length + (key?.length ?? 0) + (headers?.length ?? 0);
    if ((chars * 4) / 3 > PAYLOAD_BUDGET) return undefined;
  }
  const data = `~${Buffer.from(JSON.stringify([ts, events])).toString('base64')}`;
  const one = `${partitions.join(',')},${data}:${topic}`;
  return Buffer.byteLength(one) <= PAYLOAD_BUDGET ? one : undefined;
}

/**
 * The events of a `~` part of a notification, by partition, as `read` returns them; `undefined`
 * when the part is not one (then the listener reads).
 */
export function hintEvents(topic: string, part: string): Map<number, LogEvent[]> | undefined {
  if (!part.startsWith('~')) return undefined;
  try {
    const [ts, rows] = JSON.parse(Buffer.from(part.slice(1), 'base64').toString('utf8')) as [
      number,
      [number, number, string, string | null, string, string | null][],
    ];
    const out = new Map<number, LogEvent[]>();
    for (const [p, off, id, key, payload, headers] of rows) {
      const row: EventRow = { event_offset: String(off), id, key, payload, headers, ts: String(ts) };
      const list = out.get(p) ?? [];
      list.push(toLogEvent(topic, p, row));
      out.set(p, list);
    }
    for (const list of out.values()) list.sort((a, b) => a.offset - b.offset);
    return out;
  } catch {
    return undefined;
  }
}
