// Redis batched calls: readMany and committedMany of RedisBackend.
import type { LogEvent, ReadRequest } from '../Backend.ts';
import { checkNonNegativeInt, MAX_PARTITIONS } from '../common/args.ts';
import { checkPartitionList, checkReadRequests } from '../common/batchArgs.ts';
import { topicNotFound } from '../common/errors.ts';
import { repairTopicMeta } from './clusterOps.ts';
import { decodeStoredEvent } from './eventCodec.ts';
import { offsetField } from './keys.ts';
import type { RedisConnection } from './RedisConnection.ts';
import { MAX_TOPIC_REFRESH, type RedisTopicCache } from './RedisTopicCache.ts';

/** `Backend.readMany`: one script (every key in the topic's slot); the topic and partitions are checked inside it. */
export async function readMany(
  conn: RedisConnection,
  topics: RedisTopicCache,
  topic: string,
  requests: readonly ReadRequest[],
  limitPerPartition: number,
): Promise<LogEvent[][]> {
  // Shape checked here; the range against the topic's partition count inside the script.
  checkReadRequests(requests, MAX_PARTITIONS);
  checkNonNegativeInt('limitPerPartition', limitPerPartition);
  const k = conn.keys;
  const args: (string | number)[] = [topic, limitPerPartition];
  for (const r of requests) args.push(r.partition, r.fromOffset);
  let reply: unknown[];
  for (let attempt = 0; ; attempt++) {
    reply = (await conn.script(
      'sluiceReadMany',
      [k.topicMeta(topic), k.next(topic), ...requests.map((r) => k.log(topic, r.partition))],
      args,
    )) as unknown[];
    if (reply[0] !== -1) break;
    topics.forget(topic);
    if (attempt >= MAX_TOPIC_REFRESH || !(await repairTopicMeta(conn, topic))) throw topicNotFound(topic);
  }
  if (reply[0] === -2) checkReadRequests(requests, Number(reply[1]));
  return requests.map((r, i) =>
    ((reply[i + 1] as string[] | undefined) ?? []).map((text, j) =>
      decodeStoredEvent(topic, r.partition, r.fromOffset + j, text),
    ),
  );
}

/** `Backend.committedMany`: one HMGET (the group's offsets hash, a control key). */
export async function committedMany(
  conn: RedisConnection,
  group: string,
  topic: string,
  partitions: readonly number[],
): Promise<number[]> {
  checkPartitionList(partitions);
  if (partitions.length === 0) return [];
  const vals = await conn.client.hmget(
    conn.keys.offsets(group),
    ...partitions.map((p) => offsetField(topic, p)),
  );
  return vals.map((v) => (v === null ? 0 : Number(v)));
}
