// The event-log and commit calls of the Redis backend: append, read, end offset and the commit script.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/Clock.ts';
import type { AppendResult, LogEvent } from '../Backend.ts';
import type { PreparedEvent } from '../common/args.ts';
import { decodeStoredEvent, encodeStoredEvent } from './eventCodec.ts';
import type { RedisConnection } from './RedisConnection.ts';
import type { RedisRetention } from './RedisRetention.ts';
import type { RedisTopicCache, TopicStatus } from './RedisTopicCache.ts';
import type { ScriptArg } from './scripts.ts';

/** The reply of {@link appendPrepared}: positions in input order, or the topic status. */
export type AppendReply = { ok: true; results: AppendResult[] } | { ok: false; status: TopicStatus };

/** Runs the append script for a validated batch (every key in the topic's slot). */
export async function appendPrepared(
  conn: RedisConnection,
  clock: Clock,
  topic: string,
  partitions: number,
  prepared: readonly PreparedEvent[],
): Promise<AppendReply> {
  const k = conn.keys;
  const now = clock.now();
  const keys = [k.topicMeta(topic), k.ids(topic), k.next(topic)];
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
  const reply = (await conn.script('sluiceAppend', keys, args)) as unknown[];
  if (reply[0] !== 0) return { ok: false, status: reply as TopicStatus };
  const results: AppendResult[] = new Array(prepared.length);
  for (let i = 0; i < prepared.length; i++) {
    const pos = reply[i + 1] as string;
    const sep = pos.indexOf(':');
    results[i] = { id: ids[i]!, partition: Number(pos.slice(0, sep)), offset: Number(pos.slice(sep + 1)) };
  }
  return { ok: true, results };
}

/** `Backend.read` after the argument checks: one script, retried once a cluster copy is repaired. */
export async function readPartition(
  conn: RedisConnection,
  topics: RedisTopicCache,
  retention: RedisRetention,
  req: { topic: string; partition: number; fromOffset: number; limit: number },
): Promise<LogEvent[]> {
  const { topic, partition, fromOffset, limit } = req;
  const k = conn.keys;
  for (let attempt = 0; ; attempt++) {
    const reply = (await conn.script(
      'sluiceRead',
      [k.topicMeta(topic), k.next(topic), k.log(topic, partition)],
      [topic, partition, fromOffset, limit],
    )) as unknown[];
    if (!(await topics.checkReply(topic, partition, reply, attempt))) continue;
    // A trimmed offset reads as nil (trimming moves the first offset in the same script).
    if (reply.length > 1 && reply[1] === null) await retention.checkRead(topic, partition, fromOffset);
    const out: LogEvent[] = new Array(reply.length - 1);
    for (let i = 1; i < reply.length; i++) {
      out[i - 1] = decodeStoredEvent(topic, partition, fromOffset + i - 1, reply[i] as string);
    }
    return out;
  }
}

/** `Backend.endOffset` after the argument checks. */
export async function endOffsetOf(
  conn: RedisConnection,
  topics: RedisTopicCache,
  topic: string,
  partition: number,
): Promise<number> {
  const k = conn.keys;
  for (let attempt = 0; ; attempt++) {
    const reply = (await conn.script(
      'sluiceEndOffset',
      [k.topicMeta(topic), k.next(topic)],
      [topic, partition],
    )) as unknown[];
    if (await topics.checkReply(topic, partition, reply, attempt)) return Number(reply[1]);
  }
}

/** What one commit script call writes (see `COMMIT` in the log scripts). */
export interface CommitCall {
  readonly group: string;
  /** Offsets-hash field (`''` with `offset: ''` = idempotency keys only). */
  readonly field: string;
  readonly offset: string;
  readonly keys: readonly string[];
  readonly fence: { lease: string; token: number } | undefined;
  readonly markers?: { keys: string[]; args: ScriptArg[] } | undefined;
}

/**
 * Runs the commit script: the fence check, the offset (never moved backwards) and the
 * idempotency keys in one script, every key in the control slot. Returns false when fenced.
 */
export async function runCommit(conn: RedisConnection, clock: Clock, c: CommitCall): Promise<boolean> {
  const k = conn.keys;
  const leaseKey = c.fence === undefined ? k.offsets(c.group) : k.lease(String(c.fence.lease));
  const reply = await conn.script(
    'sluiceCommit',
    [k.offsets(c.group), k.processed(c.group), leaseKey, ...(c.markers?.keys ?? [])],
    [
      c.field,
      c.offset,
      c.fence === undefined ? '0' : '1',
      c.fence === undefined ? '' : String(c.fence.token),
      clock.now(),
      ...(c.markers?.args ?? c.keys),
    ],
  );
  return reply === 1;
}
