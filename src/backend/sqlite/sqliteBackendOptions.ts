// Options of the SQLite backend and their validation.
import { z } from 'zod';
import { type Clock, systemClock } from '../../core/Clock.ts';
import { validate } from '../../core/validate.ts';

/** Options of {@link SqliteBackend}. */
export interface SqliteBackendOptions {
  /** Database file (created when missing), or `":memory:"` for a private in-memory database. */
  path: string;
  /** The time source for timestamps, lease expiry and heartbeats. Default `systemClock`. */
  clock?: Clock;
  /** How long a write waits for another process's lock before `BACKEND_UNAVAILABLE`. Default 5000. */
  busyTimeoutMs?: number;
}

const optionsSchema = z.object({
  path: z.string().min(1, 'a non-empty file path'),
  clock: z
    .custom<Clock>(
      (v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function',
      'a Clock (an object with now())',
    )
    .optional(),
  busyTimeoutMs: z.number().int().min(0).optional(),
});

/** Validated options with their defaults applied. */
export interface ParsedSqliteOptions {
  readonly path: string;
  readonly clock: Clock;
  readonly busyTimeoutMs: number;
}

/** Validates {@link SqliteBackendOptions}; `CONFIG_INVALID` naming the field otherwise. */
export function parseSqliteOptions(options: SqliteBackendOptions): ParsedSqliteOptions {
  const opts = validate(optionsSchema, options, 'SqliteBackend');
  return { path: opts.path, clock: opts.clock ?? systemClock, busyTimeoutMs: opts.busyTimeoutMs ?? 5000 };
}
