// The public types of CircuitBreaker: state, options, call context, events, snapshot and isolation handle.
import type { Clock } from '../core/Clock.ts';
import type { Duration } from '../core/duration.ts';

/** The public state of a {@link CircuitBreaker}. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open a closed breaker. Integer `>= 1`, default `5`. */
  failureThreshold?: number;
  /** How long the breaker stays open before letting probes through. Default `'30s'`. */
  timeout?: Duration;
  /**
   * Probes let through while half-open, at most this many at once; the breaker closes only
   * after this many probes succeeded. Integer `>= 1`, default `3`.
   */
  halfOpenRequests?: number;
  /** Source of time. Default `systemClock`. */
  clock?: Clock;
  /**
   * Whether an error counts as a failure of the protected dependency. Errors for which this
   * returns `false` pass through and count as a success (the dependency answered). Default:
   * every error counts.
   */
  isFailure?: (error: unknown) => boolean;
  /** A name carried by errors and events, for logs and metrics. Default `'circuit'`. */
  name?: string;
}

/** What {@link CircuitBreaker.execute} passes to the protected function. */
export interface CircuitContext {
  /** The caller's signal (never aborted when the caller gave none). */
  readonly signal: AbortSignal;
}

/** Events of {@link CircuitBreaker}, emitted synchronously in the order things happen. */
export type CircuitBreakerEvents = {
  /** The breaker opened (from closed after too many failures, or from half-open on a probe failure). */
  open: [info: { from: CircuitState; failures: number; error?: unknown; isolated: boolean }];
  /** The open timeout elapsed; probes are now let through. */
  half_open: [];
  /** The breaker closed (probes succeeded, or `reset()`/isolation ended). */
  close: [];
  /** A call was refused with `CIRCUIT_OPEN` without running. */
  rejected: [info: { state: CircuitState; retryAfterMs?: number }];
  /** A call completed and counted as a success (emitted before a resulting `close`). */
  success: [info: { state: CircuitState; durationMs: number }];
  /** A call failed and counted as a failure (emitted before a resulting `open`). */
  failure: [info: { state: CircuitState; durationMs: number; error: unknown }];
};

/**
 * The serialized state of a breaker, from {@link CircuitBreaker.toJSON}. `remainingMs` is the
 * open time left when the snapshot was taken; a restored breaker stays open that long from the
 * moment it is restored (clocks of different processes are not compared).
 */
export interface CircuitBreakerSnapshot {
  version: 1;
  state: CircuitState;
  /** Consecutive failures counted while closed. */
  failures: number;
  /** Open time left, present when `state` is `'open'`. */
  remainingMs?: number;
  /** Held open by {@link CircuitBreaker.isolate} until `reset()`. */
  isolated?: boolean;
}

/** A handle returned by {@link CircuitBreaker.isolate}. */
export interface IsolationHandle {
  /** Ends this isolation; the breaker closes when no isolation is left. Idempotent. */
  dispose(): void;
}
