// What a PostgreSQL backend's parts share: the pool, migration on first use, statements and transactions under the call deadline, topics, LISTEN.
import pg from 'pg';
import type { Clock } from '../../core/Clock.ts';
import { abortError, throwIfAborted } from '../../core/errors.ts';
import type { LogEvent, TopicInfo } from '../Backend.ts';
import { type CallDeadline, withCallDeadline } from '../common/callDeadline.ts';
import { closedError } from '../common/errors.ts';
import { migratePg, quoteIdent } from './migrations.ts';
import { PgListener, type ReconnectDelays } from './PgListener.ts';
import { destroyHungClient } from './pgDeadline.ts';
import { isConnectionError, KIND, mapPgError, pgEndpoint } from './pgErrors.ts';
import { hintEvents } from './pgNotifyEvents.ts';

/** A topic as stored: its id and partition count (both immutable once created). */
export interface PgTopic {
  readonly topicId: number;
  readonly info: TopicInfo;
}

interface TopicRow {
  topic_id: number;
  partitions: number;
}

const TOPIC_SQL = (s: string) => `SELECT topic_id, partitions FROM ${s}.topics WHERE name = $1`;

/** What runs SQL: the pool (one statement, autocommit) or a client inside a transaction. */
export type PgQueryable = Pick<pg.ClientBase, 'query'>;

/** Settings of a {@link PgConnection}, already validated. */
export interface PgConnectionSettings {
  readonly clientConfig: pg.PoolConfig;
  readonly schema: string;
  readonly clock: Clock;
  readonly notify: boolean;
  readonly reconnect: ReconnectDelays;
  /** Deadline of one call (statement or transaction, connection wait included), in ms. */
  readonly callTimeoutMs: number;
}

/**
 * What the parts of a PostgreSQL backend share: the pool, the schema, migration on first use,
 * one-statement and transactional execution with abort and error mapping, the topic cache and
 * the `LISTEN` connection for watchers.
 */
export class PgConnection {
  readonly kind = KIND;
  readonly pool: pg.Pool;
  /** The schema name. */
  readonly schema: string;
  /** The quoted schema identifier, to prefix table names in SQL. */
  readonly s: string;
  /** The notification channel of this schema. */
  readonly channel: string;
  readonly clock: Clock;
  readonly notifyEnabled: boolean;
  /** `host:port/database`, named in connection and login errors. */
  readonly endpoint: string;
  /** Migration versions applied by this instance (empty when the schema was already current). */
  applied: readonly number[] = [];

  private closing: Promise<void> | undefined;
  private readyPromise: Promise<void> | undefined;
  private readonly topics = new Map<string, PgTopic>();
  private readonly watchers = new Map<string, Set<PgAppendListener>>();
  private listenerInstance: PgListener | undefined;
  private readonly deadline: CallDeadline;

  constructor(private readonly settings: PgConnectionSettings) {
    this.schema = settings.schema;
    this.s = quoteIdent(settings.schema);
    this.channel = `${settings.schema}.append`;
    this.clock = settings.clock;
    this.notifyEnabled = settings.notify;
    this.endpoint = pgEndpoint(settings.clientConfig);
    this.deadline = { kind: KIND, ms: settings.callTimeoutMs, endpoint: this.endpoint };
    this.pool = new pg.Pool(settings.clientConfig);
    // Idle clients that lose their connection (server restart) are discarded by the pool; this
    // listener only keeps their error from becoming an uncaught exception.
    this.pool.on('error', () => {});
  }

  /** Whether {@link close} was called. */
  get isClosed(): boolean {
    return this.closing !== undefined;
  }

  /** The `LISTEN` connection, once a watcher exists. */
  get listener(): PgListener | undefined {
    return this.listenerInstance;
  }

  /** Rejects with `CLOSED` after {@link close}. */
  ensureOpen(): void {
    if (this.closing !== undefined) throw closedError(this.kind);
  }

  /**
   * Migrates the schema once per instance. A failed attempt (e.g. server unreachable) is
   * forgotten so the next operation tries again.
   */
  ready(): Promise<void> {
    if (this.readyPromise === undefined) {
      const attempt = this.migrate();
      this.readyPromise = attempt;
      attempt.catch(() => {
        if (this.readyPromise === attempt) this.readyPromise = undefined;
      });
    }
    return this.readyPromise;
  }

