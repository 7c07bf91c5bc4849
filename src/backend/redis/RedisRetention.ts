// RedisRetention: per-topic retention and trimming of the Redis backend (the memory it frees stays freed).
import type { Clock } from '../../core/Clock.ts';
import { throwIfAborted } from '../../core/errors.ts';
import type {
  PartitionTrim,
  Retention,
  RetentionStore,
  TopicRetentionInfo,
  TrimOptions,
  TrimResult,
} from '../Backend.ts';
import { checkName, checkPartition } from '../common/args.ts';
import { topicNotFound } from '../common/errors.ts';
import { compareCodePoints } from '../common/order.ts';
import {
  ageCutoff,
  checkRetention,
  decodeRetention,
  encodeRetention,
  offsetTrimmed,
} from '../common/retention.ts';
import { offsetField, type RedisKeys } from './keys.ts';
import type { RedisConnection } from './RedisConnection.ts';
import type { ScriptArg } from './scripts.ts';

/** Events removed per script call: bounds how long one call blocks the server. */
const TRIM_CHUNK = 5000;

/**
 * {@link RetentionStore} of the Redis backend. A trim removes a partition's oldest events from
 * its log hash and from the id index in chunks of {@link TRIM_CHUNK} events per Lua call (each
 * call atomic, moving the first offset with the events it removes); markers live in a ZSET by
 * offset beside the group's SET, so passed ones go with `ZRANGEBYSCORE`.
 */
export class RedisRetention implements RetentionStore {
  constructor(
    private readonly conn: RedisConnection,
    private readonly clock: Clock,
    private readonly partitions: (topic: string) => Promise<number>,
  ) {}

  private get keys(): RedisKeys {
    return this.conn.keys;
  }

  set(topic: string, retention: Retention | null): Promise<void> {
    return this.conn.run('setRetention', async () => {
      const r = checkRetention(retention);
      await this.require(topic);
      await this.setValidated(topic, r);
    });
  }

  /** Stores an already validated retention. */
  async setValidated(topic: string, retention: Retention | null): Promise<void> {
    const text = encodeRetention(retention);
    if (text === null) await this.conn.client.hdel(this.keys.retention, topic);
    else await this.conn.client.hset(this.keys.retention, topic, text);
  }

  get(topic: string): Promise<Retention | null> {
    return this.conn.run('getRetention', async () => {
      await this.require(topic);
      return decodeRetention(await this.conn.client.hget(this.keys.retention, topic));
    });
  }

  list(): Promise<TopicRetentionInfo[]> {
    return this.conn.run('listTopics', async () => {
      const c = this.conn.client;
      const topics = await c.hgetall(this.conn.keys.topics);
      const retention = await c.hgetall(this.keys.retention);
      const names = Object.keys(topics).sort(compareCodePoints);
      const out: TopicRetentionInfo[] = [];
      for (const name of names) {
        const n = Number(topics[name]);
        const next = await c.hgetall(this.keys.next(name));
        const first = await c.hgetall(this.keys.first(name));
        out.push({
          topic: name,
          partitions: n,
          retention: decodeRetention(retention[name]),
          offsets: Array.from({ length: n }, (_, p) => ({
            partition: p,
            first: Number(first[p] ?? 0),
            end: Number(next[p] ?? 0),
          })),
        });
      }
      return out;
    });
  }

  firstOffset(topic: string, partition: number): Promise<number> {
    return this.conn.run('firstOffset', async () => {
      checkPartition(partition, await this.require(topic));
      return this.first(topic, partition);
    });
  }

  /** Extra KEYS and ARGV of the commit script that record markers with their offsets. */
  markerArgs(
    group: string,
    topic: string,
    partition: number,
    keys: readonly string[],
    offsets: readonly number[],
  ): { keys: string[]; args: ScriptArg[] } {
    return {
      keys: [this.keys.markers(group, topic, partition), this.keys.markerIndex(topic)],
      args: [`${group}\u0000${partition}`, ...keys, ...offsets],
    };
  }

