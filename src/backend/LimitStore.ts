// The storage contract behind cluster-wide limiters: GCRA rate buckets, leased semaphore slots and parks.

/**
 * What a rate bucket is configured with, passed on every call (nothing about the limiter's
 * configuration is stored, so two processes must agree on it through their own options).
 */
export interface RateSpec {
  /** Emission interval: milliseconds per token (`per / rate`). May be fractional. */
  readonly intervalMs: number;
  /** Tokens that may be taken at once by an idle bucket (>= 1). */
  readonly burst: number;
}

/** The outcome of {@link LimitStore.take}. */
export type RateDecision =
  | { readonly granted: true }
  | {
      readonly granted: false;
      /** Milliseconds after `now` at which the same request would be granted (or the park ends). */
      readonly retryAfterMs: number;
      /** Whether the denial came from a park rather than from an empty bucket. */
      readonly parked: boolean;
    };

/** What a semaphore is configured with, passed on every call. */
export interface SlotSpec {
  /** Total weight of unexpired slots allowed at once. */
  readonly max: number;
  /** Lease time of a slot; a holder that stops renewing loses it after this long. */
  readonly ttlMs: number;
}

/** The outcome of {@link LimitStore.acquireSlot}. */
export type SlotDecision =
  | { readonly granted: true; readonly expiresAt: number }
  | {
      readonly granted: false;
      /**
       * A hint: milliseconds until the earliest held slot expires (or the park ends). A slot may
       * be released earlier, so waiters also poll.
       */
      readonly retryAfterMs: number;
      readonly parked: boolean;
    };

/**
 * Limiter state shared by every process using one backend. Implemented by every built-in backend
 * as `backend.limits`; the same conformance suite (`src/backend/conformance/limits.ts`) runs on
 * each.
 *
 * Conventions:
 * - **Time is passed in**: every method that depends on time takes `now` (ms since the epoch) from
 *   the caller's clock; nothing reads the database's or the server's time. Processes whose clocks
 *   disagree therefore disagree about buckets by that skew (see `docs/flow-control.md`).
 * - A limiter is identified by `name`, a bucket or semaphore within it by `key`. The key `''` is
 *   the limiter's default bucket (limiters without a key function) and, for {@link park}, the
 *   whole limiter.
 * - Rate buckets follow GCRA: a bucket stores its theoretical arrival time `tat`. With
 *   `base = tat` when `tat > now − 1 ms`, else `now`, taking `weight` tokens at `now` is granted
 *   when `base + weight·interval − now <= burst·interval` (within 0.001 ms), and then sets `tat`
 *   to `base + weight·interval`; a denial changes nothing. (Keeping up to 1 ms of lateness on the
 *   schedule stops whole-ms clocks and rounded-up waits from slowing fractional rates.) `retryAfterMs`
 *   is the exact difference, rounded up to a whole millisecond.
 * - A park blocks grants of a key (or, with key `''`, of every key) until its end, without taking
 *   tokens. Parks only extend: a shorter park never shortens a longer one.
 * - Semaphore slots are leases of `holder`: held while `now < expiresAt`. A grant needs
 *   `held weight + weight <= max` after expired slots are dropped. Acquiring again with the same
 *   holder replaces its slot. A slot renewed after it expired is lost (`null`).
 * - Every call is one atomic decision (one round trip where the backend allows it). Errors follow
 *   the {@link Backend} conventions (`BACKEND_UNAVAILABLE`, `CLOSED`, `CONFIG_INVALID`).
 */
export interface LimitStore {
  /** Takes `weight` tokens from bucket (`name`, `key`) at `now`, or says how long to wait. */
  take(name: string, key: string, weight: number, spec: RateSpec, now: number): Promise<RateDecision>;
  /**
   * Parks key `key` of limiter `name` (`''`: the whole limiter) until `until`. Returns the end of
   * the park now in force (the later of `until` and an existing park).
   */
  park(name: string, key: string, until: number, now: number): Promise<number>;
  /** The end of the park in force for `key` (its own or the whole limiter's), or 0 when none. */
  parkedUntil(name: string, key: string, now: number): Promise<number>;
  /** Takes a slot of `weight` for `holder` in semaphore (`name`, `key`), or says how long to wait. */
  acquireSlot(
    name: string,
    key: string,
    holder: string,
    weight: number,
    spec: SlotSpec,
    now: number,
  ): Promise<SlotDecision>;
  /** Extends a held, unexpired slot to `now + ttlMs`; returns the new expiry or `null` when lost. */
  renewSlot(name: string, key: string, holder: string, ttlMs: number, now: number): Promise<number | null>;
  /** Releases a slot; returns whether it was held. */
  releaseSlot(name: string, key: string, holder: string): Promise<boolean>;
  /** Total weight of unexpired slots of semaphore (`name`, `key`) at `now`. */
  heldSlots(name: string, key: string, now: number): Promise<number>;
}
