// Pool types: item context and function, the ok / error / skipped result union, mapConcurrent and stream options.
import type { Clock } from '../core/Clock.ts';
import type { Duration } from '../core/duration.ts';
import type { Limiter } from '../flow/Limiter.ts';
import type { ConcurrencyLimitOptions, RateLimitOptions } from '../flow/options.ts';
import type { Backoff } from '../resilience/Backoff.ts';
import type { SkipItem } from './skip.ts';

/** What {@link mapConcurrent} passes to the item function besides the item. */
export interface ItemContext {
  /** Position of the item in the input (0-based). */
  readonly index: number;
  /** The lane (0 .. concurrency-1) running the item. */
  readonly workerId: number;
  /**
   * Aborts when the batch is cancelled or when this attempt times out. Pass it on to I/O
   * (`fetch(url, { signal })`) so cancelled work stops promptly.
   */
  readonly signal: AbortSignal;
  /** Attempt number, 1 for the first try. */
  readonly attempt: number;
  /**
   * Refuses this call for `ms` (a duration), like `throw new RateLimitedError({ retryAfter: ms })`:
   * it throws. The item is called again after the pause under the same attempt number (not a
   * failed attempt), and the item's key of every rate limiter of the batch (and of
   * `perKey.concurrency`) is parked for that long, so other items of the key wait too.
   */
  readonly pause: (ms: Duration) => never;
}

/**
 * The function applied to every item. It may return (or throw) {@link skip}`(reason)` to mark
 * the item as skipped instead of done.
 */
export type ItemFn<T, R> = (item: T, ctx: ItemContext) => R | SkipItem | PromiseLike<R | SkipItem>;

/** An item that completed. */
export interface ItemOk<R> {
  readonly status: 'ok';
  readonly value: R;
  readonly index: number;
  /** Attempts used, including the successful one. */
  readonly attempts: number;
  /** The lane that ran the successful attempt. */
  readonly workerId: number;
}

/** An item whose last attempt failed (or that timed out). */
export interface ItemError {
  readonly status: 'error';
  /** The last error. Timeouts are a `SluiceError` with code `TIMEOUT`. */
  readonly error: Error;
  readonly index: number;
  /** Attempts made. */
  readonly attempts: number;
  /** The lane that ran the last attempt. */
  readonly workerId: number;
}

/** An item that did not run to completion on purpose. */
export interface ItemSkipped {
  readonly status: 'skipped';
  /** `"aborted"` when the batch was cancelled before the item started; otherwise the reason given to {@link skip}. */
  readonly reason: string;
  readonly index: number;
  /** Attempts made (0 when the item never started). */
  readonly attempts: number;
}

/** The outcome of one item, in input order. */
export type ItemResult<R> = ItemOk<R> | ItemError | ItemSkipped;

/** Retry policy for items. */
export interface PoolRetryOptions {
  /** Maximum number of attempts per item, including the first (>= 1). */
  attempts: number;
  /** Delay between attempts. Default: a fixed 100 ms. Waits use the batch's `clock`. */
  backoff?: Backoff;
  /**
   * Whether an error thrown by attempt number `attempt` may be retried. Default: every error
   * except a `SluiceError` whose `retryable` is `false` (timeouts are retryable).
   * `UnrecoverableError` (code `UNRECOVERABLE`) is never retried, whatever this returns.
   */
  retryOn?: (error: Error, attempt: number) => boolean;
}

/** Options of {@link mapConcurrent}. */
export interface MapConcurrentOptions<T = unknown> {
  /** Maximum number of items in flight (integer >= 1). Default: `SLUICE_MAX_WORKERS`, else 4. */
  concurrency?: number;
  /**
   * Cancels the batch: no new item starts, in-flight items see `ctx.signal` abort with a
   * `SluiceError` code `ABORTED` (its `cause` is the signal's reason, or the reason itself when
   * it already is a `SluiceError`).
   */
  signal?: AbortSignal;
  /** Per-attempt time limit; an attempt that exceeds it fails with code `TIMEOUT`. */
  timeout?: Duration;
  /** Retry policy; default: one attempt. */
  retry?: PoolRetryOptions;
  /** Clock for timeouts and retry delays. Default: `systemClock`. */
  clock?: Clock;
  /**
   * Tokens per period for the whole batch: a limiter made by `rateLimit` (shared with other runs,
   * or with other processes when it has a backend) or `rateLimit` options (a limiter for this
   * call alone). Its `key` option, when set, gives one bucket per key of an item.
   */
  rateLimit?: Limiter<T> | RateLimitOptions<T>;
  /**
   * Items held at once across what shares the limiter: a `concurrencyLimit` limiter or its
   * options. Unlike `concurrency` (this batch's lanes) it can be shared by several batches and
   * processes.
   */
  concurrencyLimit?: Limiter<T> | ConcurrencyLimitOptions<T>;
  /** Limits per key of an item (a tenant, a host, an account); see {@link PoolPerKeyOptions}. */
  perKey?: PoolPerKeyOptions<T>;
}

/**
 * Limits applied to each key of an item separately (`perKey` of the pool). Items waiting for
 * their key hold their lane: set `concurrency` above what one key may use, or a hot key takes
 * every lane.
 */
export interface PoolPerKeyOptions<T = unknown> {
  /** The key of an item (a string or a finite number). */
  key: (item: T) => string | number;
  /**
   * Items of one key running at once (integer >= 1). 1 runs the items of a key one at a time, in
   * the order they were taken; more runs that many at once, without order. May also be a
   * `concurrencyLimit` limiter (its semaphores addressed by `key`), e.g. shared across processes.
   */
  concurrency?: number | Limiter<T>;
  /**
   * Tokens per period for each key: a `rateLimit` limiter (its buckets are addressed by `key`)
   * or `rateLimit` options without `key`.
   */
  rateLimit?: Limiter<T> | Omit<RateLimitOptions<T>, 'key'>;
}

/** Options of {@link mapConcurrentStream}. */
export interface MapConcurrentStreamOptions<T = unknown> extends MapConcurrentOptions<T> {
  /**
   * How far (in items) processing may run ahead of the consumer, which also bounds results
   * held for reordering. Must be >= `concurrency`. Default: `4 * concurrency`.
   */
  window?: number;
}

/** Input accepted by the pool: arrays, iterables, async iterables (may be lazy and unbounded). */
export type PoolInput<T> = Iterable<T> | AsyncIterable<T>;
