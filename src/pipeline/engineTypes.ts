// Types shared by the pipeline engine's parts: its events, hooks, configuration and run state.
import type { Clock } from '../core/Clock.ts';
import type { AttemptRules } from '../resilience/attempt/index.ts';
import type { FlowConfig } from './flowSpec.ts';
import type { Entry } from './Lane.ts';
import type { StreamSource } from './source.ts';
import type { ErrorHandler, FailureInfo, ProcessFn, Strategy } from './types.ts';

/** Events of a running pipeline. */
export type PipelineEvents = {
  /** An item failed for good (after its last attempt). */
  item_failed: [failure: FailureInfo & { error: Error }];
  /** An attempt failed and will be retried after `delayMs`. */
  item_retry: [info: FailureInfo & { error: Error; delayMs: number }];
  /** A worker crashed; its supervisor restarts it. */
  worker_crashed: [info: { workerId: number; error: Error }];
  /** A crashed worker was restarted and resumes its partitions. */
  worker_restarted: [info: { workerId: number; restarts: number }];
  /**
   * An item finished for good (emitted only while someone listens). `durationMs` runs from the
   * start of its first attempt to its outcome (retries and backoff included).
   */
  item_done: [
    info: {
      seq: number;
      key: unknown;
      partition: number;
      workerId: number;
      attempts: number;
      durationMs: number;
      outcome: 'ok' | 'failed';
    },
  ];
  /**
   * A key (`scope: 'key'`) or the whole stage was parked until `until` (clock ms), emitted only
   * while someone listens: `rate_limited` (a `RateLimitedError`; the per-key limiter is parked
   * too), `paused` (`ctx.pause`) or `circuit_open` (the breaker refused the attempt). Parked work
   * is not a failed attempt. Limiter waits are the limiters' own events.
   */
  parked: [
    info: {
      scope: 'key' | 'stage';
      key: unknown;
      workerId: number;
      until: number;
      reason: 'rate_limited' | 'paused' | 'circuit_open';
    },
  ];
  /** The low watermark advanced. */
  watermark: [lowWatermark: number];
};

/** Hooks that let supervision and checkpointing observe and steer the engine. */
export interface EngineHooks<T> {
  /** Called when an item's processing finished for good (ok or failed and handled). */
  onItemDone?(entry: Entry<T>): void;
  /** Wraps every attempt (e.g. a circuit breaker). */
  guard?<V>(attempt: () => PromiseLike<V> | V, signal: AbortSignal): PromiseLike<V> | V;
  /** Delay before re-running an item the guard rejected (e.g. breaker open), or undefined to fail it. */
  guardRetryDelay?(error: Error): number | undefined;
  /**
   * A worker crashed (an attempt failed with `WORKER_CRASHED`); the hook owns restarting it
   * (via `Engine.reviveWorker`). Without this hook there is no supervisor and a crash is an
   * ordinary failed attempt.
   */
  onWorkerCrash?(workerId: number, error: Error): void;
}

/** Normalized engine configuration. */
export interface EngineConfig<T, R, S> {
  readonly source: StreamSource<T>;
  /** The `partitionBy` function; its result is checked per item (string or finite number). */
  readonly keyFn: ((item: T) => unknown) | undefined;
  readonly fn: ProcessFn<T, R, S>;
  readonly onError: ErrorHandler<T> | undefined;
  readonly maxWorkers: number;
  readonly strategy: Strategy;
  readonly partitions: number;
  readonly perWorker: number;
  readonly maxInFlight: number;
  readonly timeoutMs: number | undefined;
  /**
   * Item retries for the shared attempt decision (`decideAttempt`): `retry.attempts` (default 1),
   * its backoff and `retryOn`. Worker restarts are not part of it (see `supervision`).
   */
  readonly rules: AttemptRules;
  readonly clock: Clock;
  readonly collect: boolean;
  readonly name: string;
  readonly setup: ((ctx: { workerId: number; signal: AbortSignal }) => S | Promise<S>) | undefined;
  readonly teardown: ((state: S, ctx: { workerId: number }) => void | Promise<void>) | undefined;
  /** Maps a source item to its log position when the source is a topic. */
  readonly positionOf?: (item: T) => { partition: number; offset: number } | undefined;
  /** Prefix of idempotency keys. */
  readonly idempotencyPrefix: string;
  /** Virtual partition → worker table (length `partitions`) for `consistent_hash`. */
  readonly partitionOwner: Int32Array;
  /** Limits, per-key concurrency, fairness and priorities. */
  readonly flow: FlowConfig<T>;
}

/**
 * Where a run is. `running` until the source ends (`sourceDone`) and the last item finished;
 * `stopping` while started items drain after `stop()` (or after a run-level error that lets
 * them finish: `error` set); `finished`/`failed` once the outcome is decided.
 */
export type RunState =
  | { readonly phase: 'running'; readonly sourceDone: boolean }
  | { readonly phase: 'stopping'; readonly reason: string; readonly error?: { readonly cause: unknown } }
  | { readonly phase: 'finished'; readonly reason: string | undefined }
  | { readonly phase: 'failed'; readonly reason: string; readonly error: unknown };
