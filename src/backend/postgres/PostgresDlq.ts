// The PostgreSQL dead-letter queue: put, get, list with filters and paging, replay into the log, purge.
import type { DeadLetter, DeadLetterInput, DlqFilter, DlqStore } from '../Backend.ts';
import { checkDlqFilter, checkName, prepareDeadLetter, prepareEvents } from '../common/args.ts';
import { buildDeadLetter, replayEvent } from '../common/deadLetters.ts';
import { topicNotFound } from '../common/errors.ts';
import { insertEvents, isDuplicateIdRace } from './appendEvents.ts';
import type { PgConnection } from './PgConnection.ts';

interface LetterRow {
  id: string;
  source: string;
  topic: string | null;
  partition: number | null;
  event_offset: string | null;
  key: string | null;
  payload: string;
  error: string;
  attempts: number;
  delivery_count: number;
  first_failed_at: string;
  last_failed_at: string;
}

const COLUMNS = `id, source, topic, partition, event_offset, key, payload::text AS payload,
  error::text AS error, attempts, delivery_count, first_failed_at, last_failed_at`;

/**
 * PostgreSQL {@link DlqStore}. `put` is one upsert; `replay` moves each entry in its own
 * transaction (delete the entry, append the event, notify), so an entry is replayed once even
 * when several processes replay at the same time. Part of {@link PostgresBackend}.
 */
export class PostgresDlq implements DlqStore {
  constructor(private readonly conn: PgConnection) {}

  async put(entry: DeadLetterInput): Promise<DeadLetter> {
    this.conn.ensureOpen();
    const e = prepareDeadLetter(entry);
    const { rows } = await this.conn.query<LetterRow>(
      'dlq.put',
      `INSERT INTO ${this.conn.s}.dlq AS d (id, source, topic, partition, event_offset, key, payload, error,
         attempts, delivery_count, first_failed_at, last_failed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::json, $8::json, $9, 1, $10, $10)
       ON CONFLICT (id) DO UPDATE SET error = excluded.error, attempts = excluded.attempts,
         delivery_count = d.delivery_count + 1, last_failed_at = excluded.last_failed_at
       RETURNING ${COLUMNS}`,
      [
        e.id,
        e.source,
        e.topic ?? null,
        e.partition ?? null,
        e.offset ?? null,
        e.key ?? null,
        e.payload,
        e.error,
        e.attempts,
        this.conn.clock.now(),
      ],
      undefined,
      false,
    );
    return toDeadLetter(rows[0]!);
  }

