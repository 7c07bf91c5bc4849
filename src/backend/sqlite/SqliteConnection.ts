// The SQLite backend's one connection: prepared statements, transactions, busy handling and the topic cache.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Clock } from '../../core/Clock.ts';
import { isSluiceError } from '../../core/errors.ts';
import type { TopicInfo } from '../Backend.ts';
import { closedError, unavailableError } from '../common/errors.ts';
import { LocalWatchers } from '../common/LocalWatchers.ts';
import { migrate } from './migrations.ts';

/** A topic as stored: its row id and partition count (both immutable once created). */
export interface TopicRow {
  readonly topicId: number;
  readonly info: TopicInfo;
}

/** SQLite result codes that mean "try again later" rather than a bug or corruption. */
const TRANSIENT = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|PROTOCOL)/;

/**
 * The one connection of a {@link SqliteBackend} and what its parts share: prepared-statement
 * cache, IMMEDIATE write transactions, error mapping, the topic cache and in-process watchers.
 */
export class SqliteConnection {
  readonly kind = 'sqlite';
  readonly db: BetterSqlite3.Database;
  private closed = false;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly topics = new Map<string, TopicRow>();
  private readonly watchers = new LocalWatchers();
  private readonly immediate: { immediate(fn: () => unknown): unknown };

  constructor(
    readonly path: string,
    readonly clock: Clock,
    busyTimeoutMs: number,
  ) {
    let db: BetterSqlite3.Database | undefined;
    try {
      // The folder of the file is created, as `sluice run` does for `.sluice/sluice.db`.
      if (path !== ':memory:' && path !== '' && !path.startsWith('file:'))
        mkdirSync(dirname(path), { recursive: true });
      db = new BetterSqlite3(path, { timeout: busyTimeoutMs });
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db, clock.now());
    } catch (e) {
      db?.close();
      throw this.mapError(e, 'open');
    }
    this.db = db;
    this.immediate = db.transaction((fn: () => unknown) => fn());
  }

  /** Runs `fn` (synchronous SQL) as one operation: checks the connection is open, maps errors. */
  async run<T>(what: string, fn: () => T): Promise<T> {
    if (this.closed) throw closedError(this.kind);
    try {
      return fn();
    } catch (e) {
      throw this.mapError(e, what);
    }
  }

  /** Runs `fn` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front. */
  write<T>(fn: () => T): T {
    return this.immediate.immediate(fn) as T;
  }

  /** A cached prepared statement. */
  stmt(sql: string): BetterSqlite3.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** The stored topic, from the cache or the database (topics are never altered or dropped). */
  topic(name: string): TopicRow | undefined {
    const cached = this.topics.get(name);
    if (cached !== undefined) return cached;
    const row = this.stmt('SELECT topic_id, partitions FROM sluice_topics WHERE name = ?').get(name) as
      | { topic_id: number; partitions: number }
      | undefined;
    if (row === undefined) return undefined;
    const t: TopicRow = { topicId: row.topic_id, info: { topic: name, partitions: row.partitions } };
    this.topics.set(name, t);
    return t;
  }

  /** Subscribes to appends made through this connection. */
  watch(topic: string, onAppend: (partition: number) => void): () => void {
    if (this.closed) throw closedError(this.kind);
    return this.watchers.watch(topic, onAppend);
  }

  /** Tells watchers of `topic` about committed appends, on the next microtask. */
  notify(topic: string, partitions: ReadonlySet<number>): void {
    this.watchers.notify(topic, partitions);
  }

  /** Closes the connection; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watchers.clear();
    this.statements.clear();
    this.db.close();
  }

  /** Whether {@link close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  private mapError(e: unknown, what: string): unknown {
    if (isSluiceError(e)) return e;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT.test(code)) return unavailableError(this.kind, e, what);
    return e;
  }
}
