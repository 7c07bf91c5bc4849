// The pure retry decision shared by every engine: classification of an error into retry, rate limited or give up.
import { isSluiceError, isUnrecoverable } from '../../core/errors.ts';
import { isRateLimited, retryAfterMsOf } from '../../core/rateLimited.ts';
import type { Backoff } from '../Backoff.ts';
import type { AttemptDecision, GiveUpDecision, RetryPredicate } from './types.ts';

/** The settings a decision depends on (resolved, validated). */
export interface AttemptRules {
  /** Total attempts allowed, the first included (`Infinity` for no limit). */
  readonly attempts: number;
  readonly backoff: Backoff;
  readonly retryOn: RetryPredicate;
  /** Wait for a `RateLimitedError` that carries no `retryAfter`. */
  readonly rateLimitDelayMs: number;
}

/** The default `retryOn`: every error except a `SluiceError` whose `retryable` is `false`. */
export const defaultRetryOn: RetryPredicate = (error) => !(isSluiceError(error) && !error.retryable);

const GIVE_UP_UNRECOVERABLE: GiveUpDecision = { kind: 'give_up', reason: 'unrecoverable' };
const GIVE_UP_NOT_RETRYABLE: GiveUpDecision = { kind: 'give_up', reason: 'not_retryable' };
const GIVE_UP_EXHAUSTED: GiveUpDecision = { kind: 'give_up', reason: 'exhausted' };

/**
 * Decides what follows attempt number `attempt` (1-based) that threw `error`. Pure apart from the
 * backoff's random source; engines that schedule retries on their own timers call it directly.
 *
 * In this order:
 * 1. a `RateLimitedError` (code `RATE_LIMITED`, any realm) → `rate_limited` after its
 *    `retryAfter`, else `rules.rateLimitDelayMs`; never counted as a failed attempt, and
 *    `retryOn` is not asked;
 * 2. an `UnrecoverableError` (code `UNRECOVERABLE`) → give up, `unrecoverable`;
 * 3. `retryOn(error, attempt)` false (or throwing) → give up, `not_retryable` (the default
 *    `retryOn` refuses a `SluiceError` with `retryable: false`);
 * 4. `attempt >= attempts` → give up, `exhausted`;
 * 5. otherwise `retry` after `backoff.next(attempt, previousDelayMs)` (not finite or negative → 0).
 *
 * @throws whatever the backoff throws (a custom backoff returning a bad delay: `CONFIG_INVALID`).
 * @example
 * ```ts
 * const d = decideAttempt(rules, err, entry.attempts, entry.lastDelay);
 * if (d.kind === 'give_up') deadLetter(entry, d.reason);
 * else clock.setTimeout(() => requeue(entry), d.delayMs);
 * ```
 */
export function decideAttempt(
  rules: AttemptRules,
  error: unknown,
  attempt: number,
  previousDelayMs: number,
): AttemptDecision {
  if (isRateLimited(error)) {
    return { kind: 'rate_limited', delayMs: retryAfterMsOf(error) ?? rules.rateLimitDelayMs };
  }
  if (isUnrecoverable(error)) return GIVE_UP_UNRECOVERABLE;
  let retryable: boolean;
  try {
    retryable = rules.retryOn(error, attempt) === true;
  } catch {
    retryable = false;
  }
  if (!retryable) return GIVE_UP_NOT_RETRYABLE;
  if (attempt >= rules.attempts) return GIVE_UP_EXHAUSTED;
  const d = Number(rules.backoff.next(attempt, previousDelayMs));
  return { kind: 'retry', delayMs: Number.isFinite(d) && d > 0 ? d : 0 };
}
