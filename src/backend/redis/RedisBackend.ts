// RedisBackend: the Backend on Redis — one server or a Redis Cluster (ioredis) — and createRedisBackend.
import { type Clock, systemClock } from '../../core/Clock.ts';
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
  checkPartitionCount,
  checkPartitionIndex,
} from '../common/args.ts';
import { fencedError } from '../common/errors.ts';
import { sortNames } from '../common/listing.ts';
import { checkMarkerOffsets, checkRetention } from '../common/retention.ts';
import { appendTimed, checkTopicTtl, usesTime } from '../common/timed.ts';
import { committedMany, readMany } from './batchOps.ts';
import { stampTopicMeta } from './clusterOps.ts';
import { decodeStoredEvent } from './eventCodec.ts';
import { offsetField } from './keys.ts';
import { listRedisGroups } from './listGroups.ts';
import { RedisAssignments, redisCommitMany } from './RedisAssignments.ts';
import { type RedisBackendState, RedisConnection } from './RedisConnection.ts';
import { RedisDelayed } from './RedisDelayed.ts';
import { RedisDlq } from './RedisDlq.ts';
import { RedisLeases } from './RedisLeases.ts';
import { RedisLimits } from './RedisLimits.ts';
import { RedisMembership } from './RedisMembership.ts';
import { RedisRetention } from './RedisRetention.ts';
import { RedisSchedules } from './RedisSchedules.ts';
import { RedisTopicCache } from './RedisTopicCache.ts';
import { parseRedisOptions, type RedisBackendOptions } from './redisBackendOptions.ts';
import { appendPrepared, endOffsetOf, readPartition, runCommit } from './redisLog.ts';

/**
 * A backend on Redis (ioredis), for clusters of processes sharing one Redis server or one
 * Redis Cluster.
 *
 * Layout (all keys under `${prefix}:`, see {@link RedisKeys} and `docs/redis.md`): topics in a
 * HASH; per partition a HASH offset → event plus a dense counter, written only by one Lua script
 * per call together with the per-topic id index (`HASH id → partition:offset`), so offsets stay
 * dense and appends are idempotent by id; consumer offsets in a HASH per group and idempotency
 * keys in a SET per group, committed with the fence check in one script; leases as HASHes with a
 * fencing counter (`INCR`, never reset); dead letters in HASHes indexed by a ZSET; membership in
 * a ZSET by last heartbeat. Every script receives `now` from the injected clock; none reads `TIME`.
 * On a Redis Cluster (`cluster: [...]`) the same keys carry hash tags: a topic's keys share one
 * slot, the control keys (offsets, leases, membership, dead letters) another.
 *
 * `watch()` subscribes a second connection to a channel the append script publishes to — a
 * wake-up hint only. During an outage every call rejects with `BACKEND_UNAVAILABLE` (retryable)
 * within about a second; ioredis reconnects by itself and calls work again afterwards.
 * Durability is the server's: without AOF/RDB persistence a Redis restart loses every topic,
 * offset and lease (and fencing counters start again from 1); a cluster failover loses the
 * writes the promoted replica had not received yet (replication is asynchronous).
 *
 * @example
 * ```ts
 * import { createRedisBackend } from 'sluice/redis';
 *
 * const backend = createRedisBackend({ url: 'redis://127.0.0.1:6379', prefix: 'shop' });
 * await backend.ensureTopic('orders', { partitions: 8 });
 * const [pos] = await backend.append('orders', [{ key: 'customer-1', payload: { total: 42 } }]);
 * const events = await backend.read('orders', pos.partition, 0, 100);
 * await backend.commit('billing', 'orders', pos.partition, pos.offset + 1);
 * await backend.close();
 * ```
 */
export class RedisBackend implements Backend {
  readonly kind = 'redis';
  readonly dlq: RedisDlq;
  readonly leases: RedisLeases;
  readonly membership: RedisMembership;
  readonly retention: RedisRetention;
  readonly limits: RedisLimits;
  readonly delayed: RedisDelayed;
  readonly schedules: RedisSchedules;
  readonly assignments: RedisAssignments;
  /** The key prefix. */
  readonly prefix: string;

  private readonly conn: RedisConnection;
  private readonly clock: Clock;
  /** Partition counts seen; every script re-checks them, so a stale entry is corrected. */
  private readonly topics: RedisTopicCache;

