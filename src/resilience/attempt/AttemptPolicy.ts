// AttemptPolicy: the one executor that runs an item (timeout, signal, gate, retry with backoff, rate limits).
import { z } from 'zod';
import { type Clock, systemClock } from '../../core/Clock.ts';
import { type Duration, parseDuration } from '../../core/duration.ts';
import { abortError } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import type { Backoff } from '../Backoff.ts';
import { type BackoffSpec, toBackoff } from '../backoffFactories.ts';
import { clockSchema, fnSchema } from '../options.ts';
import { type AttemptRules, decideAttempt, defaultRetryOn } from './decide.ts';
import { runOnce, type Settled } from './runOnce.ts';
import type {
  AttemptDecision,
  AttemptExecuteOptions,
  AttemptFn,
  AttemptOutcome,
  GateRelease,
  RetryPredicate,
} from './types.ts';

/** Options of {@link attemptPolicy}. */
export interface AttemptPolicyOptions {
  /** Total attempts, the first included: an integer `>= 1` or `Infinity`. Default 1. */
  attempts?: number;
  /** Delay before each retry (any {@link BackoffSpec}). Default `'exponential'` (1s doubling to 1m, full jitter). */
  backoff?: BackoffSpec;
  /** Which errors are retried (see {@link decideAttempt}). Default: all but non-retryable Sluice errors. */
  retryOn?: RetryPredicate;
  /** Time limit of each attempt; an attempt over it fails with a retryable `TIMEOUT`. Default none. */
  timeout?: Duration;
  /** Wait after a `RateLimitedError` without `retryAfter`. Default `'1s'`. */
  rateLimitDelay?: Duration;
  /** Source of time for timeouts and waits. Default `systemClock`. */
  clock?: Clock;
}

/** Default wait after a `RateLimitedError` that does not say how long. */
export const DEFAULT_RATE_LIMIT_DELAY_MS = 1000;

const policySchema = z.object(
  {
    attempts: z
      .custom<number>((n) => n === Number.POSITIVE_INFINITY || (Number.isInteger(n) && (n as number) >= 1), {
        error: 'an integer >= 1 or Infinity',
      })
      .optional(),
    backoff: z.unknown().optional(),
    retryOn: fnSchema<RetryPredicate>().optional(),
    timeout: z.unknown().optional(),
    rateLimitDelay: z.unknown().optional(),
    clock: clockSchema.optional(),
  },
  { error: 'an object {attempts?, backoff?, retryOn?, timeout?, rateLimitDelay?, clock?}' },
);

/** A signal that never aborts, for calls made without one. */
const NEVER: AbortSignal = new AbortController().signal;

/** Calls a hook; a throwing hook never breaks the run. */
function safely<A>(hook: ((a: A) => void) | undefined, arg: A): void {
  if (hook === undefined) return;
  try {
    hook(arg);
  } catch {
    // Hooks are observers.
  }
}

/** Mutable state of one run of attempts. */
interface Cursor {
  /** Number of the next attempt to call. */
  attempt: number;
  previousDelayMs: number;
  lastError: unknown;
}

/**
 * Runs one item: every engine (pool, pipeline, partition runners, `retry()`, `timeout()`) stands
 * on it. Holds only settings, no per-call state: one policy serves any number of concurrent runs.
 *
 * - {@link AttemptPolicy.execute}: the awaiting executor — gate, attempt (own timeout signal
 *   chained to the caller's), decision, wait, again — returning an {@link AttemptOutcome}; never
 *   rejects.
 * - {@link AttemptPolicy.decide}: the same rules as a pure function, for engines that schedule
 *   retries on their own timers.
 *
 * The degenerate case — no timeout, no gate — costs one call of the work and nothing else; only a
 * failure asks `decide`. Callers with a hot path may run that first attempt inline themselves and
 * hand a failure to `execute` with `resume` (the pool does).
 *
 * @example
 * ```ts
 * const policy = attemptPolicy({ attempts: 5, backoff: { initial: '100ms' }, timeout: '2s' });
 * const out = await policy.execute(({ signal, attempt }) => fetch(url, { signal }), { signal });
 * if (out.kind === 'ok') use(out.value);
 * else log.warn({ kind: out.kind, attempts: out.attempts });
 * ```
 */
