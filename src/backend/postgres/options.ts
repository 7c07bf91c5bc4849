// Options of the PostgreSQL backend, their checks, and the pool settings (timeouts, deadline) derived from them.
import type pg from 'pg';
import { z } from 'zod';
import { type Clock, systemClock } from '../../core/Clock.ts';
import { validate } from '../../core/validate.ts';
import { DEFAULT_CALL_TIMEOUT_MS } from '../common/callDeadline.ts';
import type { PgConnectionSettings } from './PgConnection.ts';

/** Options of {@link PostgresBackend}. */
export interface PostgresBackendOptions {
  /** `postgres://user:password@host:port/database`. Without it, `pool` or the `PG*` environment variables say where to connect. */
  connectionString?: string;
  /**
   * Options of the `pg` connection pool (`host`, `port`, `user`, `password`, `database`, `ssl`,
   * `max` (default 2: with the one `LISTEN` connection, at most 3 connections per backend), `idleTimeoutMillis`, ...). The `LISTEN` connection uses the same settings.
   */
  pool?: pg.PoolConfig;
  /**
   * The schema holding Sluice's tables, created when missing. Default `"sluice"`. Lowercase
   * letters, digits and `_`, at most 48 characters. Separate schemas are separate, isolated stores.
   */
  schema?: string;
  /** The time source for timestamps, lease expiry and heartbeats. Default `systemClock`. */
  clock?: Clock;
  /**
   * Send a `pg_notify` wake-up with each append, for `watch()` in any process. Default `true`.
   * With `false`, appends cost one notification less and watchers only hear other processes'.
   */
  notify?: boolean;
  /**
   * Deadline of every backend call in ms: the whole call — waiting for a connection, its
   * statements, a transaction up to `COMMIT` — answers or rejects with `BACKEND_UNAVAILABLE`
   * within it; a connection that missed it is destroyed, never reused. Also the default of
   * `queryTimeoutMs` (pg `query_timeout`) and the server's `statement_timeout`, and the upper
   * bound of `connectionTimeoutMs`. Default 10000.
   */
  callTimeoutMs?: number;
  /** How long to wait for a connection (new or from the busy pool) before `BACKEND_UNAVAILABLE`. Default 5000 (at most `callTimeoutMs`). */
  connectionTimeoutMs?: number;
  /** How long to wait for a statement's answer before giving up on the connection (`BACKEND_UNAVAILABLE`). Default `callTimeoutMs`. */
  queryTimeoutMs?: number;
  /**
   * The server ends a session that stays idle inside a transaction this long (PostgreSQL's
   * `idle_in_transaction_session_timeout`), releasing its locks: a process frozen in the middle
   * of an append (SIGSTOP, a long GC pause, a debugger) must not block every other process.
   * Sluice's own transactions are a few statements long. Default 5000; 0 disables it.
   */
  idleInTransactionTimeoutMs?: number;
  /** Reconnection delays of the `LISTEN` connection after it is lost. Default `{ initialMs: 100, maxMs: 5000 }`. */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** `application_name` of the connections (visible in `pg_stat_activity`). Default `"sluice"`. */
  applicationName?: string;
}

/** Largest schema name length: the notification channel `<schema>.append` must fit in 63 bytes. */
export const MAX_SCHEMA_LENGTH = 48;

const optionsSchema = z.object({
  connectionString: z.string().min(1, 'a non-empty connection string').optional(),
  pool: z
    .custom<pg.PoolConfig>((v) => typeof v === 'object' && v !== null, 'an object of pg pool options')
    .optional(),
  schema: z
    .string()
    .regex(
      new RegExp(`^[a-z_][a-z0-9_]{0,${MAX_SCHEMA_LENGTH - 1}}$`),
      `a schema name of lowercase letters, digits and _ (at most ${MAX_SCHEMA_LENGTH} characters)`,
    )
    .optional(),
  clock: z
    .custom<Clock>(
      (v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function',
      'a Clock (an object with now())',
    )
    .optional(),
  notify: z.boolean().optional(),
  callTimeoutMs: z.number().int().min(1, 'an integer >= 1').optional(),
  connectionTimeoutMs: z.number().int().min(1, 'an integer >= 1').optional(),
  queryTimeoutMs: z.number().int().min(1, 'an integer >= 1').optional(),
  idleInTransactionTimeoutMs: z.number().int().min(0, 'an integer >= 0').optional(),
  reconnect: z
    .object({
      initialMs: z.number().int().min(1, 'an integer >= 1').optional(),
      maxMs: z.number().int().min(1, 'an integer >= 1').optional(),
    })
    .optional(),
  applicationName: z.string().optional(),
});

/** Validates the options (`CONFIG_INVALID` naming the field) and derives the connection settings. */
export function resolveOptions(options: PostgresBackendOptions): PgConnectionSettings {
  const o = validate(optionsSchema, options, 'PostgresBackend');
  const initialMs = o.reconnect?.initialMs ?? 100;
  const maxMs = Math.max(initialMs, o.reconnect?.maxMs ?? 5000);
  const callTimeoutMs = o.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const clientConfig: pg.PoolConfig = {
    max: 2,
    ...o.pool,
    connectionTimeoutMillis: Math.min(
      o.connectionTimeoutMs ?? o.pool?.connectionTimeoutMillis ?? 5000,
      callTimeoutMs,
    ),
    query_timeout: o.queryTimeoutMs ?? o.pool?.query_timeout ?? callTimeoutMs,
    statement_timeout: o.pool?.statement_timeout ?? callTimeoutMs,
    keepAlive: o.pool?.keepAlive ?? true,
    application_name: o.applicationName ?? o.pool?.application_name ?? 'sluice',
    idle_in_transaction_session_timeout:
      o.idleInTransactionTimeoutMs ?? o.pool?.idle_in_transaction_session_timeout ?? 5000,
  };
  if (o.connectionString !== undefined) clientConfig.connectionString = o.connectionString;
  return {
    clientConfig,
    schema: o.schema ?? 'sluice',
    clock: o.clock ?? systemClock,
    notify: o.notify ?? true,
    reconnect: { initialMs, maxMs },
    callTimeoutMs,
  };
}
