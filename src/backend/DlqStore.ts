// The dead-letter store contract: entries, filters and the DlqStore interface every backend implements.
import type { SerializedError } from '../core/errors.ts';

/** A dead letter: an item that exhausted its attempts or failed unrecoverably. */
export interface DeadLetter<T = unknown> {
  /** Stable id (the event id when it came from a topic). */
  readonly id: string;
  /** Where the item came from (pipeline name or consumer group). */
  readonly source: string;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: number;
  readonly key?: string;
  readonly payload: T;
  /** The last error. */
  readonly error: SerializedError;
  /** Processing attempts of the last delivery. */
  readonly attempts: number;
  /** How many times the item was dead-lettered (incremented when the same id is put again). */
  readonly deliveryCount: number;
  readonly firstFailedAt: number;
  readonly lastFailedAt: number;
}

/** Input of {@link DlqStore.put}. */
export type DeadLetterInput<T = unknown> = Omit<
  DeadLetter<T>,
  'deliveryCount' | 'firstFailedAt' | 'lastFailedAt'
>;

/** Filter for listing, replaying and purging dead letters; the given criteria are combined with AND. */
export interface DlqFilter {
  source?: string;
  topic?: string;
  /** Only these ids (an empty list matches nothing). */
  ids?: readonly string[];
  /** Page size (list only). */
  limit?: number;
  /**
   * Paging cursor (list only): the id of the last entry of the previous page. The page starts
   * right after that entry in list order (first failure, then id); when that entry no longer
   * exists the page starts at the beginning, so no remaining entry is skipped.
   */
  after?: string;
}

/** Dead-letter storage. */
export interface DlqStore {
  /**
   * Stores a new entry (`deliveryCount` 1, first and last failure = now) or, for an existing id,
   * updates error/attempts/`lastFailedAt` and increments `deliveryCount` (other fields are kept).
   */
  put(entry: DeadLetterInput): Promise<DeadLetter>;
  /** Entries matching the filter, oldest first (by first failure, then id). */
  list(filter?: DlqFilter): Promise<DeadLetter[]>;
  /** One entry or `undefined`. */
  get(id: string): Promise<DeadLetter | undefined>;
  /** Number of entries matching the filter. */
  count(filter?: DlqFilter): Promise<number>;
  /**
   * Re-appends matching entries to their topic (or `toTopic`) and removes them from the DLQ,
   * atomically per entry. Entries without a topic (or whose topic does not exist) and no
   * `toTopic` are left in place; a missing `toTopic` rejects with `NOT_FOUND`. The new event has
   * a fresh id, the same payload and key (no key: the original partition when the target has
   * it, else 0) and the header `sluice-dlq-id` = the entry id. Returns the replayed ids.
   */
  replay(filter: DlqFilter, options?: { toTopic?: string }): Promise<string[]>;
  /** Deletes matching entries; returns how many. An empty filter purges everything. */
  purge(filter?: DlqFilter): Promise<number>;
}
