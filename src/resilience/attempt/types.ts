// Public types of the attempt primitive: contexts, decisions, outcomes, hooks and the gate.
import type { SluiceError } from '../../core/errors.ts';

/** What the function run by the attempt primitive receives. */
export interface AttemptContext {
  /**
   * Attempt number, 1-based. A call refused with a `RateLimitedError` is not a counted attempt:
   * the call after it carries the same number.
   */
  readonly attempt: number;
  /**
   * Aborts when the caller's signal aborts (reason: the caller's reason) or when this attempt's
   * timeout passes (reason: the `TIMEOUT` error). Pass it on to I/O.
   */
  readonly signal: AbortSignal;
}

/** The work run by the attempt primitive: sync or async. */
export type AttemptFn<T> = (ctx: AttemptContext) => T | PromiseLike<T>;

/** Decides whether `error`, thrown by attempt number `attempt`, may be retried. */
export type RetryPredicate = (error: unknown, attempt: number) => boolean;

/** Why retrying stops for a failed attempt (the pure decision). */
export type GiveUpDecisionReason = 'exhausted' | 'unrecoverable' | 'not_retryable';

/** Why a run of attempts stopped without a value (the decision reasons, plus `aborted`). */
export type GiveUpReason = GiveUpDecisionReason | 'aborted';

/** Retry after `delayMs`; the next attempt number is one more. */
export interface RetryDecision {
  readonly kind: 'retry';
  readonly delayMs: number;
}

/** Rate limited: wait `delayMs`, then call again under the same attempt number. */
export interface RateLimitedDecision {
  readonly kind: 'rate_limited';
  readonly delayMs: number;
}

/** Do not retry. */
export interface GiveUpDecision {
  readonly kind: 'give_up';
  readonly reason: GiveUpDecisionReason;
}

/** What to do after a failed attempt: the output of `decide`. */
export type AttemptDecision = RetryDecision | RateLimitedDecision | GiveUpDecision;

/** The work returned a value. `attempts` counts the attempt that succeeded. */
export interface AttemptOk<T> {
  readonly kind: 'ok';
  readonly value: T;
  readonly attempts: number;
}

/** The last attempt failed and no retry follows; `error` is what that attempt threw. */
export interface AttemptFailed {
  readonly kind: 'failed';
  readonly reason: GiveUpDecisionReason;
  readonly error: unknown;
  readonly attempts: number;
}

/**
 * The caller's signal aborted (before an attempt, during one, or while waiting).
 * `error` is an `ABORTED` {@link SluiceError}; `lastError` what the last attempt threw, if any.
 */
export interface AttemptAborted {
  readonly kind: 'aborted';
  readonly error: SluiceError;
  readonly lastError: unknown;
  readonly attempts: number;
}

/**
 * Only with `yieldRateLimited`: the attempt was rate limited and the executor hands the wait
 * back to the caller. Resume with `execute(fn, { resume: { attempt: attempts, ... } })`.
 */
export interface AttemptRateLimited {
  readonly kind: 'rate_limited';
  readonly delayMs: number;
  readonly error: unknown;
  /** Number of the attempt that was refused (it is to be called again under this number). */
  readonly attempts: number;
  /** The previous backoff delay, to pass back in `resume.previousDelayMs`. */
  readonly previousDelayMs: number;
}

/** The outcome of a run of attempts. */
export type AttemptOutcome<T> = AttemptOk<T> | AttemptFailed | AttemptAborted | AttemptRateLimited;

/** How an attempt ended, as told to a gate's release. */
export type AttemptSettled = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

/** Called after the attempt a gate admitted, with how it ended. */
export type GateRelease = (settled: AttemptSettled) => void;

/** What a gate receives before an attempt. */
export interface GateContext {
  readonly attempt: number;
  /** The caller's signal: a waiting gate must give up (reject) when it aborts. */
  readonly signal: AbortSignal;
}

/**
 * A hook called before each attempt: a limiter plugs in here. It may wait (honouring `signal`),
 * and returns a release (or nothing) that is called once the attempt settled. A rejection counts
 * as the attempt's error (or as the abort, when the signal aborted). The attempt's timeout starts
 * after the gate admitted it.
 */
export type AttemptGate = (
  ctx: GateContext,
) => GateRelease | undefined | PromiseLike<GateRelease | undefined>;

/** Argument of the `onRetry` and `onRateLimited` hooks. */
export interface RetryInfo {
  /** The attempt that failed (or was rate limited). */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}

/** Argument of the `onGiveUp` hook. */
export interface GiveUpInfo {
  readonly attempts: number;
  readonly reason: GiveUpReason;
  readonly error: unknown;
}

/** What `park` receives: the caller waits (or pauses a limiter) instead of the executor sleeping. */
export interface ParkInfo extends RetryInfo {
  readonly signal: AbortSignal;
}

/** Hooks of one run of attempts. Errors they throw are ignored. */
export interface AttemptHooks {
  /** An attempt failed and the next one starts after `delayMs`. */
  onRetry?(info: RetryInfo): void;
  /** An attempt was rate limited; the same attempt number runs again after `delayMs`. */
  onRateLimited?(info: RetryInfo): void;
  /** The run stopped without a value. */
  onGiveUp?(info: GiveUpInfo): void;
  /** An attempt succeeded. */
  onSuccess?(info: { readonly attempts: number }): void;
}

/** Continues a run after an attempt the caller ran (and `decide`d) itself. */
export interface ResumeFrom {
  /** Number of the attempt that failed or was rate limited. */
  readonly attempt: number;
  /** The delay given to `decide` as `previousDelayMs` for that attempt. */
  readonly previousDelayMs: number;
  /** What that attempt threw. */
  readonly error: unknown;
  /** The decision `decide` made for it; the executor waits accordingly, then goes on. */
  readonly decision: RetryDecision | RateLimitedDecision;
  /** When true, the wait already happened: the next attempt starts at once. */
  readonly waited?: boolean;
}

/** Per-call options of `AttemptPolicy.execute`. */
export interface AttemptExecuteOptions extends AttemptHooks {
  /** Cancels the run. */
  signal?: AbortSignal;
  /** Called before each attempt (see {@link AttemptGate}). */
  gate?: AttemptGate;
  /**
   * Takes over the wait of a rate-limited attempt (e.g. pausing a shared limiter): the executor
   * awaits it instead of sleeping `delayMs`, then calls again. A rejection ends the run (as
   * `aborted` when the signal aborted, else `failed` with that error).
   */
  park?: (info: ParkInfo) => PromiseLike<void>;
  /** Return a `rate_limited` outcome instead of waiting (the caller reschedules the item). */
  yieldRateLimited?: boolean;
  /**
   * Settle as soon as the signal aborts, without waiting for the running attempt to notice
   * (its late result is ignored). Default false: the attempt's signal aborts and the run waits
   * for it to settle.
   */
  abandonOnAbort?: boolean;
  /** Names the work in messages: `"The <name> timed out after 100 ms"`. Default `"attempt"`. */
  name?: string;
  /** Extra context put on the `TIMEOUT` error (besides `attempt` and `timeoutMs`). */
  context?: Record<string, unknown>;
  /** Continue after an attempt the caller ran itself. */
  resume?: ResumeFrom;
}
