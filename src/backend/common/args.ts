// Argument checks shared by every backend (CONFIG_INVALID before anything is written), hand-written for hot paths.
import { configError } from '../../core/errors.ts';
import { partitionForKey } from '../../core/hash.ts';
import { appendTraceHeaders, traceDeadLetter } from '../../telemetry/spans.ts';
import { TRACEPARENT_HEADER } from '../../telemetry/traceContext.ts';
import type { AppendInput, DeadLetterInput, DlqFilter } from '../Backend.ts';
import { encodeJson } from './json.ts';

/**
 * Argument checks shared by every backend. They throw `CONFIG_INVALID` naming the field and the
 * value received, before anything is written, so a bad call has no effect on any backend.
 * Hand-written rather than zod because they run on hot paths (every append, read and commit).
 */

/** Largest partition count a topic may have. */
export const MAX_PARTITIONS = 65_536;

/** An event validated and encoded, ready to be stored. */
export interface PreparedEvent {
  /** Caller id, or `undefined` to generate one. */
  readonly id: string | undefined;
  readonly partition: number;
  readonly key: string | undefined;
  /** JSON text of the payload. */
  readonly payload: string;
  /** JSON text of the headers, or `undefined` when there are none. */
  readonly headers: string | undefined;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/** A non-empty string (topic, group, lease or node name). */
export function checkName(field: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) throw configError(field, 'a non-empty string', v);
  return v;
}

/** A partition count: an integer in 1..{@link MAX_PARTITIONS}. */
export function checkPartitionCount(v: unknown): number {
  if (!isInt(v) || v < 1 || v > MAX_PARTITIONS) {
    throw configError('partitions', `an integer between 1 and ${MAX_PARTITIONS}`, v);
  }
  return v;
}

/** A partition index of a topic with `partitions` partitions. */
export function checkPartition(v: unknown, partitions: number, field = 'partition'): number {
  if (!isInt(v) || v < 0 || v >= partitions) {
    throw configError(field, `an integer between 0 and ${partitions - 1}`, v);
  }
  return v;
}

/** A partition index when the partition count is not known (commit, committed). */
export function checkPartitionIndex(v: unknown, field = 'partition'): number {
  if (!isInt(v) || v < 0) throw configError(field, 'an integer >= 0', v);
  return v;
}

/** An offset (or limit): an integer >= 0. */
export function checkNonNegativeInt(field: string, v: unknown): number {
  if (!isInt(v) || v < 0) throw configError(field, 'an integer >= 0', v);
  return v;
}

/** A duration in milliseconds: an integer >= 1 (lease TTLs). */
export function checkTtl(field: string, v: unknown): number {
  if (!isInt(v) || v < 1) throw configError(field, 'an integer number of milliseconds >= 1', v);
  return v;
}

/** A list of non-empty strings (idempotency keys). */
export function checkKeys(field: string, v: unknown): readonly string[] {
  if (!Array.isArray(v)) throw configError(field, 'an array of strings', v);
  for (let i = 0; i < v.length; i++) {
    const k: unknown = v[i];
    if (typeof k !== 'string' || k.length === 0) throw configError(`${field}[${i}]`, 'a non-empty string', k);
  }
  return v as readonly string[];
}

/** Member metadata: a plain object, returned as JSON text. */
export function checkMeta(v: unknown): string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw configError('meta', 'an object', v);
  return encodeJson(v, 'meta');
}

/**
 * Validates a batch of events for a topic with `partitions` partitions and resolves each event's
 * partition: explicit `partition`, else {@link partitionForKey} of `key`, else 0.
 */
