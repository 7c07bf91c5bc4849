// PostgresRetention: per-topic retention and trimming of the PostgreSQL backend.
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
import {
  ageCutoff,
  checkRetention,
  decodeRetention,
  encodeRetention,
  trimTarget,
} from '../common/retention.ts';
import type { PgConnection, PgQueryable, PgTopic } from './PgConnection.ts';

/** Most events one trim transaction deletes. */
const DELETE_CHUNK = 50_000;

/**
 * {@link RetentionStore} of the PostgreSQL backend. A partition is trimmed in transactions of
 * at most {@link DELETE_CHUNK} events, each deleting its range and then moving `first_offset`,
 * so a reader sees either both or neither; the partition row is locked only from that update to
 * the commit.
 */
export class PostgresRetention implements RetentionStore {
  constructor(private readonly conn: PgConnection) {}

  async set(topic: string, retention: Retention | null): Promise<void> {
    this.conn.ensureOpen();
    const r = checkRetention(retention);
    await this.require('setRetention', topic);
    await this.setValidated(topic, r);
  }

  /** Stores an already validated retention of an existing topic. */
  async setValidated(topic: string, retention: Retention | null): Promise<void> {
    await this.conn.query(
      'setRetention',
      `UPDATE ${this.conn.s}.topics SET retention = $2::json WHERE name = $1`,
      [topic, encodeRetention(retention)],
      undefined,
      false,
    );
  }

  async get(topic: string): Promise<Retention | null> {
    this.conn.ensureOpen();
    await this.require('getRetention', topic);
    const { rows } = await this.conn.query<{ retention: string | null }>(
      'getRetention',
      `SELECT retention::text AS retention FROM ${this.conn.s}.topics WHERE name = $1`,
      [topic],
    );
    return decodeRetention(rows[0]?.retention);
  }

  async list(): Promise<TopicRetentionInfo[]> {
    this.conn.ensureOpen();
    const s = this.conn.s;
    const { rows } = await this.conn.query<{
      name: string;
      partitions: number;
      retention: string | null;
      offsets: { partition: number; first: string; end: string }[];
    }>(
      'listTopics',
      `SELECT t.name, t.partitions, t.retention::text AS retention,
         (SELECT json_agg(json_build_object('partition', p.partition, 'first', p.first_offset::text,
                  'end', p.next_offset::text) ORDER BY p.partition)
          FROM ${s}.partitions p WHERE p.topic_id = t.topic_id) AS offsets
       FROM ${s}.topics t ORDER BY t.name`,
      [],
    );
    return rows.map((r) => ({
      topic: r.name,
      partitions: r.partitions,
      retention: decodeRetention(r.retention),
      offsets: (r.offsets ?? []).map((o) => ({
        partition: o.partition,
        first: Number(o.first),
        end: Number(o.end),
      })),
    }));
  }

  async firstOffset(topic: string, partition: number): Promise<number> {
    this.conn.ensureOpen();
    const t = await this.require('firstOffset', topic);
    checkPartition(partition, t.info.partitions);
    return this.first(t, partition);
  }

  async trim(topic: string, options: TrimOptions = {}): Promise<TrimResult> {
    this.conn.ensureOpen();
    throwIfAborted(options.signal, 'trim');
    const t = await this.require('trim', topic);
    const now = options.now ?? this.conn.clock.now();
    const partitions: PartitionTrim[] = [];
    for (let p = 0; p < t.info.partitions; p++) {
      const { first, target } = await this.conn.tx('trim', options.signal, (db) =>
        this.targetOf(db, t, p, now),
      );
      let removed = 0;
      // In transactions of at most DELETE_CHUNK events, so none runs into the query timeout.
      for (let from = first; from < target; from += DELETE_CHUNK) {
        const upto = Math.min(target, from + DELETE_CHUNK);
        removed += await this.conn.tx('trim', options.signal, (db) => this.removeRange(db, t, p, from, upto));
      }
      partitions.push({ partition: p, firstOffset: Math.max(first, target), removed });
    }
    const s = this.conn.s;
    // Deleted rows only become reusable space after a vacuum; without one, a log trimmed as it
    // grows keeps growing until autovacuum passes by. SKIP_LOCKED: never wait for another vacuum.
    // A vacuum that fails (e.g. runs into the query timeout) only leaves the work to autovacuum.
    if (partitions.some((p) => p.removed > 0)) {
      await this.conn
        .query('trim', `VACUUM (SKIP_LOCKED) ${s}.events`, [], options.signal, false)
        .catch(() => undefined);
    }
    const { rowCount } = await this.conn.query(
      'trim',
      `DELETE FROM ${s}.processed AS m USING ${s}.offsets AS o
       WHERE m.topic = $1 AND o.grp = m.grp AND o.topic = m.topic AND o.partition = m.partition
         AND m.event_offset < o.committed_offset`,
      [topic],
      options.signal,
      false,
    );
    return { topic, partitions, markersRemoved: rowCount ?? 0 };
  }

