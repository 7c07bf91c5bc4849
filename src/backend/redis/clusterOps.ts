// Topic helpers of the Redis backend that only a Redis Cluster needs.
import type { RedisConnection } from './RedisConnection.ts';

/**
 * On a cluster, copies a topic's partition count into the topic's own topics hash (in the
 * topic's slot), where the log scripts check it. `HSETNX`: the first count written wins, as in
 * the topics hash. Nothing to do on a single server, whose scripts read the topics hash itself.
 */
export async function stampTopicMeta(
  conn: RedisConnection,
  topic: string,
  partitions: number,
): Promise<void> {
  if (!conn.isCluster) return;
  await conn.client.hsetnx(conn.keys.topicMeta(topic), topic, partitions);
}

/**
 * On a cluster, a log script that found no partition count in the topic's slot may have run
 * between the topic's creation (the topics hash) and the copy into its slot, or after that copy
 * was lost in a failover: when the topics hash knows the topic, the copy is written again and
 * the caller retries. Returns whether it did; always false on a single server.
 */
export async function repairTopicMeta(conn: RedisConnection, topic: string): Promise<boolean> {
  if (!conn.isCluster) return false;
  const n = await conn.client.hget(conn.keys.topics, topic);
  if (n === null) return false;
  await stampTopicMeta(conn, topic, Number(n));
  return true;
}
