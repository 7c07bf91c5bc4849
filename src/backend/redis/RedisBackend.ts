import { randomUUID } from 'node:crypto';
import type { RedisOptions } from 'ioredis';
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
import { decodeStoredEvent, encodeStoredEvent } from './eventCodec.ts';
import { offsetField } from './keys.ts';
import { type RedisBackendState, RedisConnection } from './RedisConnection.ts';
import { RedisDlq } from './RedisDlq.ts';
import { RedisLeases } from './RedisLeases.ts';
import { RedisMembership } from './RedisMembership.ts';
import type { ScriptArg } from './scripts.ts';

/** Options of {@link RedisBackend}. */
export interface RedisBackendOptions {
  /** Connection URL, e.g. `redis://127.0.0.1:6379/0` (`rediss://` for TLS). */
  url?: string;
  /**
   * ioredis options (host, port, password, db, tls, ...), applied over the backend's defaults
   * ({@link DEFAULT_REDIS_OPTIONS}); with `url`, the URL's settings win.
   */
  redis?: RedisOptions;
  /** Prefix of every key (`${prefix}:...`). Default `"sluice"`. Use one prefix per application. */
  prefix?: string;
  /** The time source for timestamps, lease expiry and heartbeats. Default `systemClock`. */
  clock?: Clock;
}