  /**
   * Runs one statement on the pool (autocommit). A read aborted through `signal` rejects with
   * `ABORTED` at once (the statement finishes in the background); pass `abortable: false` for
   * writes, whose outcome must be awaited. Answers within the call deadline or rejects with
   * `BACKEND_UNAVAILABLE` (the pool destroys the client once its `query_timeout` fires).
   */
  async query<R extends pg.QueryResultRow>(
    what: string,
    text: string,
    values: readonly unknown[],
    signal?: AbortSignal,
    abortable = true,
  ): Promise<pg.QueryResult<R>> {
    this.ensureOpen();
    throwIfAborted(signal, what);
    try {
      const pending = withCallDeadline(this.deadline, what, async () => {
        await this.ready();
        throwIfAborted(signal, what);
        return this.pool.query<R>(text, values as unknown[]);
      });
      return await (abortable ? raceAbort(pending, signal, what) : pending);
    } catch (e) {
      throw mapPgError(e, what, this.endpoint);
    }
  }

  /**
   * Runs `fn` in a transaction on one client. An abort before `COMMIT` rolls back and rejects
   * with `ABORTED`; once `COMMIT` is sent the outcome is awaited. A client whose connection
   * failed is destroyed rather than returned to the pool. The whole transaction (connection wait
   * included) answers within the call deadline; past it the call rejects with
   * `BACKEND_UNAVAILABLE` and the client's socket is destroyed, so a hung transaction never
   * holds a pooled connection.
   */
  async tx<T>(
    what: string,
    signal: AbortSignal | undefined,
    fn: (client: PgQueryable) => Promise<T>,
  ): Promise<T> {
    this.ensureOpen();
    throwIfAborted(signal, what);
    let client: pg.PoolClient | undefined;
    let expired: Error | undefined;
    const run = async (): Promise<T> => {
      let broken: unknown;
      const onError = (e: unknown) => {
        broken ??= e;
      };
      try {
        await this.ready();
        client = await raceAbort(this.pool.connect(), signal, what, (c) => c.release());
        client.on('error', onError);
        // The deadline passed while waiting for the connection: do not start the transaction.
        if (expired) throw expired;
        await client.query('BEGIN');
        const result = await fn(client);
        if (signal?.aborted) throw abortError(signal, what);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        if (client !== undefined && broken === undefined && expired === undefined && !isConnectionError(e)) {
          await client.query('ROLLBACK').catch((err: unknown) => {
            broken = err;
          });
        }
        if (isConnectionError(e)) broken ??= e;
        throw mapPgError(e, what, this.endpoint);
      } finally {
        if (client !== undefined) {
          client.removeListener('error', onError);
          client.release(broken === undefined && expired === undefined ? undefined : true);
        }
      }
    };
    return withCallDeadline(this.deadline, what, run, () => {
      expired = new Error('call deadline missed');
      destroyHungClient(client);
    });
  }

  /** The stored topic, from the cache or the database (topics are never altered or dropped). */
  async topic(what: string, name: string, signal?: AbortSignal): Promise<PgTopic | undefined> {
    const cached = this.topics.get(name);
    if (cached !== undefined) {
      this.ensureOpen();
      throwIfAborted(signal, what);
      return cached;
    }
    const { rows } = await this.query<TopicRow>(what, TOPIC_SQL(this.s), [name], signal);
    return this.cacheTopic(name, rows[0]);
  }

  /** The topic when this instance has already seen it (no query). */
  cachedTopic(name: string): PgTopic | undefined {
    return this.topics.get(name);
  }

  /** {@link topic} inside a transaction on `db` (errors are mapped by the transaction). */
  async topicIn(db: PgQueryable, name: string): Promise<PgTopic | undefined> {
    const cached = this.topics.get(name);
    if (cached !== undefined) return cached;
    const { rows } = await db.query<TopicRow>(TOPIC_SQL(this.s), [name]);
    return this.cacheTopic(name, rows[0]);
  }

  private cacheTopic(name: string, row: TopicRow | undefined): PgTopic | undefined {
    if (row === undefined) return undefined;
    const t: PgTopic = { topicId: row.topic_id, info: { topic: name, partitions: row.partitions } };
    this.topics.set(name, t);
    return t;
  }

