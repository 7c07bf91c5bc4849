// RateLimitedError (code RATE_LIMITED) and its cross-realm guard isRateLimited.
import { type Duration, parseDuration } from './duration.ts';
import { isSluiceError, SluiceError } from './errors.ts';

/** Options of {@link RateLimitedError}. */
export interface RateLimitedErrorOptions {
  /** How long to wait before trying again (ms or a duration string). Absent: the caller's default. */
  retryAfter?: Duration;
  /** Message; default `"Rate limited"` (with the delay when known). */
  message?: string;
  /** The underlying error (e.g. the HTTP response error). */
  cause?: unknown;
  /** Structured context; `retryAfterMs` is added to it so the delay survives serialization. */
  context?: Record<string, unknown>;
}

/**
 * Thrown by work that was refused for now by a rate limit (HTTP 429/503, a quota). Not a failure:
 * the attempt primitive waits `retryAfter` (or its default) and tries again without counting a
 * failed attempt. Code `RATE_LIMITED`, always `retryable`.
 *
 * @throws SluiceError `CONFIG_INVALID` naming `retryAfter` when it is not a duration.
 * @example
 * ```ts
 * if (res.status === 429) throw new RateLimitedError({ retryAfter: '2s' });
 * ```
 */
export class RateLimitedError extends SluiceError {
  /** The delay asked for, in ms, or `undefined` when the thrower did not say. */
  readonly retryAfterMs: number | undefined;

  constructor(options: RateLimitedErrorOptions = {}) {
    const ms = options.retryAfter === undefined ? undefined : parseDuration(options.retryAfter, 'retryAfter');
    const message =
      options.message ?? (ms === undefined ? 'Rate limited' : `Rate limited; retry after ${ms} ms`);
    super('RATE_LIMITED', message, {
      retryable: true,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      context: ms === undefined ? { ...options.context } : { ...options.context, retryAfterMs: ms },
    });
    this.name = 'RateLimitedError';
    this.retryAfterMs = ms;
  }
}

/**
 * True when `e` is (or looks like) a {@link RateLimitedError}: a Sluice error shape with code
 * `RATE_LIMITED`. Works across realms (worker threads, deserialized errors): it checks the shape,
 * not the prototype.
 */
export function isRateLimited(e: unknown): e is RateLimitedError {
  return isSluiceError(e) && e.code === 'RATE_LIMITED';
}

/**
 * The delay a rate-limited error asks for, in ms: its `retryAfterMs`, else `context.retryAfterMs`
 * (what survives serialization), else `undefined`. Invalid values (negative, not finite) count as
 * absent.
 */
export function retryAfterMsOf(e: RateLimitedError): number | undefined {
  const own = (e as { retryAfterMs?: unknown }).retryAfterMs;
  const v = own ?? (e.context as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}