export class AttemptPolicy implements AttemptRules {
  readonly attempts: number;
  readonly backoff: Backoff;
  readonly retryOn: RetryPredicate;
  readonly rateLimitDelayMs: number;
  /** Per-attempt timeout in ms, or `undefined`. */
  readonly timeoutMs: number | undefined;
  readonly clock: Clock;

  /**
   * @param where - prefix of field names in `CONFIG_INVALID` messages (e.g. `"retry"`).
   * @throws SluiceError `CONFIG_INVALID` naming the field for bad options.
   */
  constructor(options: AttemptPolicyOptions = {}, where = 'attempt') {
    const o = validate(policySchema, options, where === '' ? undefined : where);
    this.attempts = o.attempts ?? 1;
    const at = (name: string) => (where === '' ? name : `${where}.${name}`);
    this.backoff = toBackoff(o.backoff as BackoffSpec | undefined, at('backoff'));
    this.retryOn = o.retryOn ?? defaultRetryOn;
    this.timeoutMs = o.timeout === undefined ? undefined : parseDuration(o.timeout, at('timeout'));
    this.rateLimitDelayMs =
      o.rateLimitDelay === undefined
        ? DEFAULT_RATE_LIMIT_DELAY_MS
        : parseDuration(o.rateLimitDelay, at('rateLimitDelay'));
    this.clock = o.clock ?? systemClock;
  }

  /**
   * What follows attempt number `attempt` that threw `error` (see {@link decideAttempt} for the
   * rules). A bound function: pass `policy.decide` around freely.
   */
  readonly decide = (error: unknown, attempt: number, previousDelayMs: number): AttemptDecision =>
    decideAttempt(this, error, attempt, previousDelayMs);

  /**
   * Runs `fn` until it returns, the decision gives up, or the signal aborts. Never rejects: the
   * outcome says how it ended.
   */
  async execute<T>(fn: AttemptFn<T>, options: AttemptExecuteOptions = {}): Promise<AttemptOutcome<T>> {
    const signal = options.signal ?? NEVER;
    const cur: Cursor = { attempt: 1, previousDelayMs: 0, lastError: undefined };
    const resume = options.resume;
    if (resume !== undefined) {
      cur.attempt = resume.attempt;
      cur.previousDelayMs = resume.previousDelayMs;
      cur.lastError = resume.error;
      const early = await this.follow(
        resume.decision,
        resume.error,
        cur,
        options,
        signal,
        resume.waited === true,
      );
      if (early !== undefined) return early;
    }
    for (;;) {
      if (signal.aborted) return this.aborted(cur, cur.attempt - 1, options, signal);
      const settled = await this.once(fn, cur.attempt, options, signal);
      if (settled.ok) {
        safely(options.onSuccess, { attempts: cur.attempt });
        return { kind: 'ok', value: settled.value, attempts: cur.attempt };
      }
      const error = settled.error;
      cur.lastError = error;
      if (signal.aborted) return this.aborted(cur, cur.attempt, options, signal);
      let decision: AttemptDecision;
      try {
        decision = this.decide(error, cur.attempt, cur.previousDelayMs);
      } catch (backoffError) {
        return this.failed(backoffError, 'not_retryable', cur.attempt, options);
      }
      if (decision.kind === 'give_up') return this.failed(error, decision.reason, cur.attempt, options);
      const stop = await this.follow(decision, error, cur, options, signal, false);
      if (stop !== undefined) return stop;
    }
  }

