// The PostgreSQL backend: durable log, offsets, idempotency, fencing and the stores built on one pool and schema.
import type {
  AppendInput,
  AppendResult,
  Backend,
  CommitOptions,
  CommitOutcome,
  CommitRequest,
  EnsureTopicOptions,
  GroupTopic,
  LogEvent,
  OpOptions,
  ReadRequest,
  Retention,
  TopicInfo,
  TrimOptions,
  TrimResult,
} from '../Backend.ts';
import { checkKeys, checkName, checkPartition, checkPartitionCount, prepareEvents } from '../common/args.ts';
import { topicNotFound } from '../common/errors.ts';
import { sortGroups, sortNames } from '../common/listing.ts';
import { checkRetention } from '../common/retention.ts';
import { appendTimed, checkTopicTtl, usesTime } from '../common/timed.ts';
import { insertEvents, isDuplicateIdRace } from './appendEvents.ts';
import { committedMany, readMany } from './batchReads.ts';
import { pgCommitMany } from './commitMany.ts';
import { pgCommit } from './commitOffset.ts';
import { type PostgresBackendOptions, resolveOptions } from './options.ts';
import { PgConnection, type PgTopic } from './PgConnection.ts';
import type { PgListenerState } from './PgListener.ts';
import { PostgresAssignments } from './PostgresAssignments.ts';
import { PostgresDelayed } from './PostgresDelayed.ts';
import { PostgresDlq } from './PostgresDlq.ts';
import { PostgresLeases } from './PostgresLeases.ts';
import { PostgresLimits } from './PostgresLimits.ts';
import { PostgresMembership } from './PostgresMembership.ts';
import { PostgresRetention } from './PostgresRetention.ts';
import { PostgresSchedules } from './PostgresSchedules.ts';
import { pgRead } from './readPartition.ts';

/** Lifecycle of a {@link PostgresBackend}. */
export type PostgresBackendState = 'open' | 'closed';

/** How often an append is run again after losing a race on a new id to another process. */
const ID_RACE_RETRIES = 5;

/**
 * The PostgreSQL backend: a durable log, consumer offsets, dead letters, leases and membership
 * shared by every process and host that connects to the same database and schema.
 *
 * - The schema is created and migrated on first use by numbered migrations, under an advisory
 *   lock, so any number of processes may start at once.
 * - Time is always the backend's clock, passed to SQL as a parameter; the server's clock is
 *   never read, so tests drive expiry with `ManualClock` and hosts agree on one rule.
 * - An append is one transaction: it locks the offset counters of the partitions it touches,
 *   so offsets are dense and a reader never sees a later offset before an earlier one.
 * - A commit is one statement (so one transaction) that checks the fencing lease, moves the
 *   offset monotonically and records the idempotency keys.
 * - `watch()` rides on `LISTEN/NOTIFY` through one extra connection that reconnects by itself;
 *   it is a wake-up hint only, readers still poll.
 * - When the server is unreachable, operations reject with `BACKEND_UNAVAILABLE` (retryable)
 *   within the connection/query timeouts; the pool recovers by itself when the server is back.
 *
 * @example
 * ```ts
 * import { createPostgresBackend } from 'sluice/postgres';
 *
 * const backend = await createPostgresBackend({ connectionString: 'postgres://postgres@127.0.0.1:5432/app' });
 * await backend.ensureTopic('orders', { partitions: 8 });
 * const [pos] = await backend.append('orders', [{ key: 'customer-1', payload: { total: 42 } }]);
 * const stop = backend.watch('orders', (partition) => console.log('new events in', partition));
 * await backend.commit('billing', 'orders', pos.partition, pos.offset + 1);
 * stop();
 * await backend.close();
 * ```
 */
export class PostgresBackend implements Backend {
  readonly kind = 'postgres';
  readonly dlq: PostgresDlq;
  readonly leases: PostgresLeases;
  readonly membership: PostgresMembership;
  readonly retention: PostgresRetention;
  readonly limits: PostgresLimits;
  readonly delayed: PostgresDelayed;
  readonly schedules: PostgresSchedules;
  readonly assignments: PostgresAssignments;
  /** The schema holding this backend's tables. */
  readonly schema: string;

  private readonly conn: PgConnection;

  constructor(options: PostgresBackendOptions = {}) {
    this.conn = new PgConnection(resolveOptions(options));
    this.schema = this.conn.schema;
    this.leases = new PostgresLeases(this.conn);
    this.membership = new PostgresMembership(this.conn);
    this.limits = new PostgresLimits(this.conn);
    this.delayed = new PostgresDelayed(this.conn);
    this.schedules = new PostgresSchedules(this.conn);
    this.assignments = new PostgresAssignments(this.conn);
    this.dlq = new PostgresDlq(this.conn);
    this.retention = new PostgresRetention(this.conn);
  }

