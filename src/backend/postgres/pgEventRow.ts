// The PostgreSQL `events` row as the reads select it, and its mapping to a LogEvent.
import type { LogEvent } from '../Backend.ts';
import { decodeJson } from '../common/json.ts';

/** An `events` row as selected by the reads. */
export interface EventRow {
  event_offset: string;
  id: string;
  key: string | null;
  payload: string;
  headers: string | null;
  ts: string;
}

/** A stored event row as a {@link LogEvent}. */
export function toLogEvent(topic: string, partition: number, r: EventRow): LogEvent {
  const ev: { -readonly [K in keyof LogEvent]: LogEvent[K] } = {
    topic,
    partition,
    offset: Number(r.event_offset),
    id: r.id,
    payload: decodeJson(r.payload),
    timestamp: Number(r.ts),
  };
  if (r.key !== null) ev.key = r.key;
  if (r.headers !== null) ev.headers = decodeJson<Record<string, string>>(r.headers);
  return ev;
}