const optionsSchema = z.object({
  url: z.string().min(1, 'a non-empty Redis URL').optional(),
  redis: z.record(z.string(), z.unknown(), 'an object of ioredis options').optional(),
  prefix: z.string().min(1, 'a non-empty string').optional(),
  clock: z
    .custom<Clock>(
      (v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function',
      'a Clock (an object with now())',
    )
    .optional(),
});

/** A topic status reply of the log scripts: `-1` missing, `-2` another partition count. */
type TopicStatus = [-1] | [-2, number];

/** A partition count cache entry must be confirmed by the scripts; this many refreshes at most. */
const MAX_TOPIC_REFRESH = 3;

/**
 * A backend on Redis (ioredis), for clusters of processes sharing one Redis server.
 *
 * Layout (all keys under `${prefix}:`): topics in a HASH; per partition a HASH offset → event
 * plus a dense counter, written only by one Lua script per call together with the per-topic
 * id index (`HASH id → partition:offset`), so offsets stay dense and appends are idempotent by
 * id; consumer offsets in a HASH per group and idempotency keys in a SET per group, committed
 * with the fence check in one script; leases as HASHes with a fencing counter (`INCR`, never
 * reset); dead letters in HASHes indexed by a ZSET; membership in a ZSET by last heartbeat.
 * Every script receives `now` from the injected clock; none reads `TIME`.
 *
 * `watch()` subscribes a second connection to a channel the append script publishes to — a
 * wake-up hint only. During an outage every call rejects with `BACKEND_UNAVAILABLE` (retryable)
 * within about a second; ioredis reconnects by itself and calls work again afterwards.
 * Durability is the server's: without AOF/RDB persistence a Redis restart loses every topic,
 * offset and lease (and fencing counters start again from 1).
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
  /** The key prefix. */
  readonly prefix: string;

  private readonly conn: RedisConnection;
  private readonly clock: Clock;
  /** Partition counts seen; every script re-checks them, so a stale entry is corrected. */
  private readonly partitionCounts = new Map<string, number>();

  constructor(options: RedisBackendOptions = {}) {
    const opts = validate(optionsSchema, options, 'RedisBackend');
    this.clock = opts.clock ?? systemClock;
    this.prefix = opts.prefix ?? 'sluice';
    this.conn = new RedisConnection({
      url: opts.url,
      redis: opts.redis as RedisOptions | undefined,
      prefix: this.prefix,
    });
    this.leases = new RedisLeases(this.conn, this.clock);
    this.membership = new RedisMembership(this.conn, this.clock);
    this.dlq = new RedisDlq(this.conn, this.clock, {
      partitions: (topic) => this.partitions(topic),
      forget: (topic) => this.partitionCounts.delete(topic),
      remember: (topic, n) => this.partitionCounts.set(topic, n),
    });
  }

  /** `open` until {@link close}. */
  get state(): RedisBackendState {
    return this.conn.state;
  }

  /** The ioredis connection status (`connecting`, `ready`, `reconnecting`, `end`, ...). */
  get connectionStatus(): string {
    return this.conn.status;
  }

  ensureTopic(topic: string, options: { partitions: number }): Promise<TopicInfo> {
    return this.conn.run('ensureTopic', async () => {
      checkName('topic', topic);
      const wanted = checkPartitionCount(options?.partitions);
      const n = Number(await this.conn.script('sluiceEnsureTopic', [this.conn.keys.topics], [topic, wanted]));
      this.partitionCounts.set(topic, n);
      return { topic, partitions: n };
    });
  }

  topicInfo(topic: string): Promise<TopicInfo | undefined> {
    return this.conn.run('topicInfo', async () => {
      const n = await this.fetchPartitions(topic);
      return n === undefined ? undefined : { topic, partitions: n };
    });
  }

  append(topic: string, events: readonly AppendInput[], options?: OpOptions): Promise<AppendResult[]> {
    return this.conn.run('append', async () => {
      throwIfAborted(options?.signal, 'append');
      await this.conn.subscriptionsSettled();
      for (let attempt = 0; ; attempt++) {
        const { partitions, prepared } = await this.prepare(topic, events);
        if (prepared.length === 0) return [];
        const reply = await this.appendPrepared(topic, partitions, prepared);
        if (reply.ok) return reply.results;
        this.handleTopicStatus(topic, reply.status, attempt);
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
      await this.checkPartitionOf(topic, partition);
      const k = this.conn.keys;
      const reply = (await this.conn.script(
        'sluiceRead',
        [k.topics, k.next(topic), k.log(topic, partition)],
        [topic, partition, fromOffset, limit],
      )) as unknown[];
      this.checkReply(topic, partition, reply);
      const out: LogEvent[] = new Array(reply.length - 1);
      for (let i = 1; i < reply.length; i++) {
        out[i - 1] = decodeStoredEvent(topic, partition, fromOffset + i - 1, reply[i] as string);
      }
      return out;
    });
  }

  endOffset(topic: string, partition: number): Promise<number> {
    return this.conn.run('endOffset', async () => {
      await this.checkPartitionOf(topic, partition);
      const k = this.conn.keys;
      const reply = (await this.conn.script(
        'sluiceEndOffset',
        [k.topics, k.next(topic)],
        [topic, partition],
      )) as unknown[];
      this.checkReply(topic, partition, reply);
      return Number(reply[1]);
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
      const fence = options.fence;
      const ok = await this.runCommit(group, offsetField(topic, partition), String(offset), keys, fence);
      if (!ok && fence !== undefined) throw fencedError(fence, { group, topic, partition });
    });
  }

  committed(group: string, topic: string, partition: number): Promise<number> {
    return this.conn.run('committed', async () => {
      const v = await this.conn.client.hget(this.conn.keys.offsets(group), offsetField(topic, partition));
      return v === null ? 0 : Number(v);
    });
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
      await this.runCommit(group, '', '', keys, undefined);
    });
  }

  watch(topic: string, onAppend: (partition: number) => void): () => void {
    return this.conn.watch(topic, onAppend);
  }

  async close(): Promise<void> {
    await this.conn.close();
  }

  /** The partition count of a topic (cached; `NOT_FOUND` when missing). */
  private async partitions(topic: string): Promise<number> {
    const known = this.partitionCounts.get(topic);
    if (known !== undefined) return known;
    const n = await this.fetchPartitions(topic);
    if (n === undefined) throw topicNotFound(topic);
    return n;
  }

  /**
   * Validates a batch against the topic's partition count. A cached count that rejects the batch
   * is re-fetched first (the topic may have been recreated with more partitions).
   */
  private async prepare(
    topic: string,
    events: readonly AppendInput[],
  ): Promise<{ partitions: number; prepared: PreparedEvent[] }> {
    const cached = this.partitionCounts.get(topic);
    if (cached !== undefined) {
      try {
        return { partitions: cached, prepared: prepareEvents(events, cached) };
      } catch {
        this.partitionCounts.delete(topic);
      }
    }
    const partitions = await this.partitions(topic);
    return { partitions, prepared: prepareEvents(events, partitions) };
  }

  /** Validates a partition index against the topic (re-fetching a cached count that rejects it). */
  private async checkPartitionOf(topic: string, partition: number): Promise<void> {
    const cached = this.partitionCounts.get(topic);
    if (cached !== undefined && Number.isSafeInteger(partition) && partition >= 0 && partition < cached)
      return;
    const n = await this.fetchPartitions(topic);
    if (n === undefined) throw topicNotFound(topic);
    checkPartition(partition, n);
  }

  private async fetchPartitions(topic: string): Promise<number | undefined> {
    const v = await this.conn.client.hget(this.conn.keys.topics, topic);
    if (v === null) {
      this.partitionCounts.delete(topic);
      return undefined;
    }
    const n = Number(v);
    this.partitionCounts.set(topic, n);
    return n;
  }

  private async appendPrepared(
    topic: string,
    partitions: number,
    prepared: readonly PreparedEvent[],
  ): Promise<{ ok: true; results: AppendResult[] } | { ok: false; status: TopicStatus }> {
    const k = this.conn.keys;
    const now = this.clock.now();
    const keys = [k.topics, k.ids(topic), k.next(topic)];
    const logIndex = new Map<number, number>();
    const args: ScriptArg[] = [topic, partitions, k.channel(topic), prepared.length];
    const ids: string[] = new Array(prepared.length);
    for (let i = 0; i < prepared.length; i++) {
      const e = prepared[i]!;
      const id = e.id ?? randomUUID();
      ids[i] = id;
      let idx = logIndex.get(e.partition);
      if (idx === undefined) {
        keys.push(k.log(topic, e.partition));
        idx = keys.length; // 1-based index in KEYS
        logIndex.set(e.partition, idx);
      }
      args.push(id, e.partition, idx, encodeStoredEvent(id, e, now));
    }
    const reply = (await this.conn.script('sluiceAppend', keys, args)) as unknown[];
    if (reply[0] !== 0) return { ok: false, status: reply as TopicStatus };
    const results: AppendResult[] = new Array(prepared.length);
    for (let i = 0; i < prepared.length; i++) {
      const pos = reply[i + 1] as string;
      const sep = pos.indexOf(':');
      results[i] = { id: ids[i]!, partition: Number(pos.slice(0, sep)), offset: Number(pos.slice(sep + 1)) };
    }
    return { ok: true, results };
  }

  /** Reacts to a topic status reply: forget/refresh the cached count, or give up. */
  private handleTopicStatus(topic: string, status: TopicStatus, attempt: number): void {
    if (status[0] === -1) {
      this.partitionCounts.delete(topic);
      throw topicNotFound(topic);
    }
    this.partitionCounts.set(topic, status[1]);
    if (attempt >= MAX_TOPIC_REFRESH) throw topicNotFound(topic);
  }

  /** Checks the status of a read/endOffset reply; throws NOT_FOUND or CONFIG_INVALID. */
  private checkReply(topic: string, partition: number, reply: unknown[]): void {
    if (reply[0] === -1) {
      this.partitionCounts.delete(topic);
      throw topicNotFound(topic);
    }
    if (reply[0] === -2) {
      const n = Number(reply[1]);
      this.partitionCounts.set(topic, n);
      checkPartition(partition, n);
    }
  }

  private async runCommit(
    group: string,
    field: string,
    offset: string,
    keys: readonly string[],
    fence: { lease: string; token: number } | undefined,
  ): Promise<boolean> {
    const k = this.conn.keys;
    const leaseKey = fence === undefined ? k.offsets(group) : k.lease(String(fence.lease));
    const reply = await this.conn.script(
      'sluiceCommit',
      [k.offsets(group), k.processed(group), leaseKey],
      [
        field,
        offset,
        fence === undefined ? '0' : '1',
        fence === undefined ? '' : String(fence.token),
        this.clock.now(),
        ...keys,
      ],
    );
    return reply === 1;
  }
}

/**
 * Creates a {@link RedisBackend}. The connection opens in the background; calls made before it
 * is ready wait for it (or fail with `BACKEND_UNAVAILABLE` when the server cannot be reached).
 *
 * @example
 * ```ts
 * const backend = createRedisBackend({ url: process.env.REDIS_URL, prefix: 'billing' });
 * ```
 */
export function createRedisBackend(options: RedisBackendOptions = {}): RedisBackend {
  return new RedisBackend(options);
}
