// Public types of pipelines: process context and function, options, failures and the report.
import type { Clock } from '../core/Clock.ts';
import type { Duration } from '../core/duration.ts';
import type { Limiter } from '../flow/Limiter.ts';
import type { RateLimitOptions } from '../flow/options.ts';
import type { Backoff } from '../resilience/Backoff.ts';
import type { PartitionKey } from './keys.ts';
import type { Result } from './result.ts';

/** How items are spread over workers. */
export type Strategy = 'consistent_hash' | 'round_robin' | 'broadcast';

/** Context passed to a process function with each item. */
export interface ProcessContext<S = unknown> {
  /** Position of the item in the stream (0-based). */
  readonly seq: number;
  /** The partition key (`partitionBy`), or the sequence number when there is none. */
  readonly key: string | number;
  /** The virtual partition of the key. */
  readonly partition: number;
  /** Worker (lane) that runs the item, 0-based. */
  readonly workerId: number;
  /** Attempt number, 1 for the first. */
  readonly attempt: number;
  /** Aborted when the run is cancelled or the item times out. */
  readonly signal: AbortSignal;
  /**
   * A key that is stable across retries, restarts and replays of this item: use it to make
   * external effects idempotent. For topic sources it is `group:topic:partition:offset`.
   */
  readonly idempotencyKey: string;
  /** The per-worker state returned by `setup`, if any. */
  readonly state: S;
  /** Log offset when the source is a backend topic. */
  readonly offset?: number | undefined;
  /**
   * Parks this item's key for `ms` (`scope: 'stage'`: the whole stage) without counting a failed
   * attempt: no item of the key (or of the stage) starts before the park ends; items already
   * running go on, other keys keep flowing. With a per-key (or stage) limiter, the limiter is
   * parked too — across processes when it is shared. Parks only extend. Throwing a
   * `RateLimitedError` parks the key the same way and runs the item again afterwards.
   */
  pause(ms: Duration, options?: { scope?: 'key' | 'stage' }): void;
}

/** A process function: return a value (or `Ok`), throw or return `Err` to fail. */
export type ProcessFn<T, R, S = unknown> = (
  item: T,
  ctx: ProcessContext<S>,
) => R | Result<R> | PromiseLike<R | Result<R>>;

/** Details of a failed item given to `onError` and listed in `errors`. */
export interface FailureInfo {
  readonly seq: number;
  readonly key: unknown;
  readonly partition: number;
  readonly workerId: number;
  readonly attempts: number;
  readonly offset?: number;
}

/** Called once per item that failed for good (after its last attempt). */
export type ErrorHandler<T> = (error: Error, item: T, info: FailureInfo) => unknown;

/** A failed item as reported by `collect()`. */
export interface ItemFailure<T> extends FailureInfo {
  readonly item: T;
  readonly error: Error;
}

/** Retry of failing items (per item, in order: a retrying item blocks only its own key). */
export interface PipelineRetry {
  /** Total attempts including the first (>= 1). */
  attempts: number;
  /** Delay before each retry. */
  backoff?:
    | Backoff
    | Duration
    | 'exponential'
    | 'fixed'
    | { initial?: Duration; max?: Duration; multiplier?: number };
  /**
   * Whether an error thrown by attempt number `attempt` is worth retrying. Default: every error
   * except a `SluiceError` marked `retryable: false`. An `UnrecoverableError` is never retried,
   * whatever this says; a `RateLimitedError` is not a failed attempt (the item waits, then runs
   * again under the same attempt number).
   */
  retryOn?: (error: Error, attempt: number) => boolean;
}

/** How a stage picks among keys that have an item ready: turns in order, or in proportion to `weight`. */
export type Fairness = 'round_robin' | 'weighted';

/** Per-key flow settings of `.concurrent()` (keys from `partitionBy`). */
export interface PerKeyOptions {
  /**
   * Items of one key running at once. 1 (the default) keeps strict per-key order, also across
   * retries; above 1, that many items of a key run at once, in no particular order, and a failed
   * attempt is redelivered after its backoff without holding the key.
   */
  concurrency?: number;
  /** A rate limit per key: a limiter (its bucket key is the partition key) or `rateLimit` options. */
  rateLimit?: Limiter<never> | Omit<RateLimitOptions<never>, 'key'>;
}

