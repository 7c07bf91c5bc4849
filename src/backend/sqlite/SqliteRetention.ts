// SqliteRetention: per-topic retention and trimming of the SQLite backend.
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
import {
  ageCutoff,
  checkRetention,
  decodeRetention,
  encodeRetention,
  offsetTrimmed,
  trimTarget,
} from '../common/retention.ts';
import type { SqliteConnection, TopicRow } from './SqliteConnection.ts';

/** {@link RetentionStore} of the SQLite backend: each partition is trimmed in one write transaction. */
export class SqliteRetention implements RetentionStore {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly clock: Clock,
  ) {}

  set(topic: string, retention: Retention | null): Promise<void> {
    return this.conn.run('setRetention', () => {
      const r = checkRetention(retention);
      this.require(topic);
      this.setSync(topic, r);
    });
  }

  /** Stores a validated retention (inside or outside a transaction). */
  setSync(topic: string, retention: Retention | null): void {
    this.conn
      .stmt('UPDATE sluice_topics SET retention = ? WHERE name = ?')
      .run(encodeRetention(retention), topic);
  }

  get(topic: string): Promise<Retention | null> {
    return this.conn.run('getRetention', () => {
      this.require(topic);
      return this.getSync(topic);
    });
  }

  list(): Promise<TopicRetentionInfo[]> {
    return this.conn.run('listTopics', () => {
      const topics = this.conn
        .stmt('SELECT topic_id, name, partitions, retention FROM sluice_topics ORDER BY name')
        .all() as { topic_id: number; name: string; partitions: number; retention: string | null }[];
      const parts = this.conn.stmt(
        `SELECT partition_index, first_offset, next_offset FROM sluice_partitions
         WHERE topic_id = ? ORDER BY partition_index`,
      );
      return topics.map((t) => ({
        topic: t.name,
        partitions: t.partitions,
        retention: decodeRetention(t.retention),
        offsets: (
          parts.all(t.topic_id) as { partition_index: number; first_offset: number; next_offset: number }[]
        ).map((r) => ({ partition: r.partition_index, first: r.first_offset, end: r.next_offset })),
      }));
    });
  }

  firstOffset(topic: string, partition: number): Promise<number> {
    return this.conn.run('firstOffset', () => {
      const t = this.require(topic);
      checkPartition(partition, t.info.partitions);
      return this.firstSync(t.topicId, partition);
    });
  }

  /** The first available offset of a partition (synchronous). */
  firstSync(topicId: number, partition: number): number {
    const row = this.conn
      .stmt('SELECT first_offset FROM sluice_partitions WHERE topic_id = ? AND partition_index = ?')
      .get(topicId, partition) as { first_offset: number } | undefined;
    return row?.first_offset ?? 0;
  }

  /** Throws `OFFSET_TRIMMED` when `fromOffset` lies below the partition's first offset. */
  checkRead(t: TopicRow, partition: number, fromOffset: number): void {
    const first = this.firstSync(t.topicId, partition);
    if (fromOffset < first) throw offsetTrimmed(t.info.topic, partition, fromOffset, first);
  }

  trim(topic: string, options: TrimOptions = {}): Promise<TrimResult> {
    return this.conn.run('trim', () => {
      throwIfAborted(options.signal, 'trim');
      const t = this.require(topic);
      const now = options.now ?? this.clock.now();
      const partitions: PartitionTrim[] = [];
      for (let p = 0; p < t.info.partitions; p++) {
        partitions.push(this.conn.write(() => this.trimPartition(t, p, now)));
      }
      const markersRemoved = this.conn.write(() => this.removeMarkers(topic));
      return { topic, partitions, markersRemoved };
    });
  }

  private trimPartition(t: TopicRow, p: number, now: number): PartitionTrim {
    const retention = this.getSync(t.info.topic);
    const pos = this.conn
      .stmt(
        'SELECT first_offset, next_offset FROM sluice_partitions WHERE topic_id = ? AND partition_index = ?',
      )
      .get(t.topicId, p) as { first_offset: number; next_offset: number };
    const first = pos.first_offset;
    const end = pos.next_offset;
    const cutoff = ageCutoff(retention, now);
    let ageBound: number | undefined;
    if (cutoff !== undefined) {
      const row = this.conn
        .stmt(
          `SELECT event_offset FROM sluice_events
           WHERE topic_id = ? AND partition_index = ? AND event_offset >= ? AND ts >= ?
           ORDER BY event_offset LIMIT 1`,
        )
        .get(t.topicId, p, first, cutoff) as { event_offset: number } | undefined;
      ageBound = row?.event_offset ?? end;
    }
    const committed = this.conn.stmt(
      'SELECT committed_offset FROM sluice_offsets WHERE grp = ? AND topic = ? AND partition_index = ?',
    );
    const holds = (retention?.afterCommittedBy ?? []).map(
      (g) =>
        (committed.get(g, t.info.topic, p) as { committed_offset: number } | undefined)?.committed_offset ??
        0,
    );
    const target = trimTarget(retention, { first, end, ageBound, holds });
    if (target > first) {
      this.conn
        .stmt('DELETE FROM sluice_events WHERE topic_id = ? AND partition_index = ? AND event_offset < ?')
        .run(t.topicId, p, target);
      this.conn
        .stmt('UPDATE sluice_partitions SET first_offset = ? WHERE topic_id = ? AND partition_index = ?')
        .run(target, t.topicId, p);
    }
    return { partition: p, firstOffset: target, removed: target - first };
  }

  private removeMarkers(topic: string): number {
    return this.conn
      .stmt(
        `DELETE FROM sluice_processed WHERE topic = ? AND EXISTS (
           SELECT 1 FROM sluice_offsets o
           WHERE o.grp = sluice_processed.grp AND o.topic = sluice_processed.topic
             AND o.partition_index = sluice_processed.partition_index
             AND sluice_processed.event_offset < o.committed_offset)`,
      )
      .run(topic).changes;
  }

  private getSync(topic: string): Retention | null {
    const row = this.conn.stmt('SELECT retention FROM sluice_topics WHERE name = ?').get(topic) as
      | { retention: string | null }
      | undefined;
    return decodeRetention(row?.retention);
  }

  private require(topic: string): TopicRow {
    checkName('topic', topic);
    const t = this.conn.topic(topic);
    if (t === undefined) throw topicNotFound(topic);
    return t;
  }
}
