// The retention contract of a backend: per-topic limits, trims that respect lagging groups, and topic listings.
import type { Duration } from '../core/duration.ts';
import type { OpOptions } from './OpOptions.ts';

/** Options of {@link Backend.ensureTopic}. */
export interface EnsureTopicOptions {
  /** Partition count (an existing topic keeps its own). */
  partitions: number;
  /** Retention to set on the topic (see {@link Retention}). */
  retention?: Retention;
  /**
   * Default time to live of the topic's events (see {@link AppendInput.ttl}); set like
   * `retention` (the last call with it wins). Stored through {@link DelayedStore.setTopicTtl}.
   */
  ttl?: Duration;
}

/**
 * How long a topic keeps its events. Events are only ever removed from the front of a
 * partition (the oldest offsets), so offsets stay dense from the first available one.
 * Criteria combine: an event is removed when `maxEvents` or `maxAge` says so, but never at or
 * past the committed offset of a group named in `afterCommittedBy`.
 */
export interface Retention {
  /** Remove events older than this many milliseconds (by append timestamp; an integer >= 1). */
  maxAge?: number;
  /** Keep at most this many newest events per partition (an integer >= 1). */
  maxEvents?: number;
  /** Consumer groups whose unprocessed events are never removed (their committed offset bounds trimming). */
  afterCommittedBy?: readonly string[];
}

/** Options of {@link RetentionStore.trim}. */
export interface TrimOptions extends OpOptions {
  /** The time `maxAge` is measured against (ms since epoch); default: the backend's clock. */
  now?: number;
}

/** What one trim removed from one partition. */
export interface PartitionTrim {
  readonly partition: number;
  /** The first available offset after the trim. */
  readonly firstOffset: number;
  /** Events removed by this trim. */
  readonly removed: number;
}

/** The outcome of {@link RetentionStore.trim}. */
export interface TrimResult {
  readonly topic: string;
  /** One entry per partition, in partition order. */
  readonly partitions: readonly PartitionTrim[];
  /** Idempotency markers removed (those below their group's committed offset). */
  readonly markersRemoved: number;
}

/** A topic as listed by {@link RetentionStore.list}. */
export interface TopicRetentionInfo {
  readonly topic: string;
  readonly partitions: number;
  /** The topic's retention, or `null` when it keeps everything. */
  readonly retention: Retention | null;
  /** Per partition: the first available offset and the end offset. */
  readonly offsets: readonly { readonly partition: number; readonly first: number; readonly end: number }[];
}

/**
 * Retention per topic. Time is passed in (`now`), never read inside SQL or Lua. A read of an
 * offset below a partition's first available offset rejects with `OFFSET_TRIMMED`
 * (context `{topic, partition, requested, firstAvailable}`). An event id stays deduplicated only
 * while the event is stored: after it is trimmed, the same id appends a new event.
 */
export interface RetentionStore {
  /** Sets (or with `null` clears) the retention of an existing topic (`NOT_FOUND` when missing). */
  set(topic: string, retention: Retention | null): Promise<void>;
  /** The retention of a topic (`null` when none); `NOT_FOUND` when the topic is missing. */
  get(topic: string): Promise<Retention | null>;
  /** Every topic in name order, with its retention and offsets. */
  list(): Promise<TopicRetentionInfo[]>;
  /** The first available offset of a partition (0 until something was trimmed). */
  firstOffset(topic: string, partition: number): Promise<number>;
  /**
   * Applies the topic's retention now: removes the events it allows, per partition from the
   * front, and the topic's idempotency markers that lie below their group's committed offset.
   * A topic without retention only loses such markers.
   */
  trim(topic: string, options?: TrimOptions): Promise<TrimResult>;
}
