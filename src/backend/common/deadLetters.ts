// Dead-letter helpers shared by the backends: filter matching, list order and paging, the replay event and header, row building.
import type { SerializedError } from '../../core/errors.ts';
import { traceReplay } from '../../telemetry/spans.ts';
import type { AppendInput, DeadLetter, DlqFilter } from '../Backend.ts';
import { decodeJson } from './json.ts';
import { compareCodePoints } from './order.ts';

/** Header set on an event re-appended by `dlq.replay`: the id of the dead letter it came from. */
export const DLQ_ID_HEADER = 'sluice-dlq-id';

/** Whether a dead letter matches the `source`/`topic`/`ids` parts of a filter (`limit`/`after` ignored). */
export function matchesDlqFilter(
  entry: { readonly id: string; readonly source: string; readonly topic?: string | undefined },
  filter: DlqFilter,
): boolean {
  if (filter.source !== undefined && entry.source !== filter.source) return false;
  if (filter.topic !== undefined && entry.topic !== filter.topic) return false;
  if (filter.ids !== undefined && !filter.ids.includes(entry.id)) return false;
  return true;
}

/** List order of dead letters: first failure time, then id (code point order). */
export function compareDeadLetters(
  a: Pick<DeadLetter, 'id' | 'firstFailedAt'>,
  b: Pick<DeadLetter, 'id' | 'firstFailedAt'>,
): number {
  return a.firstFailedAt - b.firstFailedAt || compareCodePoints(a.id, b.id);
}

/**
 * Applies `after` and `limit` to entries already filtered and sorted with
 * {@link compareDeadLetters}. `after` is the id of the last entry of the previous page: the page
 * starts right after that entry in list order. When that entry no longer exists (replayed or
 * purged meanwhile) the page starts at the beginning, so no remaining entry is ever skipped.
 */
export function pageDeadLetters<T extends Pick<DeadLetter, 'id' | 'firstFailedAt'>>(
  sorted: readonly T[],
  filter: DlqFilter,
  cursor: Pick<DeadLetter, 'id' | 'firstFailedAt'> | undefined,
): T[] {
  let start = 0;
  if (cursor !== undefined) {
    // Binary search for the first entry strictly after the cursor.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareDeadLetters(sorted[mid]!, cursor) <= 0) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const end = filter.limit === undefined ? sorted.length : Math.min(sorted.length, start + filter.limit);
  return sorted.slice(start, end);
}

/**
 * The event `dlq.replay` appends for a dead letter: same payload and key, a fresh generated id
 * (the original id is already taken in the topic), the {@link DLQ_ID_HEADER} header, and — when
 * the entry has no key — its original partition if the target topic has it.
 */
export function replayEvent(entry: DeadLetter, targetPartitions: number, target?: string): AppendInput {
  // With tracing on: a replay span, child of the dead letter's trace; the event carries its context.
  const trace = traceReplay(entry, target ?? entry.topic);
  const ev: AppendInput = { payload: entry.payload, headers: { ...trace, [DLQ_ID_HEADER]: entry.id } };
  if (entry.key !== undefined) ev.key = entry.key;
  else if (entry.partition !== undefined && entry.partition < targetPartitions)
    ev.partition = entry.partition;
  return ev;
}

/** Rebuilds a {@link DeadLetter} from stored columns, leaving absent optional fields out. */
export function buildDeadLetter(row: {
  id: string;
  source: string;
  topic: string | null | undefined;
  partition: number | null | undefined;
  offset: number | null | undefined;
  key: string | null | undefined;
  payload: string;
  error: string;
  attempts: number;
  deliveryCount: number;
  firstFailedAt: number;
  lastFailedAt: number;
}): DeadLetter {
  const out: {
    -readonly [K in keyof DeadLetter]: DeadLetter[K];
  } = {
    id: row.id,
    source: row.source,
    payload: decodeJson(row.payload),
    error: decodeJson<SerializedError>(row.error),
    attempts: Number(row.attempts),
    deliveryCount: Number(row.deliveryCount),
    firstFailedAt: Number(row.firstFailedAt),
    lastFailedAt: Number(row.lastFailedAt),
  };
  if (row.topic !== null && row.topic !== undefined) out.topic = row.topic;
  if (row.partition !== null && row.partition !== undefined) out.partition = Number(row.partition);
  if (row.offset !== null && row.offset !== undefined) out.offset = Number(row.offset);
  if (row.key !== null && row.key !== undefined) out.key = row.key;
  return out;
}
