// retry(): the throwing face of the attempt primitive (RetryPolicy, its options and events).
import { z } from 'zod';
import type { Clock } from '../core/Clock.ts';
import type { Duration } from '../core/duration.ts';
import { isSluiceError, SluiceError, toError } from '../core/errors.ts';
import { TypedEmitter } from '../core/events.ts';
import { validate } from '../core/validate.ts';
import { AttemptPolicy } from './attempt/AttemptPolicy.ts';
import type {
  AttemptContext,
  AttemptExecuteOptions,
  GiveUpInfo,
  GiveUpReason,
  RetryInfo,
  RetryPredicate,
} from './attempt/types.ts';
import type { BackoffSpec } from './backoffFactories.ts';

export { defaultRetryOn } from './attempt/decide.ts';
export type { GiveUpReason, RetryPredicate } from './attempt/types.ts';

/** What a retried function receives. */
export type RetryContext = AttemptContext;

/** Options of {@link retry}. */
export interface RetryOptions {
  /**
   * Total number of calls, the first one included: `attempts: 3` is one call and up to two
   * retries. An integer `>= 1`, or `Infinity` to retry until success or abort. A call refused
   * with a `RateLimitedError` is not counted: it is repeated after its `retryAfter`.
   */
  attempts: number;
  /** Delay between attempts. Default `'exponential'` (1s doubling to 1m, full jitter). */
  backoff?: BackoffSpec;
  /**
   * Which errors are retried. `UnrecoverableError` (code `UNRECOVERABLE`) is never retried,
   * whatever this returns. Default: every error except a {@link SluiceError} whose
   * `retryable` is `false`.
   */
  retryOn?: RetryPredicate;
  /** Wait after a `RateLimitedError` that carries no `retryAfter`. Default `'1s'`. */
  rateLimitDelay?: Duration;
  /** Source of time for the waits. Default `systemClock`. */
  clock?: Clock;
}

/** Events of {@link RetryPolicy}. */
export type RetryEvents = {
  /** An attempt failed and the next one starts after `delayMs`. */
  retry: [info: RetryInfo];
  /** An attempt was rate limited; the same attempt number runs again after `delayMs`. */
  rate_limited: [info: RetryInfo];
  /** The policy stopped: `error` is what `execute` rejects with. */
  giveup: [info: GiveUpInfo];
  /** An attempt succeeded. */
  success: [info: { attempts: number }];
};

const retrySchema = z.object(
  {
    attempts: z.custom<number>(
      (n) => n === Number.POSITIVE_INFINITY || (Number.isInteger(n) && (n as number) >= 1),
      { error: 'an integer >= 1 or Infinity' },
    ),
  },
  { error: 'an object {attempts, backoff?, retryOn?, clock?}' },
);

/**
 * A retry policy built by {@link retry}: a thin face of the attempt primitive
 * ({@link AttemptPolicy}) that throws instead of returning an outcome. Reusable and safe to share
 * between concurrent calls: it holds no per-call state.
 */
export class RetryPolicy {
  /** Total number of calls allowed (first one included). */
  readonly attempts: number;
  private readonly policy: AttemptPolicy;
  private readonly events = new TypedEmitter<RetryEvents>();
  private readonly hooks: AttemptExecuteOptions;

  constructor(options: RetryOptions) {
    validate(retrySchema, options, 'retry');
    this.policy = new AttemptPolicy(options, 'retry');
    this.attempts = this.policy.attempts;
    this.hooks = {
      name: 'retry',
      onRetry: (info) => this.events.emit('retry', info),
      onRateLimited: (info) => this.events.emit('rate_limited', info),
      onSuccess: (info) => this.events.emit('success', info),
    };
  }

  /** Subscribes to an event; returns an unsubscribe function. */
  on<E extends keyof RetryEvents>(event: E, fn: (...args: RetryEvents[E]) => void): () => void {
    return this.events.on(event, fn);
  }

  /**
   * Calls `fn` until it resolves, an error is not retryable, attempts run out, or `signal`
   * aborts.
   *
   * Rejects with:
   * - the error itself when it is unrecoverable or `retryOn` refuses it;
   * - `RETRIES_EXHAUSTED` (`retryable: false`, `cause` = the last error,
   *   `context.attempts` = calls made) when every attempt failed;
   * - `ABORTED` when `signal` aborts, before a call or while waiting between calls.
   */
  async execute<T>(fn: (ctx: RetryContext) => Promise<T> | T, signal?: AbortSignal): Promise<T> {
    const out = await this.policy.execute(fn, signal === undefined ? this.hooks : { ...this.hooks, signal });
    switch (out.kind) {
      case 'ok':
        return out.value;
      case 'aborted':
        throw this.giveUp(out.attempts, 'aborted', out.error);
      case 'failed':
        throw this.giveUp(
          out.attempts,
          out.reason,
          out.reason === 'exhausted' ? exhaustedError(out.error, out.attempts) : out.error,
        );
      case 'rate_limited':
        // Not produced: this face never asks the executor to yield rate limits.
        throw out.error;
    }
  }

  private giveUp(attempts: number, reason: GiveUpReason, error: unknown): unknown {
    this.events.emit('giveup', { attempts, reason, error });
    return error;
  }
}

function exhaustedError(error: unknown, attempts: number): SluiceError {
  const last = toError(error);
  return new SluiceError(
    'RETRIES_EXHAUSTED',
    `Gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${last.message}`,
    {
      retryable: false,
      cause: error,
      context: { attempts, ...(isSluiceError(error) ? { lastErrorCode: error.code } : {}) },
    },
  );
}

/**
 * Builds a {@link RetryPolicy}.
 *
 * @throws SluiceError `CONFIG_INVALID` naming the field for bad options.
 * @example
 * ```ts
 * const policy = retry({ attempts: 5, backoff: { initial: '200ms', max: '5s' } });
 * policy.on('retry', ({ attempt, delayMs }) => log.warn({ attempt, delayMs }, 'retrying'));
 * const body = await policy.execute(({ signal }) => fetch(url, { signal }).then((r) => r.text()), signal);
 * ```
 */
export function retry(options: RetryOptions): RetryPolicy {
  return new RetryPolicy(options);
}
