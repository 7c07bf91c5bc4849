import { z } from 'zod';
import { type Clock, systemClock } from '../core/Clock.ts';
import { abortError, isSluiceError, isUnrecoverable, SluiceError, toError } from '../core/errors.ts';
import { TypedEmitter } from '../core/events.ts';
import { validate } from '../core/validate.ts';
import type { Backoff } from './Backoff.ts';
import { type BackoffSpec, toBackoff } from './backoffFactories.ts';
import { clockSchema, fnSchema } from './options.ts';

/** What a retried function receives. */
export interface RetryContext {
  /** 1 for the first call, 2 for the first retry, ... */
  readonly attempt: number;
  /** Aborts when the caller's signal aborts; pass it on to the work. */
  readonly signal: AbortSignal;
}

/** Decides whether `error`, thrown by attempt number `attempt`, may be retried. */
export type RetryPredicate = (error: unknown, attempt: number) => boolean;

/** Options of {@link retry}. */
export interface RetryOptions {
  /**
   * Total number of calls, the first one included: `attempts: 3` is one call and up to two
   * retries. An integer `>= 1`, or `Infinity` to retry until success or abort.
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
  /** Source of time for the waits. Default `systemClock`. */
  clock?: Clock;
}

/** Why {@link RetryPolicy} stopped without a result. */
export type GiveUpReason = 'exhausted' | 'unrecoverable' | 'not_retryable' | 'aborted';

/** Events of {@link RetryPolicy}. */
export type RetryEvents = {
  /** An attempt failed and the next one starts after `delayMs`. */
  retry: [info: { attempt: number; delayMs: number; error: unknown }];
  /** The policy stopped: `error` is what `execute` rejects with. */
  giveup: [info: { attempts: number; reason: GiveUpReason; error: unknown }];
  /** An attempt succeeded. */
  success: [info: { attempts: number }];
};

const retrySchema = z.object(
  {
    attempts: z.custom<number>(
      (n) => n === Number.POSITIVE_INFINITY || (Number.isInteger(n) && (n as number) >= 1),
      { error: 'an integer >= 1 or Infinity' },
    ),
    backoff: z.unknown().optional(),
    retryOn: fnSchema<RetryPredicate>().optional(),
    clock: clockSchema.optional(),
  },
  { error: 'an object {attempts, backoff?, retryOn?, clock?}' },
);

/** The default {@link RetryOptions.retryOn}: everything except non-retryable Sluice errors. */
export const defaultRetryOn: RetryPredicate = (error) => !(isSluiceError(error) && !error.retryable);

/**
 * A retry policy built by {@link retry}. Reusable and safe to share between concurrent calls:
 * it holds no per-call state.
 */
export class RetryPolicy {
  /** Total number of calls allowed (first one included). */
  readonly attempts: number;
  private readonly backoff: Backoff;
  private readonly retryOn: RetryPredicate;
  private readonly clock: Clock;
  private readonly events = new TypedEmitter<RetryEvents>();

  constructor(options: RetryOptions) {
    const o = validate(retrySchema, options, 'retry');
    this.attempts = o.attempts;
    this.backoff = toBackoff(o.backoff as BackoffSpec | undefined, 'retry.backoff');
    this.retryOn = o.retryOn ?? defaultRetryOn;
    this.clock = o.clock ?? systemClock;
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
    const ctxSignal = signal ?? new AbortController().signal;
    let previousDelay = 0;
    for (let attempt = 1; ; attempt++) {
      if (ctxSignal.aborted) throw this.giveUp(attempt - 1, 'aborted', abortError(ctxSignal, 'retry'));
      try {
        const value = await fn({ attempt, signal: ctxSignal });
        this.events.emit('success', { attempts: attempt });
        return value;
      } catch (error) {
        if (ctxSignal.aborted) throw this.giveUp(attempt, 'aborted', abortError(ctxSignal, 'retry'));
        if (isUnrecoverable(error)) throw this.giveUp(attempt, 'unrecoverable', error);
        if (!this.retryOn(error, attempt)) throw this.giveUp(attempt, 'not_retryable', error);
        if (attempt >= this.attempts) {
          const last = toError(error);
          const exhausted = new SluiceError(
            'RETRIES_EXHAUSTED',
            `Gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${last.message}`,
            {
              retryable: false,
              cause: error,
              context: {
                attempts: attempt,
                ...(isSluiceError(error) ? { lastErrorCode: error.code } : {}),
              },
            },
          );
          throw this.giveUp(attempt, 'exhausted', exhausted);
        }
        const delayMs = Math.max(0, this.backoff.next(attempt, previousDelay));
        previousDelay = delayMs;
        this.events.emit('retry', { attempt, delayMs, error });
        try {
          await this.clock.sleep(delayMs, ctxSignal);
        } catch (e) {
          throw this.giveUp(attempt, 'aborted', isSluiceError(e) ? e : abortError(ctxSignal, 'retry'));
        }
      }
    }
  }

  private giveUp(attempts: number, reason: GiveUpReason, error: unknown): unknown {
    this.events.emit('giveup', { attempts, reason, error });
    return error;
  }
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
