// Public names of flow control: rate and concurrency limiters, parking, Retry-After.
export { type GateReleaseFn, type GateSettled, limiterGate } from './gate.ts';
export type {
  Limiter,
  LimiterAcquireOptions,
  LimiterEvents,
  LimiterKind,
  LimiterScope,
  LimiterState,
  LimiterStats,
  Permit,
} from './Limiter.ts';
export { type ConcurrencyLimitOptions, parseRate, type RateLimitOptions } from './options.ts';
export { concurrencyLimit, rateLimit } from './rateLimit.ts';
export { parseRetryAfter, type ResponseLike, retryAfterFromResponse } from './retryAfter.ts';