  /** Gate, attempt, release. */
  private async once<T>(
    fn: AttemptFn<T>,
    attempt: number,
    options: AttemptExecuteOptions,
    signal: AbortSignal,
  ): Promise<Settled<T>> {
    let release: GateRelease | undefined;
    if (options.gate !== undefined) {
      try {
        const g = options.gate({ attempt, signal });
        release = (typeof g === 'function' || g === undefined ? g : await g) as GateRelease | undefined;
      } catch (error) {
        return { ok: false, error };
      }
    }
    const settled = await runOnce(fn, {
      attempt,
      signal,
      timeoutMs: this.timeoutMs,
      clock: this.clock,
      abandonOnAbort: options.abandonOnAbort === true,
      name: options.name ?? 'attempt',
      context: options.context,
    });
    if (release !== undefined) {
      try {
        release(settled.ok ? { ok: true } : { ok: false, error: settled.error });
      } catch {
        // A release must not change the attempt's outcome.
      }
    }
    return settled;
  }

  /**
   * Carries out a retry or rate-limited decision: hooks, then the wait (sleep, park, or yield).
   * Moves the cursor to the next attempt; returns an outcome when the run ends here.
   */
  private async follow(
    decision: Exclude<AttemptDecision, { kind: 'give_up' }>,
    error: unknown,
    cur: Cursor,
    options: AttemptExecuteOptions,
    signal: AbortSignal,
    waited: boolean,
  ): Promise<AttemptOutcome<never> | undefined> {
    const attempt = cur.attempt;
    const info = { attempt, delayMs: decision.delayMs, error };
    if (decision.kind === 'retry') {
      if (!waited) safely(options.onRetry, info);
      cur.previousDelayMs = decision.delayMs;
      cur.attempt = attempt + 1;
    } else {
      if (!waited) safely(options.onRateLimited, info);
      if (!waited && options.yieldRateLimited === true) {
        return {
          kind: 'rate_limited',
          delayMs: decision.delayMs,
          error,
          attempts: attempt,
          previousDelayMs: cur.previousDelayMs,
        };
      }
    }
    if (waited) return undefined;
    try {
      if (decision.kind === 'rate_limited' && options.park !== undefined) {
        await options.park({ ...info, signal });
      } else {
        await this.clock.sleep(decision.delayMs, signal);
      }
    } catch (parkError) {
      // Attempts counted so far: a rate-limited call is not one.
      const counted = cur.attempt - 1;
      if (signal.aborted) return this.aborted(cur, counted, options, signal);
      return this.failed(parkError, 'not_retryable', counted, options);
    }
    return undefined;
  }

  private failed(
    error: unknown,
    reason: 'exhausted' | 'unrecoverable' | 'not_retryable',
    attempts: number,
    options: AttemptExecuteOptions,
  ): AttemptOutcome<never> {
    safely(options.onGiveUp, { attempts, reason, error });
    return { kind: 'failed', reason, error, attempts };
  }

  private aborted(
    cur: Cursor,
    attempts: number,
    options: AttemptExecuteOptions,
    signal: AbortSignal,
  ): AttemptOutcome<never> {
    const error = abortError(signal, options.name ?? 'attempt');
    safely(options.onGiveUp, { attempts, reason: 'aborted', error });
    return { kind: 'aborted', error, lastError: cur.lastError, attempts };
  }
}

/**
 * Builds an {@link AttemptPolicy}.
 *
 * @throws SluiceError `CONFIG_INVALID` naming the field for bad options.
 * @example
 * ```ts
 * const policy = attemptPolicy({ attempts: 3, backoff: backoff.fixed('100ms'), timeout: '1s' });
 * const out = await policy.execute(({ signal }) => callApi(signal), {
 *   signal,
 *   onRetry: ({ attempt, delayMs }) => log.warn({ attempt, delayMs }, 'retrying'),
 * });
 * ```
 */
export function attemptPolicy(options: AttemptPolicyOptions = {}, where = 'attempt'): AttemptPolicy {
  return new AttemptPolicy(options, where);
}
