// RedisTopicCache: the partition counts a Redis backend has seen, and the checks of script replies against them.
import type { AppendInput } from '../Backend.ts';
import { checkPartition, type PreparedEvent, prepareEvents } from '../common/args.ts';
import { topicNotFound } from '../common/errors.ts';
import { repairTopicMeta } from './clusterOps.ts';
import type { RedisConnection } from './RedisConnection.ts';

/** A topic status reply of the log scripts: `-1` missing, `-2` another partition count. */
export type TopicStatus = [-1] | [-2, number];

/** A partition count cache entry must be confirmed by the scripts; this many refreshes at most. */
export const MAX_TOPIC_REFRESH = 3;

/**
 * Partition counts by topic. Every log script re-checks the count it is given, so a stale entry
 * (a topic recreated under the same prefix) is corrected by the script's reply.
 */
export class RedisTopicCache {
  private readonly counts = new Map<string, number>();

  constructor(private readonly conn: RedisConnection) {}

  /** Records a count confirmed by Redis. */
  remember(topic: string, partitions: number): void {
    this.counts.set(topic, partitions);
  }

  /** Drops a count that turned out stale. */
  forget(topic: string): void {
    this.counts.delete(topic);
  }

  /** The partition count of a topic (cached; `NOT_FOUND` when missing). */
  async partitions(topic: string): Promise<number> {
    const known = this.counts.get(topic);
    if (known !== undefined) return known;
    const n = await this.fetch(topic);
    if (n === undefined) throw topicNotFound(topic);
    return n;
  }

  /** Reads the count from the topics hash (`undefined` when the topic does not exist). */
  async fetch(topic: string): Promise<number | undefined> {
    const v = await this.conn.client.hget(this.conn.keys.topics, topic);
    if (v === null) {
      this.counts.delete(topic);
      return undefined;
    }
    const n = Number(v);
    this.counts.set(topic, n);
    return n;
  }

  /**
   * Validates a batch against the topic's partition count. A cached count that rejects the batch
   * is re-fetched first (the topic may have been recreated with more partitions).
   */
  async prepare(
    topic: string,
    events: readonly AppendInput[],
  ): Promise<{ partitions: number; prepared: PreparedEvent[] }> {
    const cached = this.counts.get(topic);
    if (cached !== undefined) {
      try {
        return { partitions: cached, prepared: prepareEvents(events, cached) };
      } catch {
        this.counts.delete(topic);
      }
    }
    const partitions = await this.partitions(topic);
    return { partitions, prepared: prepareEvents(events, partitions) };
  }

  /** Validates a partition index against the topic (re-fetching a cached count that rejects it). */
  async checkPartitionOf(topic: string, partition: number): Promise<void> {
    const cached = this.counts.get(topic);
    if (cached !== undefined && Number.isSafeInteger(partition) && partition >= 0 && partition < cached)
      return;
    const n = await this.fetch(topic);
    if (n === undefined) throw topicNotFound(topic);
    checkPartition(partition, n);
  }

  /**
   * Reacts to a topic status reply of an append: forget/refresh the cached count, or give up.
   * A `-1` on a cluster whose topics hash knows the topic repairs the copy in the topic's slot
   * (see {@link repairTopicMeta}) and lets the caller retry.
   */
  async onAppendStatus(topic: string, status: TopicStatus, attempt: number): Promise<void> {
    if (attempt >= MAX_TOPIC_REFRESH) throw topicNotFound(topic);
    if (status[0] === -1) {
      this.counts.delete(topic);
      if (await repairTopicMeta(this.conn, topic)) return;
      throw topicNotFound(topic);
    }
    this.counts.set(topic, status[1]);
  }

  /**
   * Checks the status of a read/endOffset reply: `true` when it is good, `false` when the caller
   * should retry (a cluster copy was repaired); throws `NOT_FOUND` or `CONFIG_INVALID`.
   */
  async checkReply(topic: string, partition: number, reply: unknown[], attempt: number): Promise<boolean> {
    if (reply[0] === -1) {
      this.counts.delete(topic);
      if (attempt < MAX_TOPIC_REFRESH && (await repairTopicMeta(this.conn, topic))) return false;
      throw topicNotFound(topic);
    }
    if (reply[0] === -2) {
      const n = Number(reply[1]);
      this.counts.set(topic, n);
      checkPartition(partition, n);
    }
    return true;
  }
}
