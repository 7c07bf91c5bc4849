// The limiter contract shared by rateLimit and concurrencyLimit, local or shared through a backend.
import type { Duration } from '../core/duration.ts';

/** What a limiter bounds: tokens per time (`rate`) or things held at once (`concurrency`). */
export type LimiterKind = 'rate' | 'concurrency';
/** Where a limiter's state lives: this process (`local`) or a backend shared by many (`shared`). */
export type LimiterScope = 'local' | 'shared';
/** Lifecycle of a limiter: `open` until {@link Limiter.close}. */
export type LimiterState = 'open' | 'closed';

/**
 * The right to go ahead, returned by {@link Limiter.acquire} and {@link Limiter.tryAcquire}.
 * Rate permits need no release (calling it is harmless); concurrency permits hold a slot until
 * released. `release` is idempotent and never rejects.
 */
export interface Permit {
  /** Gives the slot back (concurrency) or does nothing (rate). Resolves once the store saw it. */
  release(): Promise<void>;
  /**
   * Shared concurrency permits only: aborted (reason `LEASE_LOST`) when the slot's lease could
   * not be renewed before its TTL, i.e. another holder may now have it.
   */
  readonly signal?: AbortSignal;
}

/** Options of {@link Limiter.acquire}. */
export interface LimiterAcquireOptions {
  /** Gives up waiting (rejects with `ABORTED`). */
  signal?: AbortSignal;
  /** Tokens (rate) or slot size (concurrency) to take; default 1. Must be > 0 and fit the burst/max. */
  weight?: number;
}

/** Counters of one limiter in this process (a shared limiter counts only its own decisions). */
export interface LimiterStats {
  /** Tokens (rate) or slot weight (concurrency) granted so far. */
  readonly granted: number;
  /** Denied decisions so far (each retry of a waiting acquire counts once; local `tryAcquire` misses count too). */
  readonly denied: number;
  /** Acquires waiting now. */
  readonly waiting: number;
  /** Concurrency only: slot weight held now through this process. */
  readonly held: number;
  /** Keys (the whole limiter counts as key `''`) this process knows to be parked now. */
  readonly parked: number;
}

/** Events of a limiter; listeners run synchronously and must not throw. */
export interface LimiterEvents {
  [event: string]: unknown[];
  /** An `acquire` was granted after waiting `waitedMs` (0 when immediate). Not emitted by `tryAcquire`. */
  granted: [info: { key: string; weight: number; waitedMs: number }];
  /** An `acquire` decision was denied; it waits `retryAfterMs` (or until woken) and tries again. */
  denied: [info: { key: string; weight: number; retryAfterMs: number; parked: boolean }];
  /** A key (`''`: the whole limiter) was parked until `until` (clock ms). */
  parked: [info: { key: string; until: number }];
  /** A shared slot's lease was lost (not renewed in time); the permit's `signal` aborted. */
  lost: [info: { key: string; holder: string }];
  /** A background store call (renew, release) failed; the slot returns after its TTL at worst. */
  error: [error: unknown];
}

/**
 * One limiter. Made by `rateLimit` or `concurrencyLimit`; several runs, pools or pipelines may
 * share one instance, and several processes share one by giving the same `name` and `backend`.
 *
 * Conventions:
 * - **Keys**: `keyOf(item)` gives the key of an item (`''` without a key function). Each key has
 *   its own bucket or semaphore. Key `''` is also the whole limiter for {@link pause}.
 * - **Fast path**: {@link tryAcquire} decides synchronously without allocating for local rate
 *   limiters. It returns `undefined` when it cannot grant now — always for shared limiters, whose
 *   decisions need a round trip — and the caller falls back to {@link acquire}:
 *   `const permit = lim.tryAcquire(key) ?? (await lim.acquire(key, { signal }))`.
 * - **Waiting**: a denied rate acquire sleeps exactly the computed delay on the limiter's clock,
 *   then decides again; a concurrency acquire waits for a release (woken at once in-process,
 *   polled with backoff across processes). Every wait is cancellable through `signal`.
 * - **Time** comes from the limiter's injected `Clock` and is passed to the backend; the backend
 *   never reads its own time.
 * - **Parking** ({@link pause}) blocks grants of a key or of the whole limiter for a while without
 *   taking tokens; it is shared through the backend when the limiter is.
 * - After {@link close}, acquires reject with `CLOSED`, waiters are rejected with `CLOSED`, held
 *   shared slots are released and renew timers stop.
 */
export interface Limiter<T = unknown> {
  /** The limiter's name (the identity shared through a backend). */
  readonly name: string;
  readonly kind: LimiterKind;
  readonly scope: LimiterScope;
  readonly state: LimiterState;
  /** The key of an item (the `key` option applied, or `''`). */
  keyOf(item: T): string;
  /** Synchronous decision: a permit now, or `undefined` (then call {@link acquire}). */
  tryAcquire(key?: string, weight?: number): Permit | undefined;
  /** Waits until granted (or rejects with `ABORTED`/`CLOSED`/`CONFIG_INVALID`/`BACKEND_UNAVAILABLE`). */
  acquire(key?: string, options?: LimiterAcquireOptions): Promise<Permit>;
  /**
   * Parks `key` (default `''`: the whole limiter) for `ms`, cluster-wide when shared, without
   * taking tokens; resumes by itself. Resolves with the park's end (clock ms).
   */
  pause(ms: Duration, key?: string): Promise<number>;
  /** The end of the park this process knows for `key` (own or whole-limiter), or 0. */
  parkedUntil(key?: string): number;
  /** Counters of this process. */
  stats(): LimiterStats;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof LimiterEvents>(event: E, fn: (...args: LimiterEvents[E]) => void): () => void;
  /** Stops the limiter (see the conventions). Idempotent. */
  close(): Promise<void>;
}
