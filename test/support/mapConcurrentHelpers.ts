// Helpers of the mapConcurrent tests: a promise with its settle functions exposed, event-loop yields, the values of ok results.
import type { ItemResult } from '../../src/pool/types.ts';

/** A promise with its resolve/reject exposed. */
export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Yields to the event loop `n` times (no wall-clock waiting). */
export async function yieldTimes(n: number) {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

/** The values of `results`, in order; throws when an item is not `ok`. */
export function values<R>(results: ItemResult<R>[]): R[] {
  return results.map((r) => {
    if (r.status !== 'ok') throw new Error(`item ${r.index} is ${r.status}`);
    return r.value;
  });
}