  constructor(options: RedisBackendOptions = {}) {
    const opts = parseRedisOptions(options);
    this.clock = opts.clock ?? systemClock;
    this.prefix = opts.prefix;
    this.conn = new RedisConnection(opts.connection);
    this.topics = new RedisTopicCache(this.conn);
    this.leases = new RedisLeases(this.conn, this.clock);
    this.membership = new RedisMembership(this.conn, this.clock);
    this.limits = new RedisLimits(this.conn);
    this.delayed = new RedisDelayed(this.conn);
    this.schedules = new RedisSchedules(this.conn);
    this.assignments = new RedisAssignments(this.conn, this.clock);
    this.dlq = new RedisDlq(this.conn, this.clock, {
      partitions: (topic) => this.topics.partitions(topic),
      forget: (topic) => this.topics.forget(topic),
      remember: (topic, n) => this.topics.remember(topic, n),
      append: (topic, events) => this.append(topic, events),
    });
    this.retention = new RedisRetention(this.conn, this.clock, (topic) => this.topics.partitions(topic));
  }

  /** `open` until {@link close}. */
  get state(): RedisBackendState {
    return this.conn.state;
  }

  /** The ioredis connection status (`connecting`, `ready`, `reconnecting`, `end`, ...). */
  get connectionStatus(): string {
    return this.conn.status;
  }

  /** Whether this backend runs on a Redis Cluster (`cluster` option) with the cluster key layout. */
  get isCluster(): boolean {
    return this.conn.isCluster;
  }

  ensureTopic(topic: string, options: EnsureTopicOptions): Promise<TopicInfo> {
    return this.conn.run('ensureTopic', async () => {
      checkName('topic', topic);
      const wanted = checkPartitionCount(options?.partitions);
      const retention = options.retention === undefined ? undefined : checkRetention(options.retention);
      const ttl = checkTopicTtl(options.ttl);
      if (ttl !== undefined) await this.delayed.setTopicTtl(topic, ttl);
      const n = Number(await this.conn.script('sluiceEnsureTopic', [this.conn.keys.topics], [topic, wanted]));
      await stampTopicMeta(this.conn, topic, n);
      if (retention !== undefined) await this.retention.setValidated(topic, retention);
      this.topics.remember(topic, n);
      return { topic, partitions: n };
    });
  }

  topicInfo(topic: string): Promise<TopicInfo | undefined> {
    return this.conn.run('topicInfo', async () => {
      const n = await this.topics.fetch(topic);
      return n === undefined ? undefined : { topic, partitions: n };
    });
  }

  append(topic: string, events: readonly AppendInput[], options?: OpOptions): Promise<AppendResult[]> {
    return this.conn.run('append', async () => {
      throwIfAborted(options?.signal, 'append');
      if (usesTime(events)) {
        return appendTimed(this, this.delayed, topic, events, this.clock.now(), (e) =>
          this.append(topic, e, options),
        );
      }
      await this.conn.subscriptionsSettled();
      for (let attempt = 0; ; attempt++) {
        const { partitions, prepared } = await this.topics.prepare(topic, events);
        if (prepared.length === 0) return [];
        const reply = await appendPrepared(this.conn, this.clock, topic, partitions, prepared);
        if (reply.ok) return reply.results;
        await this.topics.onAppendStatus(topic, reply.status, attempt);
      }
    });
  }

  read(
    topic: string,
    partition: number,
    fromOffset: number,
    limit: number,
    options?: OpOptions,
  ): Promise<LogEvent[]> {
    return this.conn.run('read', async () => {
      throwIfAborted(options?.signal, 'read');
      checkNonNegativeInt('fromOffset', fromOffset);
      checkNonNegativeInt('limit', limit);
      await this.topics.checkPartitionOf(topic, partition);
      return readPartition(this.conn, this.topics, this.retention, { topic, partition, fromOffset, limit });
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
      return readMany(this.conn, this.topics, topic, requests, limitPerPartition);
    });
  }

  endOffset(topic: string, partition: number): Promise<number> {
    return this.conn.run('endOffset', async () => {
      await this.topics.checkPartitionOf(topic, partition);
      return endOffsetOf(this.conn, this.topics, topic, partition);
    });
  }

