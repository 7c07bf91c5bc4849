// The SQLite backend: a durable single-file log with offsets, idempotency, fencing and its stores, shared by local processes.
import type { Clock } from '../../core/Clock.ts';
import { throwIfAborted } from '../../core/errors.ts';
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
import {
  checkKeys,
  checkName,
  checkNonNegativeInt,
  checkPartition,
  checkPartitionCount,
  checkPartitionIndex,
  prepareEvents,
} from '../common/args.ts';
import { checkPartitionList, checkReadRequests } from '../common/batchArgs.ts';
import { fencedError, topicNotFound } from '../common/errors.ts';
import { sortGroups, sortNames } from '../common/listing.ts';
import { checkMarkerOffsets, checkRetention } from '../common/retention.ts';
import { appendTimed, checkTopicTtl, usesTime } from '../common/timed.ts';
import { appendInTransaction, insertEvents, nextOffset } from './appendEvents.ts';
import { sqliteCommitMany } from './commitMany.ts';
import { insertKeys, insertMarkers } from './processedKeys.ts';
import { readEvents } from './readEvents.ts';
import { SqliteAssignments } from './SqliteAssignments.ts';
import { SqliteConnection, type TopicRow } from './SqliteConnection.ts';
import { SqliteDelayed } from './SqliteDelayed.ts';
import { SqliteDlq } from './SqliteDlq.ts';
import { SqliteLeases } from './SqliteLeases.ts';
import { SqliteLimits } from './SqliteLimits.ts';
import { SqliteMembership } from './SqliteMembership.ts';
import { SqliteRetention } from './SqliteRetention.ts';
import { SqliteSchedules } from './SqliteSchedules.ts';
import { parseSqliteOptions, type SqliteBackendOptions } from './sqliteBackendOptions.ts';

/**
 * An embedded, durable backend on SQLite (better-sqlite3): one file, WAL journal,
 * `synchronous=NORMAL`, schema created by numbered migrations. Several processes may open the
 * same file: every write is one `BEGIN IMMEDIATE` transaction (a batch append, a commit with its
 * idempotency markers and fence check, a lease change), so they serialize without lost updates.
 *
 * Calls are synchronous under the hood (better-sqlite3), wrapped in promises; a write waiting for
 * another process's lock blocks the event loop for up to `busyTimeoutMs`.
 * `watch()` only sees appends made through this instance; readers must still poll.
 *
 * @example
 * ```ts
 * import { createSqliteBackend } from 'sluice/sqlite';
 *
 * const backend = createSqliteBackend({ path: './sluice.db' });
 * await backend.ensureTopic('orders', { partitions: 8 });
 * await backend.append('orders', [{ key: 'customer-1', payload: { total: 42 } }]);
 * await backend.close();
 * ```
 */
export class SqliteBackend implements Backend {
  readonly kind = 'sqlite';
  readonly dlq: SqliteDlq;
  readonly leases: SqliteLeases;
  readonly membership: SqliteMembership;
  readonly retention: SqliteRetention;
  readonly limits: SqliteLimits;
  readonly delayed: SqliteDelayed;
  readonly schedules: SqliteSchedules;
  readonly assignments: SqliteAssignments;
  /** The database file. */
  readonly path: string;

  private readonly conn: SqliteConnection;
  private readonly clock: Clock;

  constructor(options: SqliteBackendOptions) {
    const opts = parseSqliteOptions(options);
    this.clock = opts.clock;
    this.path = opts.path;
    this.conn = new SqliteConnection(opts.path, this.clock, opts.busyTimeoutMs);
    this.leases = new SqliteLeases(this.conn);
    this.membership = new SqliteMembership(this.conn);
    this.retention = new SqliteRetention(this.conn, this.clock);
    this.limits = new SqliteLimits(this.conn);
    this.delayed = new SqliteDelayed(this.conn);
    this.schedules = new SqliteSchedules(this.conn);
    this.assignments = new SqliteAssignments(this.conn);
    this.dlq = new SqliteDlq(this.conn, (topic, events) => appendInTransaction(this.conn, topic, events));
  }