  /** `open` until {@link close}. */
  get state(): PostgresBackendState {
    return this.conn.isClosed ? 'closed' : 'open';
  }

  /** State of the `LISTEN` connection (`idle` until the first `watch()`). */
  get listenerState(): PgListenerState {
    return this.conn.listener?.state ?? 'idle';
  }

  /**
   * How many times the `LISTEN` connection was established: 1 after the first `watch()`, plus one
   * per reconnection (after a server restart, for instance). Notifications sent between losing
   * the connection and re-establishing it are not delivered.
   */
  get listenerConnects(): number {
    return this.conn.listener?.connects ?? 0;
  }

  /** Migration versions this instance applied when it started (empty when another process already had). */
  get appliedMigrations(): readonly number[] {
    return this.conn.applied;
  }

  /**
   * Connects and brings the schema up to date (once; other calls wait for it). Every operation
   * does this on first use; call it to fail fast at startup. Rejects with `BACKEND_UNAVAILABLE`
   * when the server cannot be reached (a later call tries again).
   */
  async ready(): Promise<void> {
    await this.conn.query('ready', 'SELECT 1', []);
  }

  async ensureTopic(topic: string, options: EnsureTopicOptions): Promise<TopicInfo> {
    this.conn.ensureOpen();
    checkName('topic', topic);
    const partitions = checkPartitionCount(options?.partitions);
    const retention = options.retention === undefined ? undefined : checkRetention(options.retention);
    const ttl = checkTopicTtl(options.ttl);
    if (ttl !== undefined) await this.delayed.setTopicTtl(topic, ttl);
    const known = this.conn.cachedTopic(topic);
    if (known !== undefined) {
      if (retention !== undefined) await this.retention.setValidated(topic, retention);
      return { ...known.info };
    }
    const s = this.conn.s;
    // One statement: the topic and its partition counters appear together or not at all. A
    // concurrent creator with another count waits on the unique name, then inserts nothing.
    await this.conn.query(
      'ensureTopic',
      `WITH t AS (
         INSERT INTO ${s}.topics (name, partitions, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING
         RETURNING topic_id, partitions
       )
       INSERT INTO ${s}.partitions (topic_id, partition, next_offset)
       SELECT t.topic_id, g, 0 FROM t, generate_series(0, t.partitions - 1) AS g`,
      [topic, partitions, this.conn.clock.now()],
      undefined,
      false,
    );
    const t = await this.requireTopic('ensureTopic', topic);
    if (retention !== undefined) await this.retention.setValidated(topic, retention);
    return { ...t.info };
  }

  async topicInfo(topic: string): Promise<TopicInfo | undefined> {
    this.conn.ensureOpen();
    const t = await this.conn.topic('topicInfo', topic);
    return t === undefined ? undefined : { ...t.info };
  }

