// mapConcurrent: applies a function to every item with bounded concurrency and returns one result per item, in input order.
import { BatchRun } from './BatchRun.ts';
import { assertFn, assertInput, resolveOptions } from './options.ts';
import { ABORTED_REASON, skippedResult } from './results.ts';
import type { ItemFn, ItemResult, MapConcurrentOptions, PoolInput } from './types.ts';

/**
 * Applies `fn` to every item with at most `concurrency` items in flight and returns one
 * {@link ItemResult} per item, in input order. A failing item never stops the batch: it becomes
 * `{ status: 'error' }` and the others go on.
 *
 * - **Lazy input**: the source (array, iterable, async iterable — possibly unbounded) is pulled
 *   only when a lane is free, so at most `concurrency` items are taken ahead of completion.
 *   The returned array holds every result; for unbounded input use {@link mapConcurrentStream}.
 * - **Cancellation**: when `signal` aborts, no further item starts, in-flight items see
 *   `ctx.signal` abort, and the promise *resolves* with partial results once in-flight items
 *   settle. For array input every index gets a result (items never started are
 *   `{ status: 'skipped', reason: 'aborted' }`); other sources are not pulled any further (the
 *   iterator is closed) and the results cover the items pulled.
 * - **Timeout** (per attempt): the attempt fails with a `SluiceError` code `TIMEOUT` and its
 *   `ctx.signal` aborts; the lane moves on without waiting for a function that ignores the signal.
 * - **Retry**: `retry.attempts` total attempts with `retry.backoff` delays (on `clock`);
 *   `UnrecoverableError` is never retried. After a cancellation no new attempt starts.
 * - **Skip**: `return skip(reason)` (or throw it) to mark an item skipped.
 * - A source that throws stops the pulling; the promise rejects with that error after in-flight
 *   items settle.
 *
 * @throws SluiceError `CONFIG_INVALID` naming the field for a bad `concurrency`, `timeout`,
 *   `retry`, non-function `fn` or non-iterable `items`.
 * @example
 * ```ts
 * const results = await mapConcurrent(urls, (url, { signal }) => fetch(url, { signal }).then((r) => r.status), {
 *   concurrency: 8,
 *   timeout: '10s',
 *   retry: { attempts: 3, backoff: backoff.exponential({ initial: '200ms' }) },
 * });
 * for (const r of results) if (r.status === 'error') console.error(r.index, r.error.message);
 * ```
 */
export async function mapConcurrent<T, R>(
  items: PoolInput<T>,
  fn: ItemFn<T, R>,
  opts: MapConcurrentOptions<NoInfer<T>> = {},
): Promise<ItemResult<R>[]> {
  assertInput(items);
  assertFn(fn);
  const resolved = resolveOptions(opts);
  // Array input: results go straight to their final place. Other sources: small chunks,
  // flattened at the end (the length is not known in advance).
  const direct = Array.isArray(items) ? new Array<ItemResult<R>>(items.length) : undefined;
  const chunks: ItemResult<R>[][] = [];
  const sink =
    direct ??
    ((r: ItemResult<R>) => {
      const c = r.index >>> CHUNK_BITS;
      let chunk = chunks[c];
      if (chunk === undefined) chunks[c] = chunk = new Array<ItemResult<R>>(CHUNK);
      chunk[r.index & CHUNK_MASK] = r;
    });
  const run = new BatchRun(items, fn, resolved, sink);
  await run.run();
  const src = run.sourceError;
  if (src.failed) throw src.error;
  const pulled = run.pulled;
  let results = direct;
  if (results === undefined) {
    results = new Array<ItemResult<R>>(pulled);
    for (let i = 0; i < pulled; i++)
      results[i] = (chunks[i >>> CHUNK_BITS] as ItemResult<R>[])[i & CHUNK_MASK] as ItemResult<R>;
  }
  // Array input, cancelled: items never started are reported as skipped.
  for (let i = pulled; i < results.length; i++) results[i] = skippedResult(ABORTED_REASON, i, 0);
  return results;
}

const CHUNK_BITS = 10;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;
