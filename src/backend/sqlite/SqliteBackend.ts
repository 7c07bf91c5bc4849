import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type Clock, systemClock } from '../../core/Clock.ts';
import { throwIfAborted } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import type {
  AppendInput,
  AppendResult,
  Backend,
  CommitOptions,
  LogEvent,
  OpOptions,
  TopicInfo,
} from '../Backend.ts';
import {
  checkKeys,
  checkName,
  checkNonNegativeInt,
  checkPartition,
  checkPartitionCount,
  checkPartitionIndex,
  type PreparedEvent,
  prepareEvents,
} from '../common/args.ts';
import { fencedError, topicNotFound } from '../common/errors.ts';
import { decodeJson } from '../common/json.ts';
import { SqliteConnection, type TopicRow } from './SqliteConnection.ts';
import { SqliteDlq } from './SqliteDlq.ts';
import { SqliteLeases } from './SqliteLeases.ts';
import { SqliteMembership } from './SqliteMembership.ts';

/** Options of {@link SqliteBackend}. */
export interface SqliteBackendOptions {
  /** Database file (created when missing), or `":memory:"` for a private in-memory database. */
  path: string;
  /** The time source for timestamps, lease expiry and heartbeats. Default `systemClock`. */
  clock?: Clock;
  /** How long a write waits for another process's lock before `BACKEND_UNAVAILABLE`. Default 5000. */
  busyTimeoutMs?: number;
}

const optionsSchema = z.object({
  path: z.string().min(1, 'a non-empty file path'),
  clock: z
    .custom<Clock>(
      (v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function',
      'a Clock (an object with now())',
    )
    .optional(),
  busyTimeoutMs: z.number().int().min(0).optional(),
});

interface EventRow {
  event_offset: number;
  id: string;
  key: string | null;
  payload: string;
  headers: string | null;
  ts: number;
}

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
  /** The database file. */
  readonly path: string;

  private readonly conn: SqliteConnection;
  private readonly clock: Clock;

  constructor(options: SqliteBackendOptions) {
    const opts = validate(optionsSchema, options, 'SqliteBackend');
    this.clock = opts.clock ?? systemClock;
    this.path = opts.path;
    this.conn = new SqliteConnection(opts.path, this.clock, opts.busyTimeoutMs ?? 5000);
    this.leases = new SqliteLeases(this.conn);
    this.membership = new SqliteMembership(this.conn);
    this.dlq = new SqliteDlq(this.conn, (topic, events) => this.appendInTransaction(topic, events));
  }

  ensureTopic(topic: string, options: { partitions: number }): Promise<TopicInfo> {
    return this.conn.run('ensureTopic', () => {
      checkName('topic', topic);
      const partitions = checkPartitionCount(options?.partitions);
      const existing = this.conn.topic(topic);
      if (existing !== undefined) return { ...existing.info };
      this.conn.write(() => {
        const created = this.conn
          .stmt(
            'INSERT INTO sluice_topics (name, partitions, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
          )
          .run(topic, partitions, this.clock.now());
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
    return this.conn.run('append', () => {
      throwIfAborted(options?.signal, 'append');
      const t = this.requireTopic(topic);
      const prepared = prepareEvents(events, t.info.partitions);
      if (prepared.length === 0) return [];
      const { results, touched } = this.conn.write(() => this.insertEvents(t, prepared));
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
      if (limit === 0) return [];
      const rows = this.conn
        .stmt(
          `SELECT event_offset, id, key, payload, headers, ts FROM sluice_events
           WHERE topic_id = ? AND partition_index = ? AND event_offset >= ?
           ORDER BY event_offset LIMIT ?`,
        )
        .all(t.topicId, partition, fromOffset, limit) as EventRow[];
      return rows.map((r) => {
        const ev: { -readonly [K in keyof LogEvent]: LogEvent[K] } = {
          topic,
          partition,
          offset: r.event_offset,
          id: r.id,
          payload: decodeJson(r.payload),
          timestamp: r.ts,
        };
        if (r.key !== null) ev.key = r.key;
        if (r.headers !== null) ev.headers = decodeJson<Record<string, string>>(r.headers);
        return ev;
      });
    });
  }

  endOffset(topic: string, partition: number): Promise<number> {
    return this.conn.run('endOffset', () => {
      const t = this.requireTopic(topic);
      checkPartition(partition, t.info.partitions);
      return this.nextOffset(t.topicId, partition);
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
        this.insertKeys(group, keys, now);
      });
    });
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
      this.conn.write(() => this.insertKeys(group, keys, this.clock.now()));
    });
  }

  watch(topic: string, onAppend: (partition: number) => void): () => void {
    return this.conn.watch(topic, onAppend);
  }

  async close(): Promise<void> {
    this.conn.close();
  }

  /** Appends inside the caller's transaction (DLQ replay); returns the touched partitions. */
  private appendInTransaction(
    topic: string,
    events: readonly AppendInput[],
  ): ReadonlySet<number> | undefined {
    const t = this.conn.topic(topic);
    if (t === undefined) return undefined;
    return this.insertEvents(t, prepareEvents(events, t.info.partitions)).touched;
  }

  /** Inserts a validated batch; must run inside a write transaction. */
  private insertEvents(
    t: TopicRow,
    prepared: readonly PreparedEvent[],
  ): { results: AppendResult[]; touched: Set<number> } {
    const now = this.clock.now();
    const next = new Map<number, number>();
    const results: AppendResult[] = new Array(prepared.length);
    const insert = this.conn.stmt(
      `INSERT INTO sluice_events (topic_id, partition_index, event_offset, id, key, payload, headers, ts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (topic_id, id) DO NOTHING`,
    );
    for (let i = 0; i < prepared.length; i++) {
      const e = prepared[i]!;
      const id = e.id ?? randomUUID();
      let offset = next.get(e.partition);
      if (offset === undefined) offset = this.nextOffset(t.topicId, e.partition);
      const r = insert.run(
        t.topicId,
        e.partition,
        offset,
        id,
        e.key ?? null,
        e.payload,
        e.headers ?? null,
        now,
      );
      if (r.changes === 0) {
        const seen = this.conn
          .stmt('SELECT partition_index, event_offset FROM sluice_events WHERE topic_id = ? AND id = ?')
          .get(t.topicId, id) as { partition_index: number; event_offset: number };
        results[i] = { id, partition: seen.partition_index, offset: seen.event_offset };
        next.set(e.partition, offset);
        continue;
      }
      results[i] = { id, partition: e.partition, offset };
      next.set(e.partition, offset + 1);
    }
    const update = this.conn.stmt(
      'UPDATE sluice_partitions SET next_offset = ? WHERE topic_id = ? AND partition_index = ? AND next_offset < ?',
    );
    const touched = new Set<number>();
    for (const [p, n] of next) {
      if (update.run(n, t.topicId, p, n).changes > 0) touched.add(p);
    }
    return { results, touched };
  }

  private insertKeys(group: string, keys: readonly string[], now: number): void {
    if (keys.length === 0) return;
    const insert = this.conn.stmt(
      'INSERT INTO sluice_processed (grp, key, processed_at) VALUES (?, ?, ?) ON CONFLICT (grp, key) DO NOTHING',
    );
    for (const k of keys) insert.run(group, k, now);
  }

  private nextOffset(topicId: number, partition: number): number {
    const row = this.conn
      .stmt('SELECT next_offset FROM sluice_partitions WHERE topic_id = ? AND partition_index = ?')
      .get(topicId, partition) as { next_offset: number } | undefined;
    return row?.next_offset ?? 0;
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
