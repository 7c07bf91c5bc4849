// rateLimit and concurrencyLimit: the two limiter factories (local by default, shared with a backend).
import type { Limiter } from './Limiter.ts';
import { LocalConcurrencyLimiter } from './LocalConcurrencyLimiter.ts';
import { LocalRateLimiter } from './LocalRateLimiter.ts';
import {
  type ConcurrencyLimitOptions,
  concurrencySettings,
  type RateLimitOptions,
  rateSettings,
} from './options.ts';
import { SharedConcurrencyLimiter } from './SharedConcurrencyLimiter.ts';
import { SharedRateLimiter } from './SharedRateLimiter.ts';

/**
 * A rate limiter (GCRA): `rate` tokens per `per`, at most `burst` at once, one bucket per key.
 * Local by default; given a `backend` (and a `name`), every process using that backend and name
 * shares the buckets — each decision is one atomic backend call with `now` from `clock`.
 *
 * @throws SluiceError `CONFIG_INVALID` naming the field: `rate` <= 0, `per` unparsable or 0,
 *   `burst` < 1, a `backend` without a `name`.
 * @example
 * ```ts
 * import { rateLimit } from 'sluice';
 *
 * const api = rateLimit({ rate: 50, per: '1s', burst: 5, key: (o: { tenant: string }) => o.tenant });
 * const permit = api.tryAcquire('tenant-1') ?? (await api.acquire('tenant-1'));
 * await permit.release(); // a no-op for rate limiters
 * ```
 */
export function rateLimit<T = unknown>(options: RateLimitOptions<T>): Limiter<T> {
  const s = rateSettings(options as RateLimitOptions<never>);
  return s.store === undefined ? new LocalRateLimiter<T>(s) : new SharedRateLimiter<T>(s, s.store);
}

/**
 * A concurrency limiter: at most `max` slot weight held at once per key. Local by default (a
 * plain semaphore, waiters woken on release in arrival order). Given a `backend` (and a `name`),
 * the slots are leases shared by every process: a crashed holder's slot comes back after `ttl`,
 * live holders renew every `ttl / 3`.
 *
 * @throws SluiceError `CONFIG_INVALID` naming the field: `max` not an integer >= 1, `ttl`
 *   unparsable, a `backend` without a `name`.
 * @example
 * ```ts
 * import { concurrencyLimit } from 'sluice';
 *
 * const db = concurrencyLimit({ max: 3 });
 * const permit = db.tryAcquire() ?? (await db.acquire());
 * try {
 *   // at most 3 of these run at once
 * } finally {
 *   await permit.release();
 * }
 * ```
 */
export function concurrencyLimit<T = unknown>(options: ConcurrencyLimitOptions<T>): Limiter<T> {
  const s = concurrencySettings(options as ConcurrencyLimitOptions<never>);
  return s.store === undefined
    ? new LocalConcurrencyLimiter<T>(s)
    : new SharedConcurrencyLimiter<T>(s, s.store);
}
