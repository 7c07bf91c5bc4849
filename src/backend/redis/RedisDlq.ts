// RedisDlq: the dead-letter store of the Redis backend (one ZSET index, one HASH per field).
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/Clock.ts';
import { isSluiceError } from '../../core/errors.ts';
import type {
  AppendInput,
  AppendResult,
  DeadLetter,
  DeadLetterInput,
  DlqFilter,
  DlqStore,
} from '../Backend.ts';
import { checkDlqFilter, checkName, prepareDeadLetter, prepareEvents } from '../common/args.ts';
import { buildDeadLetter, compareDeadLetters, pageDeadLetters, replayEvent } from '../common/deadLetters.ts';
import { topicNotFound } from '../common/errors.ts';
import { encodeStoredEvent } from './eventCodec.ts';
import type { RedisConnection } from './RedisConnection.ts';
import type { ScriptArg } from './scripts.ts';

/** What the DLQ needs from the log to replay entries. */
export interface ReplayTopics {
  /** Partition count of a topic; rejects with `NOT_FOUND` when it does not exist. */
  partitions(topic: string): Promise<number>;
  /** Drops a cached partition count that turned out stale. */
  forget(topic: string): void;
  /** Records a partition count reported by a script. */
  remember(topic: string, partitions: number): void;
  /** Appends to a topic (the backend's `append`; used on a cluster, see {@link RedisDlq}). */
  append(topic: string, events: readonly AppendInput[]): Promise<AppendResult[]>;
}

/** Values per row in DLQ script replies. */
const ROW = 10;

/**
 * {@link DlqStore} on Redis: one ZSET orders the entries (score = first failure, ties by id
 * bytes = list order) and one HASH per field holds id → value. `put`, `purge` and each replayed
 * entry are one Lua script each, so concurrent puts count every delivery and an entry is
 * replayed at most once. Filters without `ids` walk the index inside Redis and stop at `limit`.
 * Part of `RedisBackend`.
 *
 * On a Redis Cluster the dead letters live in the control slot and the target topic in its own
 * slot, so a replay is two steps: an append with an id derived from the entry (id, delivery
 * count, last failure), then the entry's removal. A replay interrupted between them, or two
 * concurrent replays, append the event once (the topic's id index deduplicates) and only the
 * replay that removed the entry reports it.
 */
export class RedisDlq implements DlqStore {
  constructor(
    private readonly conn: RedisConnection,
    private readonly clock: Clock,
    private readonly topics: ReplayTopics,
  ) {}

  put(entry: DeadLetterInput): Promise<DeadLetter> {
    return this.conn.run('dlq.put', async () => {
      const e = prepareDeadLetter(entry);
      const meta: { partition?: number; offset?: number; key?: string } = {};
      if (e.partition !== undefined) meta.partition = e.partition;
      if (e.offset !== undefined) meta.offset = e.offset;
      if (e.key !== undefined) meta.key = e.key;
      const row = (await this.conn.script('sluiceDlqPut', this.conn.keys.dlqKeyList(), [
        e.id,
        this.clock.now(),
        e.error,
        e.attempts,
        e.source,
        e.payload,
        e.topic === undefined ? '0' : '1',
        e.topic ?? '',
        JSON.stringify(meta),
      ])) as unknown[];
      return decodeRow(row, 0);
    });
  }

  list(filter?: DlqFilter): Promise<DeadLetter[]> {
    return this.conn.run('dlq.list', async () => {
      const f = checkDlqFilter(filter);
      if (f.ids === undefined) return this.scanRows(f, f.after ?? '', f.limit ?? 0);
      const sorted = (await this.scanRows(f, '', 0)).sort(compareDeadLetters);
      const cursor = f.after === undefined ? undefined : await this.getRow(f.after);
      return pageDeadLetters(sorted, f, cursor);
    });
  }

  get(id: string): Promise<DeadLetter | undefined> {
    return this.conn.run('dlq.get', () => this.getRow(id));
  }

  count(filter?: DlqFilter): Promise<number> {
    return this.conn.run('dlq.count', async () => {
      const f = checkDlqFilter(filter);
      return Number(await this.scan('count', f, '', 0));
    });
  }

  replay(filter: DlqFilter, options: { toTopic?: string } = {}): Promise<string[]> {
    return this.conn.run('dlq.replay', async () => {
      const f = checkDlqFilter(filter);
      const toTopic = options.toTopic === undefined ? undefined : checkName('toTopic', options.toTopic);
      if (toTopic !== undefined) await this.topics.partitions(toTopic);
      const entries = (await this.scanRows(f, '', 0)).sort(compareDeadLetters);
      const replayed: string[] = [];
      for (const entry of entries) {
        const target = toTopic ?? entry.topic;
        if (target === undefined) continue;
        if (await this.replayOne(entry, target)) replayed.push(entry.id);
      }
      return replayed;
    });
  }