  /** Throws `OFFSET_TRIMMED` when `fromOffset` lies below the partition's first offset. */
  async checkRead(topic: string, partition: number, fromOffset: number): Promise<void> {
    const first = await this.first(topic, partition);
    if (fromOffset < first) throw offsetTrimmed(topic, partition, fromOffset, first);
  }

  trim(topic: string, options: TrimOptions = {}): Promise<TrimResult> {
    return this.conn.run('trim', async () => {
      throwIfAborted(options.signal, 'trim');
      const n = await this.require(topic);
      const now = options.now ?? this.clock.now();
      const retention = decodeRetention(await this.conn.client.hget(this.keys.retention, topic));
      const partitions: PartitionTrim[] = [];
      for (let p = 0; p < n; p++)
        partitions.push(await this.trimPartition(topic, p, retention, now, options.signal));
      return { topic, partitions, markersRemoved: await this.trimMarkers(topic, options.signal) };
    });
  }

  private async trimPartition(
    topic: string,
    p: number,
    retention: Retention | null,
    now: number,
    signal: AbortSignal | undefined,
  ): Promise<PartitionTrim> {
    const c = this.conn.client;
    const k = this.conn.keys;
    const first = await this.first(topic, p);
    if (retention === null || (retention.maxEvents === undefined && retention.maxAge === undefined)) {
      return { partition: p, firstOffset: first, removed: 0 };
    }
    // Read before the script: the end and the committed offsets only grow, so both bounds are safe.
    const end = Number((await c.hget(k.next(topic), String(p))) ?? 0);
    let cap = end;
    for (const g of retention.afterCommittedBy ?? []) {
      cap = Math.min(cap, Number((await c.hget(k.offsets(g), offsetField(topic, p))) ?? 0));
    }
    const forced = retention.maxEvents === undefined ? 0 : Math.min(cap, end - retention.maxEvents);
    const cutoff = ageCutoff(retention, now);
    let at = first;
    let removed = 0;
    for (;;) {
      throwIfAborted(signal, 'trim');
      const reply = (await this.conn.script(
        'sluiceTrimPartition',
        [k.topicMeta(topic), k.first(topic), k.log(topic, p), k.ids(topic)],
        [topic, p, forced, cap, cutoff === undefined ? '' : cutoff, TRIM_CHUNK],
      )) as number[];
      if (reply[0] === -1) throw topicNotFound(topic);
      removed += Math.max(0, reply[1]! - reply[0]!);
      at = reply[1]!;
      if (reply[2] !== 1) break;
    }
    return { partition: p, firstOffset: at, removed };
  }

  private async trimMarkers(topic: string, signal: AbortSignal | undefined): Promise<number> {
    const k = this.conn.keys;
    const members = await this.conn.client.smembers(this.keys.markerIndex(topic));
    let total = 0;
    for (const member of members) {
      const sep = member.lastIndexOf('\u0000');
      const group = member.slice(0, sep);
      const p = Number(member.slice(sep + 1));
      for (;;) {
        throwIfAborted(signal, 'trim');
        const [removed, more] = (await this.conn.script(
          'sluiceTrimMarkers',
          [
            k.offsets(group),
            this.keys.markers(group, topic, p),
            k.processed(group),
            this.keys.markerIndex(topic),
          ],
          [offsetField(topic, p), member, TRIM_CHUNK],
        )) as [number, number];
        total += removed;
        if (more !== 1) break;
      }
    }
    return total;
  }

  private async first(topic: string, partition: number): Promise<number> {
    return Number((await this.conn.client.hget(this.keys.first(topic), String(partition))) ?? 0);
  }

  /** The topic's partition count (`NOT_FOUND` when missing). */
  private require(topic: string): Promise<number> {
    checkName('topic', topic);
    return this.partitions(topic);
  }
}
