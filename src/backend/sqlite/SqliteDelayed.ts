// SQLite DelayedStore: waiting events in sluice_delayed (due order by deliver_at, seq) and topic TTLs.

import { checkName } from '../common/args.ts';
import { checkDelayedInputs, checkLimit, checkTime, checkTtlOrNull } from '../common/timeArgs.ts';
import { type DelayedRow, delayedFromRow } from '../common/timeRows.ts';
import type { DelayedEvent, DelayedInput, DelayedStore, TopicCount } from '../DelayedStore.ts';
import type { SqliteConnection } from './SqliteConnection.ts';

/** SQLite {@link DelayedStore}. Time is the `now` parameter, never SQLite's clock. Part of `SqliteBackend`. */
export class SqliteDelayed implements DelayedStore {
  constructor(private readonly conn: SqliteConnection) {}

  add(topic: string, events: readonly DelayedInput[]): Promise<void> {
    return this.conn.run('delayed.add', () => {
      checkDelayedInputs(topic, events);
      const insert = this.conn.stmt(
        `INSERT INTO sluice_delayed (topic, id, partition_index, key, payload, headers, deliver_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (topic, id) DO NOTHING`,
      );
      this.conn.write(() => {
        for (const e of events) {
          insert.run(topic, e.id, e.partition, e.key ?? null, e.payload, e.headers ?? null, e.deliverAt);
        }
      });
    });
  }

  due(now: number, limit: number): Promise<DelayedEvent[]> {
    return this.conn.run('delayed.due', () => {
      checkTime('now', now);
      checkLimit(limit);
      const rows = this.conn
        .stmt(
          `SELECT topic, id, partition_index, key, payload, headers, deliver_at FROM sluice_delayed
           WHERE deliver_at <= ? ORDER BY deliver_at, seq LIMIT ?`,
        )
        .all(now, limit) as DelayedRow[];
      return rows.map(delayedFromRow);
    });
  }

  nextDueAt(): Promise<number | null> {
    return this.conn.run('delayed.nextDueAt', () => {
      const row = this.conn.stmt('SELECT min(deliver_at) AS at FROM sluice_delayed').get() as {
        at: number | null;
      };
      return row.at;
    });
  }

  remove(events: readonly { readonly topic: string; readonly id: string }[]): Promise<number> {
    return this.conn.run('delayed.remove', () => {
      const del = this.conn.stmt('DELETE FROM sluice_delayed WHERE topic = ? AND id = ?');
      return this.conn.write(() => {
        let n = 0;
        for (const e of events) n += del.run(e.topic, e.id).changes;
        return n;
      });
    });
  }

  counts(): Promise<TopicCount[]> {
    return this.conn.run('delayed.counts', () => {
      return this.conn
        .stmt('SELECT topic, count(*) AS count FROM sluice_delayed GROUP BY topic ORDER BY topic')
        .all() as TopicCount[];
    });
  }

  setTopicTtl(topic: string, ttlMs: number | null): Promise<void> {
    return this.conn.run('delayed.setTopicTtl', () => this.setTopicTtlSync(topic, ttlMs));
  }

  /** Synchronous {@link setTopicTtl} (used by `ensureTopic`). */
  setTopicTtlSync(topic: string, ttlMs: number | null): void {
    checkName('topic', topic);
    const ttl = checkTtlOrNull(ttlMs);
    if (ttl === null) this.conn.stmt('DELETE FROM sluice_topic_ttl WHERE topic = ?').run(topic);
    else
      this.conn
        .stmt(
          'INSERT INTO sluice_topic_ttl (topic, ttl_ms) VALUES (?, ?) ON CONFLICT (topic) DO UPDATE SET ttl_ms = excluded.ttl_ms',
        )
        .run(topic, ttl);
  }

  topicTtl(topic: string): Promise<number | null> {
    return this.conn.run('delayed.topicTtl', () => {
      const row = this.conn.stmt('SELECT ttl_ms FROM sluice_topic_ttl WHERE topic = ?').get(topic) as
        | { ttl_ms: number }
        | undefined;
      return row?.ttl_ms ?? null;
    });
  }
}
