// Redis DelayedStore: a ZSET by due time plus entry and id HASHes in one hash slot, changed by Lua.

import { checkName } from '../common/args.ts';
import { decodeJson } from '../common/json.ts';
import { checkDelayedInputs, checkLimit, checkTime, checkTtlOrNull } from '../common/timeArgs.ts';
import type { DelayedEvent, DelayedInput, DelayedStore, TopicCount } from '../DelayedStore.ts';
import type { RedisConnection } from './RedisConnection.ts';

/** An entry as stored: `[topic, id, partition, key, payload JSON, headers JSON, deliverAt]`. */
type Entry = [string, string, number, string | null, string, string | null, number];

/**
 * {@link DelayedStore} on Redis. Keys share the hash tag `{<prefix>}` so every script's keys sit in
 * one slot (Redis Cluster): `<prefix>:delayed{<prefix>}:due` (ZSET member → due time; members are
 * the zero-padded add sequence), `...:data` (member → entry), `...:ids` (`topic\0id` → member),
 * `...:seq`, `...:counts` (topic → waiting). Topic TTLs: HASH `<prefix>:topic-ttl`. Part of `RedisBackend`.
 */
export class RedisDelayed implements DelayedStore {
  private readonly k: { due: string; data: string; ids: string; seq: string; counts: string; ttl: string };

  constructor(private readonly conn: RedisConnection) {
    const p = conn.keys.prefix;
    const base = `${p}:delayed{${p}}`;
    this.k = {
      due: `${base}:due`,
      data: `${base}:data`,
      ids: `${base}:ids`,
      seq: `${base}:seq`,
      counts: `${base}:counts`,
      ttl: `${p}:topic-ttl`,
    };
  }

  add(topic: string, events: readonly DelayedInput[]): Promise<void> {
    return this.conn.run('delayed.add', async () => {
      checkDelayedInputs(topic, events);
      if (events.length === 0) return;
      const args: (string | number)[] = [topic];
      for (const e of events) {
        const entry: Entry = [
          topic,
          e.id,
          e.partition,
          e.key ?? null,
          e.payload,
          e.headers ?? null,
          e.deliverAt,
        ];
        args.push(e.id, e.deliverAt, JSON.stringify(entry));
      }
      const { due, data, ids, seq, counts } = this.k;
      await this.conn.script('sluiceDelayedAdd', [due, data, ids, seq, counts], args);
    });
  }

  due(now: number, limit: number): Promise<DelayedEvent[]> {
    return this.conn.run('delayed.due', async () => {
      checkTime('now', now);
      checkLimit(limit);
      const rows = (await this.conn.script('sluiceDelayedDue', [this.k.due, this.k.data], [now, limit])) as (
        | string
        | null
      )[];
      const out: DelayedEvent[] = [];
      for (const row of rows) {
        if (row === null) continue;
        const [topic, id, partition, key, payload, headers, deliverAt] = JSON.parse(row) as Entry;
        out.push({
          topic,
          id,
          partition,
          ...(key !== null ? { key } : {}),
          payload: decodeJson(payload),
          ...(headers !== null ? { headers: decodeJson(headers) as Record<string, string> } : {}),
          deliverAt,
        });
      }
      return out;
    });
  }

  nextDueAt(): Promise<number | null> {
    return this.conn.run('delayed.nextDueAt', async () => {
      const first = await this.conn.client.zrange(this.k.due, 0, 0, 'WITHSCORES');
      return first[1] === undefined ? null : Number(first[1]);
    });
  }

  remove(events: readonly { readonly topic: string; readonly id: string }[]): Promise<number> {
    return this.conn.run('delayed.remove', async () => {
      if (events.length === 0) return 0;
      const { due, data, ids, counts } = this.k;
      const args = events.flatMap((e) => [e.topic, e.id]);
      return Number(await this.conn.script('sluiceDelayedRemove', [due, data, ids, counts], args));
    });
  }

  counts(): Promise<TopicCount[]> {
    return this.conn.run('delayed.counts', async () => {
      const all = await this.conn.client.hgetall(this.k.counts);
      return Object.entries(all)
        .map(([topic, n]) => ({ topic, count: Number(n) }))
        .filter((c) => c.count > 0)
        .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
    });
  }

  setTopicTtl(topic: string, ttlMs: number | null): Promise<void> {
    return this.conn.run('delayed.setTopicTtl', async () => {
      checkName('topic', topic);
      const ttl = checkTtlOrNull(ttlMs);
      if (ttl === null) await this.conn.client.hdel(this.k.ttl, topic);
      else await this.conn.client.hset(this.k.ttl, topic, String(ttl));
    });
  }

  topicTtl(topic: string): Promise<number | null> {
    return this.conn.run('delayed.topicTtl', async () => {
      const v = await this.conn.client.hget(this.k.ttl, topic);
      return v === null ? null : Number(v);
    });
  }
}
