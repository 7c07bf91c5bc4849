/**
 * A backoff strategy: how long to wait before retry number `attempt`.
 * Implementations are tiny and pure apart from their random source; see `backoff.ts` for
 * the factories (`exponential`, `fixed`, custom).
 */
export interface Backoff {
  /**
   * Delay in milliseconds before retry `attempt` (1 = first retry).
   * @param previousDelayMs - the delay returned for the previous attempt (0 for the first);
   *   used by decorrelated jitter.
   */
  next(attempt: number, previousDelayMs: number): number;
}
