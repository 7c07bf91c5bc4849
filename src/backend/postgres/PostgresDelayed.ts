// PostgreSQL DelayedStore: waiting events in <schema>.delayed (due order by deliver_at, seq) and topic TTLs.

import { checkName } from '../common/args.ts';
import { checkDelayedInputs, checkLimit, checkTime, checkTtlOrNull } from '../common/timeArgs.ts';
import { type DelayedRow, delayedFromRow } from '../common/timeRows.ts';
import type { DelayedEvent, DelayedInput, DelayedStore, TopicCount } from '../DelayedStore.ts';
import type { PgConnection } from './PgConnection.ts';

/** PostgreSQL {@link DelayedStore}. Time is always a parameter. Part of `PostgresBackend`. */
export class PostgresDelayed implements DelayedStore {
  constructor(private readonly conn: PgConnection) {}

  async add(topic: string, events: readonly DelayedInput[]): Promise<void> {
    this.conn.ensureOpen();
    checkDelayedInputs(topic, events);
    if (events.length === 0) return;
    // One statement; WITH ORDINALITY keeps input order in seq (per-key order among equal due times).
    await this.conn.query(
      'delayed.add',
      `INSERT INTO ${this.conn.s}.delayed (topic, id, partition, key, payload, headers, deliver_at)
       SELECT $1, e.id, e.p, e.k, e.pl, e.h, e.at
       FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bigint[])
         WITH ORDINALITY AS e(id, p, k, pl, h, at, n)
       ORDER BY e.n
       ON CONFLICT (topic, id) DO NOTHING`,
      [
        topic,
        events.map((e) => e.id),
        events.map((e) => e.partition),
        events.map((e) => e.key ?? null),
        events.map((e) => e.payload),
        events.map((e) => e.headers ?? null),
        events.map((e) => e.deliverAt),
      ],
      undefined,
      false,
    );
  }

  async due(now: number, limit: number): Promise<DelayedEvent[]> {
    this.conn.ensureOpen();
    checkTime('now', now);
    checkLimit(limit);
    const { rows } = await this.conn.query<DelayedRow & { partition: number }>(
      'delayed.due',
      `SELECT topic, id, partition AS partition_index, key, payload, headers, deliver_at
       FROM ${this.conn.s}.delayed WHERE deliver_at <= $1 ORDER BY deliver_at, seq LIMIT $2`,
      [now, limit],
    );
    return rows.map(delayedFromRow);
  }

  async nextDueAt(): Promise<number | null> {
    this.conn.ensureOpen();
    const { rows } = await this.conn.query<{ at: string | null }>(
      'delayed.nextDueAt',
      `SELECT min(deliver_at) AS at FROM ${this.conn.s}.delayed`,
      [],
    );
    const at = rows[0]?.at ?? null;
    return at === null ? null : Number(at);
  }

  async remove(events: readonly { readonly topic: string; readonly id: string }[]): Promise<number> {
    this.conn.ensureOpen();
    if (events.length === 0) return 0;
    const { rowCount } = await this.conn.query(
      'delayed.remove',
      `DELETE FROM ${this.conn.s}.delayed AS d USING unnest($1::text[], $2::text[]) AS e(topic, id)
       WHERE d.topic = e.topic AND d.id = e.id`,
      [events.map((e) => e.topic), events.map((e) => e.id)],
      undefined,
      false,
    );
    return rowCount ?? 0;
  }

  async counts(): Promise<TopicCount[]> {
    this.conn.ensureOpen();
    const { rows } = await this.conn.query<{ topic: string; count: string }>(
      'delayed.counts',
      `SELECT topic, count(*) AS count FROM ${this.conn.s}.delayed GROUP BY topic ORDER BY topic`,
      [],
    );
    return rows.map((r) => ({ topic: r.topic, count: Number(r.count) }));
  }

  async setTopicTtl(topic: string, ttlMs: number | null): Promise<void> {
    this.conn.ensureOpen();
    checkName('topic', topic);
    const ttl = checkTtlOrNull(ttlMs);
    const s = this.conn.s;
    await this.conn.query(
      'delayed.setTopicTtl',
      ttl === null
        ? `DELETE FROM ${s}.topic_ttl WHERE topic = $1`
        : `INSERT INTO ${s}.topic_ttl (topic, ttl_ms) VALUES ($1, $2)
           ON CONFLICT (topic) DO UPDATE SET ttl_ms = excluded.ttl_ms`,
      ttl === null ? [topic] : [topic, ttl],
      undefined,
      false,
    );
  }

  async topicTtl(topic: string): Promise<number | null> {
    this.conn.ensureOpen();
    const { rows } = await this.conn.query<{ ttl_ms: string }>(
      'delayed.topicTtl',
      `SELECT ttl_ms FROM ${this.conn.s}.topic_ttl WHERE topic = $1`,
      [topic],
    );
    return rows[0] === undefined ? null : Number(rows[0].ttl_ms);
  }
}