  purge(filter?: DlqFilter): Promise<number> {
    return this.conn.run('dlq.purge', async () => {
      const f = checkDlqFilter(filter);
      return Number(await this.scan('purge', f, '', 0));
    });
  }

  /** Replays one entry into `target`; false when the entry or the topic is gone. */
  private async replayOne(entry: DeadLetter, target: string): Promise<boolean> {
    if (this.conn.isCluster) return this.replayOneInTwoSteps(entry, target);
    const k = this.conn.keys;
    for (let attempt = 0; attempt < 3; attempt++) {
      let partitions: number;
      try {
        partitions = await this.topics.partitions(target);
      } catch (e) {
        if (isSluiceError(e) && e.code === 'NOT_FOUND') return false;
        throw e;
      }
      const [ev] = prepareEvents([replayEvent(entry, partitions)], partitions);
      const id = randomUUID();
      const args: ScriptArg[] = [
        entry.id,
        target,
        partitions,
        k.channel(target),
        1,
        id,
        ev!.partition,
        4,
        encodeStoredEvent(id, ev!, this.clock.now()),
      ];
      const keys = [k.topics, k.ids(target), k.next(target), k.log(target, ev!.partition), ...k.dlqKeyList()];
      const reply = (await this.conn.script('sluiceDlqReplay', keys, args)) as unknown[];
      if (reply[0] === 1) return true;
      if (reply[0] === 0) return false;
      if (reply[0] === -1) {
        this.topics.forget(target);
        return false;
      }
      this.topics.remember(target, Number(reply[1]));
    }
    throw topicNotFound(target);
  }

  /** The cluster replay (see the class comment). */
  private async replayOneInTwoSteps(entry: DeadLetter, target: string): Promise<boolean> {
    let partitions: number;
    try {
      partitions = await this.topics.partitions(target);
    } catch (e) {
      if (isSluiceError(e) && e.code === 'NOT_FOUND') return false;
      throw e;
    }
    const id = `dlq-replay:${entry.id}:${entry.deliveryCount}:${entry.lastFailedAt}`;
    try {
      await this.topics.append(target, [{ ...replayEvent(entry, partitions), id }]);
    } catch (e) {
      if (isSluiceError(e) && e.code === 'NOT_FOUND') return false;
      throw e;
    }
    const removed = await this.scan('purge', { ids: [entry.id] }, '', 0);
    return Number(removed) === 1;
  }

  private async getRow(id: string): Promise<DeadLetter | undefined> {
    const row = (await this.conn.script('sluiceDlqGet', this.conn.keys.dlqKeyList(), [id])) as
      | unknown[]
      | null;
    return row === null ? undefined : decodeRow(row, 0);
  }

  private async scanRows(f: DlqFilter, after: string, limit: number): Promise<DeadLetter[]> {
    const flat = (await this.scan('list', f, after, limit)) as unknown[];
    const out: DeadLetter[] = [];
    for (let i = 0; i < flat.length; i += ROW) out.push(decodeRow(flat, i));
    return out;
  }

  private scan(
    mode: 'list' | 'count' | 'purge',
    f: DlqFilter,
    after: string,
    limit: number,
  ): Promise<unknown> {
    if (f.ids !== undefined && f.ids.length === 0) return Promise.resolve(mode === 'list' ? [] : 0);
    const ids = f.ids === undefined ? [] : [...new Set(f.ids)];
    return this.conn.script('sluiceDlqScan', this.conn.keys.dlqKeyList(), [
      mode,
      f.source === undefined ? '0' : '1',
      f.source ?? '',
      f.topic === undefined ? '0' : '1',
      f.topic ?? '',
      after,
      limit,
      f.ids === undefined ? -1 : ids.length,
      ...ids,
    ]);
  }
}

/** Decodes one reply row (see the DLQ scripts) starting at `i`. */
function decodeRow(flat: readonly unknown[], i: number): DeadLetter {
  const topic = flat[i + 2];
  const meta = JSON.parse(flat[i + 3] as string) as { partition?: number; offset?: number; key?: string };
  return buildDeadLetter({
    id: flat[i] as string,
    source: flat[i + 1] as string,
    topic: typeof topic === 'string' ? topic : undefined,
    partition: meta.partition,
    offset: meta.offset,
    key: meta.key,
    payload: flat[i + 4] as string,
    error: flat[i + 5] as string,
    attempts: Number(flat[i + 6]),
    deliveryCount: Number(flat[i + 7]),
    firstFailedAt: Number(flat[i + 8]),
    lastFailedAt: Number(flat[i + 9]),
  });
}