/** Options of `.concurrent()`. `T` is the item type (for `priority`). */
export interface ConcurrentOptions<S = unknown, T = unknown> {
  /** Number of workers (lanes). */
  maxWorkers: number;
  /** Routing strategy; `consistent_hash` when `partitionBy` is used, else `round_robin`. */
  strategy?: Strategy;
  /** Number of virtual partitions keys map to (default 256). */
  partitions?: number;
  /** Items of different keys a worker may run at once (default 1). */
  concurrencyPerWorker?: number;
  /** Items admitted but not finished, across workers: the backpressure bound (default 1024). */
  maxInFlight?: number;
  /** Per-attempt timeout (`TIMEOUT`). */
  timeout?: Duration;
  /** Item retries. */
  retry?: PipelineRetry;
  /** Worker supervision (restarts of crashed workers, circuit breaker). */
  supervision?: Record<string, unknown>;
  /** Creates a worker's state; runs again when a crashed worker is restarted. */
  setup?: (ctx: { workerId: number; signal: AbortSignal }) => S | Promise<S>;
  /** Disposes a worker's state when the worker stops or crashes. */
  teardown?: (state: S, ctx: { workerId: number }) => void | Promise<void>;
  /** Time source. */
  clock?: Clock;
  /**
   * A rate limit for the whole stage: a limiter (shared with other runs, pools or processes; its
   * bucket key is its own `keyOf(item)`) or `rateLimit` options. Checked before each attempt in
   * scheduling order: when it denies, the stage waits for that grant.
   */
  rateLimit?: Limiter<never> | RateLimitOptions<T>;
  /** Per-key concurrency and rate limit. */
  perKey?: PerKeyOptions;
  /** How a worker picks among its ready keys (default `round_robin`; `weighted` with `weight`). */
  fairness?: Fairness;
  /** Weight of a key under `fairness: 'weighted'` (a finite number > 0; giving it implies weighted). */
  weight?: (key: PartitionKey) => number;
  /**
   * Priority of an item (a finite number, higher first; default 0, or for topic sources the
   * event's `priority` header). Among ready keys, the key whose next item has the highest
   * effective priority runs first; the items of one key are never reordered.
   */
  priority?: (item: T) => number;
  /**
   * Aging of priorities: an item's effective priority grows by 1 per `priorityAging` it waited
   * as the next item of its key (default `'1s'`), so low priorities are not starved.
   */
  priorityAging?: Duration;
}

/** Per-worker figures in the report. */
export interface WorkerReport {
  readonly workerId: number;
  readonly processed: number;
  readonly failed: number;
  readonly restarts: number;
}

/** What a run did. */
export interface PipelineReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  /** Items taken from the source. */
  readonly total: number;
  /** Deliveries that succeeded (with broadcast, one per worker). */
  readonly ok: number;
  /** Deliveries that failed after their last attempt. */
  readonly failed: number;
  /** Retries made (attempts beyond the first). */
  readonly retries: number;
  /** Items taken but not processed because the run was stopped. */
  readonly cancelled: number;
  /** Worker restarts by the supervisor. */
  readonly restarts: number;
  readonly maxWorkers: number;
  readonly strategy: Strategy;
  /** Highest number of items in flight at once. */
  readonly peakInFlight: number;
  /** All items with `seq` below this were finished. */
  readonly lowWatermark: number;
  readonly itemsPerSecond: number;
  readonly workers: readonly WorkerReport[];
  /** Why the run ended early, if it did. */
  readonly stopReason?: string;
}

/** What `collect()` resolves to. */
export interface CollectResult<T, R> {
  /** Values of successful items, in input order. */
  readonly results: R[];
  /** Items that failed for good, in input order. */
  readonly errors: ItemFailure<T>[];
  readonly report: PipelineReport;
}

/** Options of `run()`/`collect()`/`start()`. */
export interface RunOptions {
  /** Stop taking items; started items finish (drain), then the run resolves. */
  signal?: AbortSignal;
  /** How long to wait for started items after `signal` aborts before aborting their `ctx.signal` (default 30s). */
  drainTimeout?: Duration;
}
