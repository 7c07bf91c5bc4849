import type { SerializedError } from '../core/errors.ts';

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

  /** Creates the topic when missing. Returns the topic's partition count (existing count wins). */
  ensureTopic(topic: string, options: { partitions: number }): Promise<TopicInfo>;
  /** Topic metadata, or `undefined` when the topic does not exist. */
  topicInfo(topic: string): Promise<TopicInfo | undefined>;
  /**
   * Appends events. Each event goes to `partition` when given, otherwise to the partition of its
   * `key` (see {@link partitionForKey}), otherwise to partition 0. Returns one result per input,
   * in input order. Appends to one partition keep input order.
   *
   * A batch is all-or-nothing: one invalid event (e.g. an out-of-range partition, `CONFIG_INVALID`)
   * rejects the whole call. Ids are unique per topic: an event whose `id` is already in the topic
   * (or earlier in the same batch) is **not** appended again; its result is the original
   * `{id, partition, offset}`. This makes producer retries idempotent.
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
  /** The committed offset of a group on a partition (0 when none). */
  committed(group: string, topic: string, partition: number): Promise<number>;
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

  /**
   * Optional wake-up notification when events are appended to `topic` (e.g. LISTEN/NOTIFY).
   * Only a hint: readers must still poll with a bounded interval. Returns an unsubscribe function.
   */
  watch?(topic: string, onAppend: (partition: number) => void): () => void;

  /** Releases connections and timers. Idempotent. */
  close(): Promise<void>;
}

/** Options for one backend operation. */
export interface OpOptions {
  /** Aborts the operation (rejects with `ABORTED`). */
  signal?: AbortSignal;
}

/** Topic metadata. */
export interface TopicInfo {
  readonly topic: string;
  readonly partitions: number;
}

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
}

/** Where an appended event landed. */
export interface AppendResult {
  readonly id: string;
  readonly partition: number;
  readonly offset: number;
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
}

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

/** A held lease. */
export interface Lease {
  readonly name: string;
  readonly owner: string;
  /** Strictly increasing per lease name across all acquisitions; never reused. */
  readonly fencingToken: number;
  readonly expiresAt: number;
}

/**
 * Leases with fencing tokens. TTLs are measured against the backend's clock. A lease is held
 * while `now < expiresAt`. A holder's token stays its own until the lease is released or taken
 * by another owner after expiry; it is then never handed out again.
 */
export interface LeaseStore {
  /** Acquires the lease when free or expired (or already held by `owner`, which keeps its token). Returns `null` when held by another owner. */
  acquire(name: string, owner: string, ttlMs: number): Promise<Lease | null>;
  /** Extends a lease still held with the same token (even if it expired meanwhile, as long as nobody took it); `null` when it was lost (expired and taken, or released). */
  renew(lease: Lease, ttlMs: number): Promise<Lease | null>;
  /** Releases the lease if still held with the same token. Returns whether it was released. */
  release(lease: Lease): Promise<boolean>;
  /** The current holder (unexpired) or `undefined`. */
  get(name: string): Promise<Lease | undefined>;
  /** All unexpired leases whose name starts with `prefix`. */
  list(prefix: string): Promise<Lease[]>;
}

/** A cluster member as last seen. */
export interface Member {
  readonly node: string;
  readonly meta: Record<string, unknown>;
  readonly lastHeartbeat: number;
  readonly joinedAt: number;
}

/** Membership by heartbeats. */
export interface MembershipStore {
  /** Records a heartbeat (joining on first call, with meta `{}` when none is given). `meta` replaces the stored meta; omitted, the stored meta is kept. */
  heartbeat(node: string, meta?: Record<string, unknown>): Promise<void>;
  /** Members whose last heartbeat is within `failureTimeoutMs` of now (`now - lastHeartbeat <= failureTimeoutMs`), ordered by node name. */
  members(failureTimeoutMs: number): Promise<Member[]>;
  /** Removes a member (graceful leave); a later heartbeat joins again with a new `joinedAt`. */
  leave(node: string): Promise<void>;
}
