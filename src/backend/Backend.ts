// The Backend contract: event log topics, consumer offsets, and the sub-stores every backend implements.
import type { Duration } from '../core/duration.ts';
import type { AssignmentStore } from './AssignmentStore.ts';
import type { DelayedStore } from './DelayedStore.ts';
import type { DlqStore } from './DlqStore.ts';
import type { LeaseStore, MembershipStore } from './LeaseStore.ts';
import type { LimitStore } from './LimitStore.ts';
import type { OpOptions } from './OpOptions.ts';
import type {
  EnsureTopicOptions,
  Retention,
  RetentionStore,
  TrimOptions,
  TrimResult,
} from './RetentionStore.ts';
import type { ScheduleStore } from './ScheduleStore.ts';

export type { AssignmentInput, AssignmentStore, GroupAssignment } from './AssignmentStore.ts';
export type { DelayedEvent, DelayedInput, DelayedStore, TopicCount } from './DelayedStore.ts';
export type { DeadLetter, DeadLetterInput, DlqFilter, DlqStore } from './DlqStore.ts';
export type {
  AcquireManyOptions,
  Lease,
  LeaseHolder,
  LeaseRequest,
  LeaseStore,
  Member,
  MembershipStore,
} from './LeaseStore.ts';
export type { LimitStore, RateDecision, RateSpec, SlotDecision, SlotSpec } from './LimitStore.ts';
export type { OpOptions } from './OpOptions.ts';
export type {
  EnsureTopicOptions,
  PartitionTrim,
  Retention,
  RetentionStore,
  TopicRetentionInfo,
  TrimOptions,
  TrimResult,
} from './RetentionStore.ts';
export type { MissedPolicy, ScheduleRecord, ScheduleSpec, ScheduleStore } from './ScheduleStore.ts';

/**
 * The one storage contract every backend implements (memory, sqlite, postgres, redis).
 * The same conformance suite (`runBackendConformance` in `src/backend/conformance/`) runs against
 * each implementation; `docs/backends.md` describes the semantics in prose.
 *
 * Conventions:
 * - Offsets are per (topic, partition), start at 0 and are dense.
 * - A committed offset is the **next offset to process** (exclusive), as in Kafka: committing
 *   `n` means events `0..n-1` are done. `committed()` returns 0 when nothing was committed.
 * - Commits never move an offset backwards: a lower offset is ignored (not an error).
 * - Time is read from the backend's injected `Clock` in TypeScript and passed as a parameter
 *   to SQL/Lua; it is never read inside the database.
 * - Every method may throw `BACKEND_UNAVAILABLE` (retryable) when the server is unreachable.
 * - Invalid arguments reject with `CONFIG_INVALID` before anything is written; a missing topic
 *   rejects with `NOT_FOUND`; any call after {@link Backend.close} rejects with `CLOSED`.
 * - Names (topics, DLQ ids, lease names, nodes) sort in Unicode code point order (bytewise
 *   UTF-8, like SQL `COLLATE "C"`), never by locale.
 * - Payloads, headers and metadata are stored as JSON: a read returns
 *   `JSON.parse(JSON.stringify(value))`, a fresh copy each time.
 */
export interface Backend {
  /** Backend kind, e.g. `"memory"`, `"sqlite"`, `"postgres"`, `"redis"`. */
  readonly kind: string;