  /**
   * The first offset of a partition and how far its retention allows trimming. Read once per
   * trim: the end and the committed offsets only grow, so the target stays safe while removing.
   */
  private async targetOf(
    db: PgQueryable,
    t: PgTopic,
    p: number,
    now: number,
  ): Promise<{ first: number; target: number }> {
    const s = this.conn.s;
    const retention = await this.fetch(db, t.info.topic);
    const pos = await db.query<{ first_offset: string; next_offset: string }>(
      `SELECT first_offset, next_offset FROM ${s}.partitions WHERE topic_id = $1 AND partition = $2`,
      [t.topicId, p],
    );
    const first = Number(pos.rows[0]?.first_offset ?? 0);
    const end = Number(pos.rows[0]?.next_offset ?? 0);
    const cutoff = ageCutoff(retention, now);
    let ageBound: number | undefined;
    if (cutoff !== undefined) {
      const r = await db.query<{ event_offset: string }>(
        `SELECT event_offset FROM ${s}.events
         WHERE topic_id = $1 AND partition = $2 AND event_offset >= $3 AND ts >= $4
         ORDER BY event_offset LIMIT 1`,
        [t.topicId, p, first, cutoff],
      );
      ageBound = r.rows[0] === undefined ? end : Number(r.rows[0].event_offset);
    }
    const groups = retention?.afterCommittedBy ?? [];
    const holds: number[] = [];
    if (groups.length > 0) {
      const r = await db.query<{ grp: string; committed_offset: string }>(
        `SELECT grp, committed_offset FROM ${s}.offsets WHERE grp = ANY($1::text[]) AND topic = $2 AND partition = $3`,
        [[...groups], t.info.topic, p],
      );
      const byGroup = new Map(r.rows.map((row) => [row.grp, Number(row.committed_offset)]));
      for (const g of groups) holds.push(byGroup.get(g) ?? 0);
    }
    return { first, target: trimTarget(retention, { first, end, ageBound, holds }) };
  }

  /** Deletes offsets `[from, upto)` and moves `first_offset` to `upto` in the caller's transaction. */
  private async removeRange(
    db: PgQueryable,
    t: PgTopic,
    p: number,
    from: number,
    upto: number,
  ): Promise<number> {
    const s = this.conn.s;
    const del = await db.query(
      `DELETE FROM ${s}.events WHERE topic_id = $1 AND partition = $2 AND event_offset >= $3 AND event_offset < $4`,
      [t.topicId, p, from, upto],
    );
    await db.query(
      `UPDATE ${s}.partitions SET first_offset = GREATEST(first_offset, $3) WHERE topic_id = $1 AND partition = $2`,
      [t.topicId, p, upto],
    );
    return del.rowCount ?? 0;
  }

  private async first(t: PgTopic, partition: number, signal?: AbortSignal): Promise<number> {
    const { rows } = await this.conn.query<{ first_offset: string }>(
      'firstOffset',
      `SELECT first_offset FROM ${this.conn.s}.partitions WHERE topic_id = $1 AND partition = $2`,
      [t.topicId, partition],
      signal,
    );
    return Number(rows[0]?.first_offset ?? 0);
  }

  private async fetch(db: PgQueryable, topic: string): Promise<Retention | null> {
    const { rows } = await db.query<{ retention: string | null }>(
      `SELECT retention::text AS retention FROM ${this.conn.s}.topics WHERE name = $1`,
      [topic],
    );
    return decodeRetention(rows[0]?.retention);
  }

  private async require(what: string, topic: string): Promise<PgTopic> {
    checkName('topic', topic);
    const t = await this.conn.topic(what, topic);
    if (t === undefined) throw topicNotFound(topic);
    return t;
  }
}