  async append(topic: string, events: readonly AppendInput[], options?: OpOptions): Promise<AppendResult[]> {
    this.conn.ensureOpen();
    if (usesTime(events)) {
      return appendTimed(this, this.delayed, topic, events, this.conn.clock.now(), (e) =>
        this.append(topic, e, options),
      );
    }
    const signal = options?.signal;
    const t = await this.requireTopic('append', topic, signal);
    const prepared = prepareEvents(events, t.info.partitions);
    if (prepared.length === 0) return [];
    await this.conn.listenerSettled();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.conn.tx('append', signal, (db) => insertEvents(this.conn, db, t, prepared));
      } catch (e) {
        if (attempt < ID_RACE_RETRIES && isDuplicateIdRace(e)) continue;
        throw e;
      }
    }
  }

  read(
    topic: string,
    partition: number,
    fromOffset: number,
    limit: number,
    options?: OpOptions,
  ): Promise<LogEvent[]> {
    return pgRead(this.conn, topic, partition, fromOffset, limit, options?.signal);
  }

  readMany(
    topic: string,
    requests: readonly ReadRequest[],
    limitPerPartition: number,
    options?: OpOptions,
  ): Promise<LogEvent[][]> {
    return readMany(this.conn, topic, requests, limitPerPartition, options?.signal);
  }

  async endOffset(topic: string, partition: number): Promise<number> {
    this.conn.ensureOpen();
    const t = await this.requireTopic('endOffset', topic);
    checkPartition(partition, t.info.partitions);
    const { rows } = await this.conn.query<{ next_offset: string }>(
      'endOffset',
      `SELECT next_offset FROM ${this.conn.s}.partitions WHERE topic_id = $1 AND partition = $2`,
      [t.topicId, partition],
    );
    return Number(rows[0]?.next_offset ?? 0);
  }

  commit(
    group: string,
    topic: string,
    partition: number,
    offset: number,
    options: CommitOptions = {},
  ): Promise<void> {
    return pgCommit(this.conn, group, topic, partition, offset, options);
  }

  commitMany(
    group: string,
    topic: string,
    commits: readonly CommitRequest[],
    options?: OpOptions,
  ): Promise<CommitOutcome[]> {
    return pgCommitMany(this.conn, group, topic, commits, options);
  }

  async listTopics(): Promise<string[]> {
    this.conn.ensureOpen();
    const { rows } = await this.conn.query<{ name: string }>(
      'listTopics',
      `SELECT name FROM ${this.conn.s}.topics`,
      [],
    );
    return sortNames(rows.map((r) => r.name));
  }

  async listGroups(): Promise<GroupTopic[]> {
    this.conn.ensureOpen();
    const { rows } = await this.conn.query<{ grp: string; topic: string }>(
      'listGroups',
      `SELECT DISTINCT grp, topic FROM ${this.conn.s}.offsets WHERE committed_offset > 0`,
      [],
    );
    return sortGroups(rows.map((r) => ({ group: r.grp, topic: r.topic })));
  }

  async committed(group: string, topic: string, partition: number): Promise<number> {
    this.conn.ensureOpen();
    const { rows } = await this.conn.query<{ committed_offset: string }>(
      'committed',
      `SELECT committed_offset FROM ${this.conn.s}.offsets WHERE grp = $1 AND topic = $2 AND partition = $3`,
      [group, topic, partition],
    );
    return Number(rows[0]?.committed_offset ?? 0);
  }

  committedMany(group: string, topic: string, partitions: readonly number[]): Promise<number[]> {
    return committedMany(this.conn, group, topic, partitions);
  }

  async processed(group: string, keys: readonly string[]): Promise<Set<string>> {
    this.conn.ensureOpen();
    checkKeys('keys', keys);
    if (keys.length === 0) return new Set();
    const { rows } = await this.conn.query<{ key: string }>(
      'processed',
      `SELECT key FROM ${this.conn.s}.processed WHERE grp = $1 AND key = ANY($2::text[])`,
      [group, [...keys]],
    );
    return new Set(rows.map((r) => r.key));
  }

  async markProcessed(group: string, keys: readonly string[]): Promise<void> {
    this.conn.ensureOpen();
    checkName('group', group);
    checkKeys('keys', keys);
    if (keys.length === 0) return;
    await this.conn.query(
      'markProcessed',
      `INSERT INTO ${this.conn.s}.processed (grp, key, processed_at)
       SELECT $1, k, $3 FROM unnest($2::text[]) AS k
       ON CONFLICT (grp, key) DO NOTHING`,
      [group, [...keys], this.conn.clock.now()],
      undefined,
      false,
    );
  }

  setRetention(topic: string, retention: Retention | null): Promise<void> {
    return this.retention.set(topic, retention);
  }

  trim(topic: string, options?: TrimOptions): Promise<TrimResult> {
    return this.retention.trim(topic, options);
  }

  /**
   * Calls `onAppend(partition)` when events are appended to `topic` by any process using this
   * schema (with `notify` on), with the appended events when they fit into the notification
   * (about 5 KB of them). Only a hint: notifications sent while the `LISTEN` connection is down
   * are lost, so readers must still poll with a bounded interval.
   */
  watch(topic: string, onAppend: (partition: number, events?: readonly LogEvent[]) => void): () => void {
    return this.conn.watch(topic, onAppend);
  }

  /** Closes the `LISTEN` connection and the pool, after in-flight operations finish. Idempotent. */
  close(): Promise<void> {
    return this.conn.close();
  }

  private async requireTopic(what: string, topic: string, signal?: AbortSignal): Promise<PgTopic> {
    const t = await this.conn.topic(what, topic, signal);
    if (t === undefined) throw topicNotFound(topic);
    return t;
  }
}

/**
 * Creates a {@link PostgresBackend}, connects and migrates its schema. Rejects with
 * `CONFIG_INVALID` for bad options and `BACKEND_UNAVAILABLE` when the server cannot be reached.
 *
 * @example
 * ```ts
 * const backend = await createPostgresBackend({
 *   connectionString: process.env.DATABASE_URL,
 *   schema: 'sluice',
 *   pool: { max: 20 },
 * });
 * ```
 */
export async function createPostgresBackend(options: PostgresBackendOptions = {}): Promise<PostgresBackend> {
  const backend = new PostgresBackend(options);
  try {
    await backend.ready();
  } catch (e) {
    await backend.close();
    throw e;
  }
  return backend;
}
