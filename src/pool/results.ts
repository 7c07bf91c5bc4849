// Factories of the pool's item results (ok, error, skipped), one object shape per kind.
import type { ItemError, ItemOk, ItemSkipped } from './types.ts';

// Factories keep every result of a kind on one object shape (one hidden class in V8).

/** Builds an `ok` result. */
export function okResult<R>(value: R, index: number, attempts: number, workerId: number): ItemOk<R> {
  return { status: 'ok', value, index, attempts, workerId };
}

/** Builds an `error` result. */
export function errorResult(error: Error, index: number, attempts: number, workerId: number): ItemError {
  return { status: 'error', error, index, attempts, workerId };
}

/** Builds a `skipped` result. */
export function skippedResult(reason: string, index: number, attempts: number): ItemSkipped {
  return { status: 'skipped', reason, index, attempts };
}

/** The reason given to items that never started because the batch was cancelled. */
export const ABORTED_REASON = 'aborted';