  async list(filter?: DlqFilter): Promise<DeadLetter[]> {
    this.conn.ensureOpen();
    const f = checkDlqFilter(filter);
    const where = matchClause(f, []);
    const params = where.params;
    let cursor = '';
    if (f.after !== undefined) {
      params.push(f.after);
      const p = `$${params.length}`;
      // Start after the cursor entry in list order; from the beginning when it no longer exists.
      cursor = ` AND (NOT EXISTS (SELECT 1 FROM ${this.conn.s}.dlq c WHERE c.id = ${p})
        OR (first_failed_at, id) > (SELECT c.first_failed_at, c.id FROM ${this.conn.s}.dlq c WHERE c.id = ${p}))`;
    }
    let limit = '';
    if (f.limit !== undefined) {
      params.push(f.limit);
      limit = ` LIMIT $${params.length}`;
    }
    const { rows } = await this.conn.query<LetterRow>(
      'dlq.list',
      `SELECT ${COLUMNS} FROM ${this.conn.s}.dlq WHERE ${where.sql}${cursor}
       ORDER BY first_failed_at, id${limit}`,
      params,
    );
    return rows.map(toDeadLetter);
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    this.conn.ensureOpen();
    const { rows } = await this.conn.query<LetterRow>(
      'dlq.get',
      `SELECT ${COLUMNS} FROM ${this.conn.s}.dlq WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    return row === undefined ? undefined : toDeadLetter(row);
  }

  async count(filter?: DlqFilter): Promise<number> {
    this.conn.ensureOpen();
    const where = matchClause(checkDlqFilter(filter), []);
    const { rows } = await this.conn.query<{ n: string }>(
      'dlq.count',
      `SELECT count(*) AS n FROM ${this.conn.s}.dlq WHERE ${where.sql}`,
      where.params,
    );
    return Number(rows[0]!.n);
  }

  async replay(filter: DlqFilter, options: { toTopic?: string } = {}): Promise<string[]> {
    this.conn.ensureOpen();
    const f = checkDlqFilter(filter);
    const toTopic = options.toTopic === undefined ? undefined : checkName('toTopic', options.toTopic);
    if (toTopic !== undefined) {
      const t = await this.conn.query<{ n: string }>(
        'dlq.replay',
        `SELECT count(*) AS n FROM ${this.conn.s}.topics WHERE name = $1`,
        [toTopic],
      );
      if (Number(t.rows[0]!.n) === 0) throw topicNotFound(toTopic);
    }
    const where = matchClause(f, []);
    const candidates = await this.conn.query<{ id: string }>(
      'dlq.replay',
      `SELECT id FROM ${this.conn.s}.dlq WHERE ${where.sql} ORDER BY first_failed_at, id`,
      where.params,
    );
    const replayed: string[] = [];
    for (const { id } of candidates.rows) {
      if (await this.replayOne(id, toTopic)) replayed.push(id);
    }
    return replayed;
  }

  async purge(filter?: DlqFilter): Promise<number> {
    this.conn.ensureOpen();
    const where = matchClause(checkDlqFilter(filter), []);
    const r = await this.conn.query(
      'dlq.purge',
      `DELETE FROM ${this.conn.s}.dlq WHERE ${where.sql}`,
      where.params,
      undefined,
      false,
    );
    return r.rowCount ?? 0;
  }

  /**
   * Moves one entry back to its topic (or `toTopic`) in one transaction. Returns false when the
   * entry is gone (replayed or purged concurrently) or has no existing target topic (left in place).
   */
  private async replayOne(id: string, toTopic: string | undefined): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.conn.tx('dlq.replay', undefined, async (db) => {
          const { rows } = await db.query<LetterRow>(
            `SELECT ${COLUMNS} FROM ${this.conn.s}.dlq WHERE id = $1 FOR UPDATE`,
            [id],
          );
          const row = rows[0];
          if (row === undefined) return false;
          const entry = toDeadLetter(row);
          const target = toTopic ?? entry.topic;
          if (target === undefined) return false;
          const t = await this.conn.topicIn(db, target);
          if (t === undefined) return false;
          const prepared = prepareEvents([replayEvent(entry, t.info.partitions)], t.info.partitions);
          await insertEvents(this.conn, db, t, prepared);
          await db.query(`DELETE FROM ${this.conn.s}.dlq WHERE id = $1`, [id]);
          return true;
        });
      } catch (e) {
        if (attempt < 3 && isDuplicateIdRace(e)) continue;
        throw e;
      }
    }
  }
}

/** The source/topic/ids part of a filter as SQL with numbered parameters (`TRUE` when empty). */
function matchClause(f: DlqFilter, params: unknown[]): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  if (f.source !== undefined) {
    params.push(f.source);
    parts.push(`source = $${params.length}`);
  }
  if (f.topic !== undefined) {
    params.push(f.topic);
    parts.push(`topic = $${params.length}`);
  }
  if (f.ids !== undefined) {
    params.push([...f.ids]);
    parts.push(`id = ANY($${params.length}::text[])`);
  }
  return { sql: parts.length === 0 ? 'TRUE' : parts.join(' AND '), params };
}

function toDeadLetter(row: LetterRow): DeadLetter {
  return buildDeadLetter({
    id: row.id,
    source: row.source,
    topic: row.topic,
    partition: row.partition,
    offset: row.event_offset === null ? null : Number(row.event_offset),
    key: row.key,
    payload: row.payload,
    error: row.error,
    attempts: row.attempts,
    deliveryCount: row.delivery_count,
    firstFailedAt: Number(row.first_failed_at),
    lastFailedAt: Number(row.last_failed_at),
  });
}