  commit(
    group: string,
    topic: string,
    partition: number,
    offset: number,
    options: CommitOptions = {},
  ): Promise<void> {
    return this.conn.run('commit', async () => {
      throwIfAborted(options.signal, 'commit');
      checkName('group', group);
      checkName('topic', topic);
      checkPartitionIndex(partition);
      checkNonNegativeInt('offset', offset);
      const keys =
        options.idempotencyKeys === undefined ? [] : checkKeys('idempotencyKeys', options.idempotencyKeys);
      const at = checkMarkerOffsets(keys, options.idempotencyOffsets);
      const fence = options.fence;
      const markers =
        at === undefined ? undefined : this.retention.markerArgs(group, topic, partition, keys, at);
      const field = offsetField(topic, partition);
      const ok = await runCommit(this.conn, this.clock, {
        group,
        field,
        offset: String(offset),
        keys,
        fence,
        markers,
      });
      if (!ok && fence !== undefined) throw fencedError(fence, { group, topic, partition });
    });
  }

  commitMany(group: string, topic: string, commits: readonly CommitRequest[]): Promise<CommitOutcome[]> {
    return redisCommitMany(this.conn, this.clock, group, topic, commits);
  }

  listTopics(): Promise<string[]> {
    return this.conn.run('listTopics', async () =>
      sortNames(await this.conn.client.hkeys(this.conn.keys.topics)),
    );
  }

  listGroups(): Promise<GroupTopic[]> {
    return this.conn.run('listGroups', () => listRedisGroups(this.conn));
  }

  committed(group: string, topic: string, partition: number): Promise<number> {
    return this.conn.run('committed', async () => {
      const v = await this.conn.client.hget(this.conn.keys.offsets(group), offsetField(topic, partition));
      return v === null ? 0 : Number(v);
    });
  }

  committedMany(group: string, topic: string, partitions: readonly number[]): Promise<number[]> {
    return this.conn.run('committedMany', () => committedMany(this.conn, group, topic, partitions));
  }

  processed(group: string, keys: readonly string[]): Promise<Set<string>> {
    return this.conn.run('processed', async () => {
      checkKeys('keys', keys);
      const out = new Set<string>();
      const set = this.conn.keys.processed(group);
      for (let i = 0; i < keys.length; i += 1000) {
        const chunk = keys.slice(i, i + 1000);
        const flags = await this.conn.client.smismember(set, ...chunk);
        for (let j = 0; j < chunk.length; j++) if (flags[j] === 1) out.add(chunk[j]!);
      }
      return out;
    });
  }

  markProcessed(group: string, keys: readonly string[]): Promise<void> {
    return this.conn.run('markProcessed', async () => {
      checkName('group', group);
      checkKeys('keys', keys);
      if (keys.length === 0) return;
      await runCommit(this.conn, this.clock, { group, field: '', offset: '', keys, fence: undefined });
    });
  }

  setRetention(topic: string, retention: Retention | null): Promise<void> {
    return this.retention.set(topic, retention);
  }

  trim(topic: string, options?: TrimOptions): Promise<TrimResult> {
    return this.retention.trim(topic, options);
  }

  watch(topic: string, onAppend: (partition: number, events?: readonly LogEvent[]) => void): () => void {
    // The append script publishes small appends' events with the hint: decoded here, they spare
    // a waiting reader its read. Anything undecodable is dropped and the reader reads.
    return this.conn.watch(topic, (partition, fresh) => {
      let events: LogEvent[] | undefined;
      if (fresh !== undefined) {
        try {
          events = fresh.map(([offset, enc]) => decodeStoredEvent(topic, partition, offset, enc));
        } catch {
          events = undefined;
        }
      }
      onAppend(partition, events);
    });
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}

/**
 * Creates a {@link RedisBackend}. The connection opens in the background; calls made before it
 * is ready wait for it (or fail with `BACKEND_UNAVAILABLE` when the server cannot be reached).
 *
 * @example
 * ```ts
 * const backend = createRedisBackend({ url: process.env.REDIS_URL, prefix: 'billing' });
 * const onCluster = createRedisBackend({
 *   cluster: [{ host: '127.0.0.1', port: 7000 }],
 *   prefix: 'billing',
 * });
 * await Promise.all([backend.close(), onCluster.close()]);
 * ```
 */
export function createRedisBackend(options: RedisBackendOptions = {}): RedisBackend {
  return new RedisBackend(options);
}

export type { RedisBackendOptions } from './redisBackendOptions.ts';
