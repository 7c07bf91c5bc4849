// How the Redis backend stores an event in its partition hash (one JSON array) and decodes it.
import type { LogEvent } from '../Backend.ts';
import type { PreparedEvent } from '../common/args.ts';

/**
 * How an event is stored in its partition hash: one JSON array
 * `[id, key | null, timestamp, headers | null, payload]`. The payload and headers are already
 * JSON text (from `prepareEvents`), so encoding is string concatenation and every read parses a
 * fresh copy.
 */
export function encodeStoredEvent(id: string, e: PreparedEvent, timestamp: number): string {
  const key = e.key === undefined ? 'null' : JSON.stringify(e.key);
  return `[${JSON.stringify(id)},${key},${timestamp},${e.headers ?? 'null'},${e.payload}]`;
}

/** Decodes a value written by {@link encodeStoredEvent}. */
export function decodeStoredEvent(topic: string, partition: number, offset: number, text: string): LogEvent {
  const [id, key, timestamp, headers, payload] = JSON.parse(text) as [
    string,
    string | null,
    number,
    Record<string, string> | null,
    unknown,
  ];
  const ev: { -readonly [K in keyof LogEvent]: LogEvent[K] } = {
    topic,
    partition,
    offset,
    id,
    payload,
    timestamp,
  };
  if (key !== null) ev.key = key;
  if (headers !== null) ev.headers = headers;
  return ev;
}