export function prepareEvents(events: readonly AppendInput[], partitions: number): PreparedEvent[] {
  if (!Array.isArray(events)) throw configError('events', 'an array', events);
  const out: PreparedEvent[] = new Array(events.length);
  // The producer's trace context (W3C traceparent), when tracing is on and a span is active.
  const trace = appendTraceHeaders();
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const f = `events[${i}]`;
    if (typeof e !== 'object' || e === null) throw configError(f, 'an object', e);
    if (e.id !== undefined && (typeof e.id !== 'string' || e.id.length === 0)) {
      throw configError(`${f}.id`, 'a non-empty string', e.id);
    }
    if (e.key !== undefined && typeof e.key !== 'string') throw configError(`${f}.key`, 'a string', e.key);
    let partition: number;
    if (e.partition !== undefined) partition = checkPartition(e.partition, partitions, `${f}.partition`);
    else if (e.key !== undefined) partition = partitionForKey(e.key, partitions);
    else partition = 0;
    let headers: string | undefined;
    if (e.headers !== undefined) {
      if (typeof e.headers !== 'object' || e.headers === null || Array.isArray(e.headers)) {
        throw configError(`${f}.headers`, 'an object of strings', e.headers);
      }
      for (const [k, hv] of Object.entries(e.headers)) {
        if (typeof hv !== 'string') throw configError(`${f}.headers.${k}`, 'a string', hv);
      }
      headers = JSON.stringify(
        trace === undefined || e.headers[TRACEPARENT_HEADER] !== undefined
          ? e.headers
          : { ...trace, ...e.headers },
      );
    } else if (trace !== undefined) headers = JSON.stringify(trace);
    out[i] = { id: e.id, partition, key: e.key, payload: encodeJson(e.payload, `${f}.payload`), headers };
  }
  return out;
}

/** Validates a DLQ filter. */
export function checkDlqFilter(filter: DlqFilter | undefined): DlqFilter {
  if (filter === undefined) return {};
  if (typeof filter !== 'object' || filter === null) throw configError('filter', 'an object', filter);
  if (filter.source !== undefined && typeof filter.source !== 'string') {
    throw configError('filter.source', 'a string', filter.source);
  }
  if (filter.topic !== undefined && typeof filter.topic !== 'string') {
    throw configError('filter.topic', 'a string', filter.topic);
  }
  if (filter.ids !== undefined) checkKeys('filter.ids', filter.ids);
  if (filter.limit !== undefined && (!isInt(filter.limit) || filter.limit < 1)) {
    throw configError('filter.limit', 'an integer >= 1', filter.limit);
  }
  if (filter.after !== undefined && typeof filter.after !== 'string') {
    throw configError('filter.after', 'a string', filter.after);
  }
  return filter;
}

/** A dead letter validated and encoded, ready to be stored. */
export interface PreparedDeadLetter {
  readonly id: string;
  readonly source: string;
  readonly topic: string | undefined;
  readonly partition: number | undefined;
  readonly offset: number | undefined;
  readonly key: string | undefined;
  /** JSON text of the payload. */
  readonly payload: string;
  /** JSON text of the serialized error. */
  readonly error: string;
  readonly attempts: number;
}

/** Validates and encodes the input of `dlq.put`. */
export function prepareDeadLetter(entry: DeadLetterInput): PreparedDeadLetter {
  if (typeof entry !== 'object' || entry === null) throw configError('entry', 'an object', entry);
  const id = checkName('entry.id', entry.id);
  const source = checkName('entry.source', entry.source);
  if (entry.topic !== undefined && typeof entry.topic !== 'string') {
    throw configError('entry.topic', 'a string', entry.topic);
  }
  if (entry.partition !== undefined) checkPartitionIndex(entry.partition, 'entry.partition');
  if (entry.offset !== undefined) checkNonNegativeInt('entry.offset', entry.offset);
  if (entry.key !== undefined && typeof entry.key !== 'string') {
    throw configError('entry.key', 'a string', entry.key);
  }
  const err: unknown = entry.error;
  if (
    typeof err !== 'object' ||
    err === null ||
    typeof (err as { message?: unknown }).message !== 'string' ||
    typeof (err as { name?: unknown }).name !== 'string'
  ) {
    throw configError('entry.error', 'a serialized error ({ name, message, ... })', err);
  }
  const attempts = checkNonNegativeInt('entry.attempts', entry.attempts);
  const trace = traceDeadLetter(entry);
  return {
    id,
    source,
    topic: entry.topic,
    partition: entry.partition,
    offset: entry.offset,
    key: entry.key,
    payload: encodeJson(entry.payload, 'entry.payload'),
    // The dead letter's trace context rides in the stored error, so a replay continues the trace.
    error: encodeJson(trace === undefined ? err : { ...(err as object), ...trace }, 'entry.error'),
    attempts,
  };
}
