// The Backoff strategy type: the delay before retry number `attempt`, given the previous delay.
/**
 * A backoff strategy: how long to wait before retry number `attempt`.
 * Implementations are tiny and pure apart from their random source; see `backoffFactories.ts`
 * for the factories (`backoff.exponential`, `backoff.fixed`, `backoff.custom`) and
 * `toBackoff` for the configuration shapes.
 *
 * @example
 * ```ts
 * // A custom strategy: linear growth, capped at 10 seconds.
 * const linear: Backoff = { next: (attempt) => Math.min(10_000, attempt * 500) };
 * ```
 */
export interface Backoff {
  /**
   * Delay in milliseconds before retry `attempt` (1 = first retry).
   * @param previousDelayMs - the delay returned for the previous attempt (0 for the first);
   *   used by decorrelated jitter.
   */
  next(attempt: number, previousDelayMs: number): number;
}