  /**
   * Creates the topic when missing. Returns the topic's partition count (existing count wins).
   * With `retention`, the topic's retention is set to it (created or existing topic; the last
   * call wins); without, an existing topic keeps its retention.
   */
  ensureTopic(topic: string, options: EnsureTopicOptions): Promise<TopicInfo>;
  /** Topic metadata, or `undefined` when the topic does not exist. */
  topicInfo(topic: string): Promise<TopicInfo | undefined>;
  /**
   * Names of every topic, sorted. Optional for third-party backends; the four built-in ones have
   * it (`sluice status` lists every topic with it).
   */
  listTopics?(): Promise<string[]>;
  /**
   * Every (consumer group, topic) pair with a committed offset above 0 on at least one partition,
   * sorted by group then topic. Optional like {@link listTopics}.
   */
  listGroups?(): Promise<GroupTopic[]>;
  /**
   * Appends events. Each event goes to `partition` when given, otherwise to the partition of its
   * `key` (see {@link partitionForKey}), otherwise to partition 0. Returns one result per input,
   * in input order. Appends to one partition keep input order.
   *
   * A batch is all-or-nothing: one invalid event (e.g. an out-of-range partition, `CONFIG_INVALID`)
   * rejects the whole call. Ids are unique per topic: an event whose `id` is already in the topic
   * (or earlier in the same batch) is **not** appended again; its result is the original
   * `{id, partition, offset}`. This makes producer retries idempotent.
   *
   * Events with `delay`/`deliverAt` in the future go to {@link delayed} (result offset `-1`);
   * the batch is validated as a whole first, then the delayed part is stored, then the rest.
   */
  append(topic: string, events: readonly AppendInput[], options?: OpOptions): Promise<AppendResult[]>;
  /** Reads up to `limit` events of one partition starting at `fromOffset` (inclusive), in offset order. */
  read(
    topic: string,
    partition: number,
    fromOffset: number,
    limit: number,
    options?: OpOptions,
  ): Promise<LogEvent[]>;
  /**
   * Reads several partitions of one topic in one backend call (one statement or script): for each
   * request, up to `limitPerPartition` events from its `fromOffset`, exactly as {@link read}
   * would return them. One result per request, in request order (an empty list when the
   * partition has nothing at that offset). An out-of-range partition rejects the whole call with
   * `CONFIG_INVALID`; no requests resolve to `[]`. Lets one consumer poll many idle partitions
   * at the cost of one operation.
   */
  readMany(
    topic: string,
    requests: readonly ReadRequest[],
    limitPerPartition: number,
    options?: OpOptions,
  ): Promise<LogEvent[][]>;
  /** The next offset that will be assigned in the partition (= number of events appended). */
  endOffset(topic: string, partition: number): Promise<number>;

  /**
   * Commits a consumer group's offset (next offset to process) for one partition, atomically
   * with the idempotency markers of the effects done up to it. With `fence`, the commit is
   * refused with `FENCED` unless the named lease is currently held (unexpired, unreleased) with
   * exactly that token; a refused commit records nothing. A lower offset than the committed one
   * leaves the offset unchanged but still records the idempotency keys. The topic is not checked.
   */
  commit(
    group: string,
    topic: string,
    partition: number,
    offset: number,
    options?: CommitOptions,
  ): Promise<void>;
  /**
   * {@link commit} for several partitions of one group and topic in one backend call (one
   * transaction or script): each commit has its own offset and optional fence and is decided on
   * its own — a refused fence refuses only that commit. One outcome per commit, in input order:
   * `'ok'` or `'fenced'`. Partitions must be distinct (`CONFIG_INVALID` otherwise). Lets a runner
   * commit the batches of all its partitions (group commit) at the cost of one operation.
   */
  commitMany(
    group: string,
    topic: string,
    commits: readonly CommitRequest[],
    options?: OpOptions,
  ): Promise<CommitOutcome[]>;
  /** The committed offset of a group on a partition (0 when none). */
  committed(group: string, topic: string, partition: number): Promise<number>;
  /** {@link committed} for several partitions in one backend call: one offset per partition, in input order. */
  committedMany(group: string, topic: string, partitions: readonly number[]): Promise<number[]>;
  /** Which of `keys` were already marked processed for `group` (through {@link commit}'s `idempotencyKeys` or {@link markProcessed}). */
  processed(group: string, keys: readonly string[]): Promise<Set<string>>;
  /** Marks idempotency keys as processed for `group` without moving any offset. */
  markProcessed(group: string, keys: readonly string[]): Promise<void>;

  /** The dead-letter queue. */
  readonly dlq: DlqStore;
  /** Leases with fencing tokens. */
  readonly leases: LeaseStore;
  /** Cluster membership through heartbeats. */
  readonly membership: MembershipStore;
  /** Per-topic retention and trimming (see {@link RetentionStore}). */
  readonly retention: RetentionStore;

  /** Sets (or with `null` clears) the retention of an existing topic; same as `retention.set`. */
  setRetention(topic: string, retention: Retention | null): Promise<void>;
  /** Applies the topic's retention now; same as `retention.trim`. */
  trim(topic: string, options?: TrimOptions): Promise<TrimResult>;
  /**
   * Shared limiter state (rate buckets, parks, leased semaphore slots) for cluster-wide
   * `rateLimit`/`concurrencyLimit`. Every built-in backend provides it; a limiter given a backend
   * without it fails with `CONFIG_INVALID`.
   */
  readonly limits?: LimitStore;
  /**
   * Delayed events waiting for their due time, and the topics' default TTLs. Appends with
   * `delay`/`deliverAt` land here; a scheduler (`createScheduler`) appends them when due.
   */
  readonly delayed?: DelayedStore;
  /** Stored schedules (cron or interval ticks appended by a scheduler). */
  readonly schedules?: ScheduleStore;
  /** Published partition assignments of runner groups, with their generation (see {@link AssignmentStore}). */
  readonly assignments: AssignmentStore;

