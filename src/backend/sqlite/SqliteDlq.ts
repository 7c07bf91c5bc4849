// The SQLite dead-letter queue: put, get, list with filters and paging, replay into the log, purge.
import type { AppendInput, DeadLetter, DeadLetterInput, DlqFilter, DlqStore } from '../Backend.ts';
import { checkDlqFilter, checkName, prepareDeadLetter } from '../common/args.ts';
import { buildDeadLetter, replayEvent } from '../common/deadLetters.ts';
import { topicNotFound } from '../common/errors.ts';
import type { SqliteConnection } from './SqliteConnection.ts';

interface LetterRow {
  id: string;
  source: string;
  topic: string | null;
  partition_index: number | null;
  event_offset: number | null;
  key: string | null;
  payload: string;
  error: string;
  attempts: number;
  delivery_count: number;
  first_failed_at: number;
  last_failed_at: number;
}

/** Appends inside the current transaction; `undefined` when the topic does not exist. */
export type AppendInTransaction = (
  topic: string,
  events: readonly AppendInput[],
) => ReadonlySet<number> | undefined;

const COLUMNS = `id, source, topic, partition_index, event_offset, key, payload, error, attempts,
  delivery_count, first_failed_at, last_failed_at`;

/** The source/topic/ids part of a filter as one static condition (so one prepared statement serves all). */
const MATCH = `(@source IS NULL OR source = @source)
  AND (@topic IS NULL OR topic = @topic)
  AND (@ids IS NULL OR id IN (SELECT value FROM json_each(@ids)))`;

/** SQLite {@link DlqStore}. Part of {@link SqliteBackend}. */
export class SqliteDlq implements DlqStore {
  constructor(
    private readonly conn: SqliteConnection,
    private readonly appendInTransaction: AppendInTransaction,
  ) {}

  put(entry: DeadLetterInput): Promise<DeadLetter> {
    return this.conn.run('dlq.put', () => {
      const e = prepareDeadLetter(entry);
      const row = this.conn
        .stmt(
          `INSERT INTO sluice_dlq (${COLUMNS})
           VALUES (@id, @source, @topic, @partition, @offset, @key, @payload, @error, @attempts, 1, @now, @now)
           ON CONFLICT (id) DO UPDATE SET error = excluded.error, attempts = excluded.attempts,
             delivery_count = delivery_count + 1, last_failed_at = excluded.last_failed_at
           RETURNING ${COLUMNS}`,
        )
        .get({
          id: e.id,
          source: e.source,
          topic: e.topic ?? null,
          partition: e.partition ?? null,
          offset: e.offset ?? null,
          key: e.key ?? null,
          payload: e.payload,
          error: e.error,
          attempts: e.attempts,
          now: this.conn.clock.now(),
        }) as LetterRow;
      return toDeadLetter(row);
    });
  }

  list(filter?: DlqFilter): Promise<DeadLetter[]> {
    return this.conn.run('dlq.list', () => {
      const f = checkDlqFilter(filter);
      // A read transaction gives the cursor lookup and the page one consistent snapshot.
      const read = this.conn.db.transaction(() => {
        let cursorAt: number | null = null;
        if (f.after !== undefined) {
          const c = this.conn.stmt('SELECT first_failed_at FROM sluice_dlq WHERE id = ?').get(f.after) as
            | { first_failed_at: number }
            | undefined;
          if (c !== undefined) cursorAt = c.first_failed_at;
        }
        return this.conn
          .stmt(
            `SELECT ${COLUMNS} FROM sluice_dlq WHERE ${MATCH}
               AND (@cursorAt IS NULL OR first_failed_at > @cursorAt
                    OR (first_failed_at = @cursorAt AND id > @cursorId))
             ORDER BY first_failed_at, id LIMIT @limit`,
          )
          .all({ ...params(f), cursorAt, cursorId: f.after ?? null, limit: f.limit ?? -1 }) as LetterRow[];
      });
      return read.deferred().map(toDeadLetter);
    });
  }

  get(id: string): Promise<DeadLetter | undefined> {
    return this.conn.run('dlq.get', () => {
      const row = this.conn.stmt(`SELECT ${COLUMNS} FROM sluice_dlq WHERE id = ?`).get(id) as
        | LetterRow
        | undefined;
      return row === undefined ? undefined : toDeadLetter(row);
    });
  }

  count(filter?: DlqFilter): Promise<number> {
    return this.conn.run('dlq.count', () => {
      const f = checkDlqFilter(filter);
      const row = this.conn.stmt(`SELECT COUNT(*) AS n FROM sluice_dlq WHERE ${MATCH}`).get(params(f)) as {
        n: number;
      };
      return row.n;
    });
  }

  replay(filter: DlqFilter, options: { toTopic?: string } = {}): Promise<string[]> {
    return this.conn.run('dlq.replay', () => {
      const f = checkDlqFilter(filter);
      const toTopic = options.toTopic === undefined ? undefined : checkName('toTopic', options.toTopic);
      if (toTopic !== undefined && this.conn.topic(toTopic) === undefined) throw topicNotFound(toTopic);
      const ids = (
        this.conn
          .stmt(`SELECT id FROM sluice_dlq WHERE ${MATCH} ORDER BY first_failed_at, id`)
          .all(params(f)) as { id: string }[]
      ).map((r) => r.id);
      const replayed: string[] = [];
      for (const id of ids) {
        // One transaction per entry: append and delete together, or neither. The entry is read
        // again inside it because another process may have replayed or purged it meanwhile.
        const done = this.conn.write(() => {
          const row = this.conn.stmt(`SELECT ${COLUMNS} FROM sluice_dlq WHERE id = ?`).get(id) as
            | LetterRow
            | undefined;
          if (row === undefined) return undefined;
          const target = toTopic ?? row.topic;
          if (target === null) return undefined;
          const t = this.conn.topic(target);
          if (t === undefined) return undefined;
          const touched = this.appendInTransaction(target, [
            replayEvent(toDeadLetter(row), t.info.partitions),
          ]);
          if (touched === undefined) return undefined;
          this.conn.stmt('DELETE FROM sluice_dlq WHERE id = ?').run(id);
          return { target, touched };
        });
        if (done === undefined) continue;
        this.conn.notify(done.target, done.touched);
        replayed.push(id);
      }
      return replayed;
    });
  }

  purge(filter?: DlqFilter): Promise<number> {
    return this.conn.run('dlq.purge', () => {
      const f = checkDlqFilter(filter);
      return this.conn.stmt(`DELETE FROM sluice_dlq WHERE ${MATCH}`).run(params(f)).changes;
    });
  }
}

function params(f: DlqFilter): { source: string | null; topic: string | null; ids: string | null } {
  return {
    source: f.source ?? null,
    topic: f.topic ?? null,
    ids: f.ids === undefined ? null : JSON.stringify(f.ids),
  };
}

function toDeadLetter(r: LetterRow): DeadLetter {
  return buildDeadLetter({
    id: r.id,
    source: r.source,
    topic: r.topic,
    partition: r.partition_index,
    offset: r.event_offset,
    key: r.key,
    payload: r.payload,
    error: r.error,
    attempts: r.attempts,
    deliveryCount: r.delivery_count,
    firstFailedAt: r.first_failed_at,
    lastFailedAt: r.last_failed_at,
  });
}