  ensureTopic(topic: string, options: EnsureTopicOptions): Promise<TopicInfo> {
    return this.conn.run('ensureTopic', () => {
      checkName('topic', topic);
      const partitions = checkPartitionCount(options?.partitions);
      const retention = options.retention === undefined ? undefined : checkRetention(options.retention);
      const ttl = checkTopicTtl(options.ttl);
      if (ttl !== undefined) this.delayed.setTopicTtlSync(topic, ttl);
      const existing = this.conn.topic(topic);
      if (existing !== undefined) {
        if (retention !== undefined) this.retention.setSync(topic, retention);
        return { ...existing.info };
      }
      this.conn.write(() => {
        const created = this.conn
          .stmt(
            'INSERT INTO sluice_topics (name, partitions, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
          )
          .run(topic, partitions, this.clock.now());
        if (retention !== undefined) this.retention.setSync(topic, retention);
        if (created.changes === 0) return;
        const insert = this.conn.stmt(
          'INSERT INTO sluice_partitions (topic_id, partition_index, next_offset) VALUES (?, ?, 0)',
        );
        for (let p = 0; p < partitions; p++) insert.run(created.lastInsertRowid, p);
      });
      return { ...this.conn.topic(topic)!.info };
    });
  }

  topicInfo(topic: string): Promise<TopicInfo | undefined> {
    return this.conn.run('topicInfo', () => {
      const t = this.conn.topic(topic);
      return t === undefined ? undefined : { ...t.info };
    });
  }

  append(topic: string, events: readonly AppendInput[], options?: OpOptions): Promise<AppendResult[]> {
    if (usesTime(events)) {
      return appendTimed(this, this.delayed, topic, events, this.clock.now(), (evs) =>
        this.append(topic, evs, options),
      );
    }
    return this.conn.run('append', () => {
      throwIfAborted(options?.signal, 'append');
      const t = this.requireTopic(topic);
      const prepared = prepareEvents(events, t.info.partitions);
      if (prepared.length === 0) return [];
      const { results, touched } = this.conn.write(() => insertEvents(this.conn, t, prepared));
      this.conn.notify(topic, touched);
      return results;
    });
  }

  read(
    topic: string,
    partition: number,
    fromOffset: number,
    limit: number,
    options?: OpOptions,
  ): Promise<LogEvent[]> {
    return this.conn.run('read', () => {
      throwIfAborted(options?.signal, 'read');
      const t = this.requireTopic(topic);
      checkPartition(partition, t.info.partitions);
      checkNonNegativeInt('fromOffset', fromOffset);
      checkNonNegativeInt('limit', limit);
      const events = readEvents(this.conn, topic, t.topicId, partition, fromOffset, limit);
      if (limit > 0 && events[0]?.offset !== fromOffset) this.retention.checkRead(t, partition, fromOffset);
      return events;
    });
  }

  readMany(
    topic: string,
    requests: readonly ReadRequest[],
    limitPerPartition: number,
    options?: OpOptions,
  ): Promise<LogEvent[][]> {
    return this.conn.run('readMany', () => {
      throwIfAborted(options?.signal, 'readMany');
      const t = this.requireTopic(topic);
      checkReadRequests(requests, t.info.partitions);
      checkNonNegativeInt('limitPerPartition', limitPerPartition);
      return requests.map((r) =>
        readEvents(this.conn, topic, t.topicId, r.partition, r.fromOffset, limitPerPartition),
      );
    });
  }

  endOffset(topic: string, partition: number): Promise<number> {
    return this.conn.run('endOffset', () => {
      const t = this.requireTopic(topic);
      checkPartition(partition, t.info.partitions);
      return nextOffset(this.conn, t.topicId, partition);
    });
  }

  commit(
    group: string,
    topic: string,
    partition: number,
    offset: number,
    options: CommitOptions = {},
  ): Promise<void> {
    return this.conn.run('commit', () => {
      throwIfAborted(options.signal, 'commit');
      checkName('group', group);
      checkName('topic', topic);
      checkPartitionIndex(partition);
      checkNonNegativeInt('offset', offset);
      const keys =
        options.idempotencyKeys === undefined ? [] : checkKeys('idempotencyKeys', options.idempotencyKeys);
      const markerOffsets = checkMarkerOffsets(keys, options.idempotencyOffsets);
      const fence = options.fence;
      this.conn.write(() => {
        const now = this.clock.now();
        if (fence !== undefined && !this.leases.holdsSync(fence.lease, fence.token, now)) {
          throw fencedError(fence, { group, topic, partition });
        }
        this.conn
          .stmt(
            `INSERT INTO sluice_offsets (grp, topic, partition_index, committed_offset, updated_at)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (grp, topic, partition_index) DO UPDATE
               SET committed_offset = excluded.committed_offset, updated_at = excluded.updated_at
               WHERE excluded.committed_offset > sluice_offsets.committed_offset`,
          )
          .run(group, topic, partition, offset, now);
        if (markerOffsets === undefined) insertKeys(this.conn, group, keys, now);
        else insertMarkers(this.conn, group, topic, partition, keys, markerOffsets, now);
      });
    });
  }