  /**
   * Optional wake-up notification when events are appended to `topic` (e.g. LISTEN/NOTIFY).
   * Only a hint: readers must still poll with a bounded interval. Returns an unsubscribe function.
   * A backend may pass the appended events of `partition` with the hint (Redis does for small
   * appends): contiguous, in offset order, exactly as `read` returns them; a reader waiting at the
   * first of their offsets may take them instead of reading. Without them, read.
   */
  watch?(topic: string, onAppend: (partition: number, events?: readonly LogEvent[]) => void): () => void;

  /** Releases connections and timers. Idempotent. */
  close(): Promise<void>;
}

/** A consumer group and a topic it has committed offsets on. */
export interface GroupTopic {
  readonly group: string;
  readonly topic: string;
}

/** Topic metadata. */
export interface TopicInfo {
  readonly topic: string;
  readonly partitions: number;
}

/** One partition to read in {@link Backend.readMany}. */
export interface ReadRequest {
  readonly partition: number;
  /** First offset to read (inclusive). */
  readonly fromOffset: number;
}

/** One commit of {@link Backend.commitMany}. */
export interface CommitRequest {
  readonly partition: number;
  /** The next offset to process. */
  readonly offset: number;
  /** Refuse this commit (`'fenced'`) unless this lease is held with this token. */
  readonly fence?: { readonly lease: string; readonly token: number };
}

/** The outcome of one commit of {@link Backend.commitMany}. */
export type CommitOutcome = 'ok' | 'fenced';

/** One event to append. */
export interface AppendInput<T = unknown> {
  /** The payload (JSON-serializable). */
  payload: T;
  /** Partition key; decides the partition when `partition` is not given. */
  key?: string;
  /** Explicit partition. */
  partition?: number;
  /** Caller-chosen id (unique within the topic); generated when absent. */
  id?: string;
  /** String headers. */
  headers?: Record<string, string>;
  /**
   * Deliver after this long (`"10m"` or ms). The event is kept aside in {@link Backend.delayed}
   * and appended to the topic by a scheduler when due. Not together with `deliverAt`.
   */
  delay?: Duration;
  /** Deliver at this time (a `Date` or ms since epoch); a time not after now appends at once. */
  deliverAt?: Date | number;
  /**
   * Time to live, counted from when the event enters the topic (for a delayed event: its due
   * time). Stored as the header `sluice-expires-at`; an event past it when its turn comes is
   * dead-lettered with code `EXPIRED`. Overrides the topic's default `ttl`.
   */
  ttl?: Duration;
  /** Priority (an integer; higher runs first among ready keys), stored as the header `priority`. */
  priority?: number;
}

/** Where an appended event landed. */
export interface AppendResult {
  readonly id: string;
  readonly partition: number;
  /** The event's offset, or `-1` for a delayed event (not in the log yet; see `deliverAt`). */
  readonly offset: number;
  /** For a delayed event: when it is due (ms since epoch). */
  readonly deliverAt?: number;
}

/** An event read from the log. */
export interface LogEvent<T = unknown> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly id: string;
  readonly key?: string;
  readonly payload: T;
  readonly headers?: Record<string, string>;
  /** Append time in ms since epoch (from the backend's clock). */
  readonly timestamp: number;
}

/** Options of {@link Backend.commit}. */
export interface CommitOptions extends OpOptions {
  /** Idempotency keys of the effects completed up to this offset, stored atomically with it. */
  idempotencyKeys?: readonly string[];
  /** Refuse the commit (`FENCED`) unless this lease is held with this token. */
  fence?: { lease: string; token: number };
  /**
   * The log offset (in this commit's topic and partition) each of `idempotencyKeys` belongs to,
   * same order and length. A marker with an offset is removed by {@link RetentionStore.trim}
   * once the group's committed offset has passed it; markers without one are kept.
   */
  idempotencyOffsets?: readonly number[];
}