  /** Subscribes to append notifications of `topic`; starts the `LISTEN` connection on first use. */
  watch(topic: string, onAppend: PgAppendListener): () => void {
    this.ensureOpen();
    let set = this.watchers.get(topic);
    if (set === undefined) this.watchers.set(topic, (set = new Set()));
    const entry: PgAppendListener = (p, events) => onAppend(p, events);
    set.add(entry);
    if (this.listenerInstance === undefined) {
      this.listenerInstance = new PgListener(
        this.settings.clientConfig,
        this.channel,
        this.clock,
        this.settings.reconnect,
        (payload) => this.dispatch(payload),
      );
      this.listenerInstance.start();
    }
    return () => {
      const s = this.watchers.get(topic);
      if (s === undefined) return;
      s.delete(entry);
      if (s.size === 0) this.watchers.delete(topic);
    };
  }

  /** Waits for a `LISTEN` connection being set up, so local watchers see the next append. */
  async listenerSettled(): Promise<void> {
    if (this.listenerInstance !== undefined) await this.listenerInstance.settled();
  }

  /** Closes the listener and the pool; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.watchers.clear();
      await this.listenerInstance?.close();
      await this.pool.end().catch(() => {});
    })();
    return this.closing;
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    let broken: unknown;
    const onError = (e: unknown) => {
      broken ??= e;
    };
    client.on('error', onError);
    try {
      this.applied = await migratePg(client, this.schema, this.clock.now());
    } catch (e) {
      if (isConnectionError(e)) broken ??= e;
      throw e;
    } finally {
      client.removeListener('error', onError);
      client.release(broken === undefined ? undefined : true);
    }
  }

  /**
   * Delivers a notification payload `"<partition>,<partition>,...:<topic>"` to the topic's
   * watchers, with the events it carries (see `pgNotifyEvents.ts`) when there are some.
   */
  private dispatch(payload: string): void {
    const colon = payload.indexOf(':');
    if (colon < 0) return;
    const topic = payload.slice(colon + 1);
    const set = this.watchers.get(topic);
    if (set === undefined || set.size === 0) return;
    const listeners = [...set];
    const parts = payload.slice(0, colon).split(',');
    const last = parts[parts.length - 1] ?? '';
    // Each listener decodes its own copy: a handler that changes its event cannot touch another's.
    const carried = last.startsWith('~') ? last : undefined;
    const decoded = listeners.map((): Map<number, LogEvent[]> | undefined =>
      carried === undefined ? undefined : hintEvents(topic, carried),
    );
    for (const part of parts) {
      const p = Number(part);
      if (!Number.isSafeInteger(p) || part === '') continue;
      for (const [i, fn] of listeners.entries()) {
        if (!set.has(fn)) continue;
        try {
          fn(p, decoded[i]?.get(p));
        } catch (e) {
          console.error(e);
        }
      }
    }
  }
}

/** A watcher of a topic's appends: the partition, and the events appended to it when the notification carried them. */
export type PgAppendListener = (partition: number, events?: readonly LogEvent[]) => void;

/** Notification payloads for an append that touched `partitions` of `topic`, each under PostgreSQL's 8000-byte limit. */
export function notificationPayloads(topic: string, partitions: Iterable<number>): string[] {
  const suffix = `:${topic}`;
  const budget = 7900 - Buffer.byteLength(suffix);
  const out: string[] = [];
  // A topic name this long cannot be announced; watchers of it rely on polling alone.
  if (budget < 16) return out;
  let current = '';
  for (const p of partitions) {
    const piece = current === '' ? String(p) : `,${p}`;
    if (current !== '' && current.length + piece.length > budget) {
      out.push(current + suffix);
      current = String(p);
    } else current += piece;
  }
  if (current !== '') out.push(current + suffix);
  return out;
}

/**
 * Resolves or rejects like `p`, or rejects with `ABORTED` as soon as `signal` aborts. A value
 * that arrives after the abort is handed to `dispose` (e.g. to release a pooled client).
 */
function raceAbort<T>(
  p: Promise<T>,
  signal: AbortSignal | undefined,
  what: string,
  dispose?: (value: T) => void,
): Promise<T> {
  if (signal === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      reject(abortError(signal, what));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        if (settled) dispose?.(v);
        else {
          settled = true;
          resolve(v);
        }
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!settled) {
          settled = true;
          reject(e);
        }
      },
    );
  });
}