  commitMany(group: string, topic: string, commits: readonly CommitRequest[]): Promise<CommitOutcome[]> {
    return sqliteCommitMany(this.conn, this.leases, group, topic, commits);
  }

  listTopics(): Promise<string[]> {
    return this.conn.run('listTopics', () =>
      sortNames(
        (this.conn.db.prepare('SELECT name FROM sluice_topics').all() as { name: string }[]).map(
          (r) => r.name,
        ),
      ),
    );
  }

  listGroups(): Promise<GroupTopic[]> {
    return this.conn.run('listGroups', () =>
      sortGroups(
        (
          this.conn.db
            .prepare('SELECT DISTINCT grp, topic FROM sluice_offsets WHERE committed_offset > 0')
            .all() as {
            grp: string;
            topic: string;
          }[]
        ).map((r) => ({ group: r.grp, topic: r.topic })),
      ),
    );
  }

  committed(group: string, topic: string, partition: number): Promise<number> {
    return this.conn.run('committed', () => {
      const row = this.conn
        .stmt(
          'SELECT committed_offset FROM sluice_offsets WHERE grp = ? AND topic = ? AND partition_index = ?',
        )
        .get(group, topic, partition) as { committed_offset: number } | undefined;
      return row?.committed_offset ?? 0;
    });
  }

  committedMany(group: string, topic: string, partitions: readonly number[]): Promise<number[]> {
    return this.conn.run('committedMany', () => {
      checkPartitionList(partitions);
      const stmt = this.conn.stmt(
        'SELECT committed_offset FROM sluice_offsets WHERE grp = ? AND topic = ? AND partition_index = ?',
      );
      return partitions.map(
        (p) => (stmt.get(group, topic, p) as { committed_offset: number } | undefined)?.committed_offset ?? 0,
      );
    });
  }

  processed(group: string, keys: readonly string[]): Promise<Set<string>> {
    return this.conn.run('processed', () => {
      checkKeys('keys', keys);
      if (keys.length === 0) return new Set<string>();
      const rows = this.conn
        .stmt('SELECT key FROM sluice_processed WHERE grp = ? AND key IN (SELECT value FROM json_each(?))')
        .all(group, JSON.stringify(keys)) as { key: string }[];
      return new Set(rows.map((r) => r.key));
    });
  }

  markProcessed(group: string, keys: readonly string[]): Promise<void> {
    return this.conn.run('markProcessed', () => {
      checkName('group', group);
      checkKeys('keys', keys);
      if (keys.length === 0) return;
      this.conn.write(() => insertKeys(this.conn, group, keys, this.clock.now()));
    });
  }

  setRetention(topic: string, retention: Retention | null): Promise<void> {
    return this.retention.set(topic, retention);
  }

  trim(topic: string, options?: TrimOptions): Promise<TrimResult> {
    return this.retention.trim(topic, options);
  }

  watch(topic: string, onAppend: (partition: number) => void): () => void {
    return this.conn.watch(topic, onAppend);
  }

  async close(): Promise<void> {
    this.conn.close();
  }

  private requireTopic(topic: string): TopicRow {
    const t = this.conn.topic(topic);
    if (t === undefined) throw topicNotFound(topic);
    return t;
  }
}

/**
 * Creates a {@link SqliteBackend} (opening the file and migrating its schema).
 *
 * @example
 * ```ts
 * const backend = createSqliteBackend({ path: 'data/sluice.db', clock: new ManualClock() });
 * ```
 */
export function createSqliteBackend(options: SqliteBackendOptions): SqliteBackend {
  return new SqliteBackend(options);
}

export type { SqliteBackendOptions } from './sqliteBackendOptions.ts';
