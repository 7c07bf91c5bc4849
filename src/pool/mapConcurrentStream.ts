// mapConcurrentStream: mapConcurrent as an async iterator yielding results in input order within a bounded window.
import { SluiceError } from '../core/errors.ts';
import { BatchRun } from './BatchRun.ts';
import { assertFn, assertInput, resolveOptions } from './options.ts';
import { ABORTED_REASON, skippedResult } from './results.ts';
import type { ItemFn, ItemResult, MapConcurrentStreamOptions, PoolInput } from './types.ts';

/**
 * Like {@link mapConcurrent} but yields results one by one, in input order, as soon as the
 * next one in order is ready — for large or unbounded inputs.
 *
 * Memory is bounded: processing runs at most `window` items (default `4 * concurrency`) ahead of
 * what the consumer has taken, so a slow item or a slow consumer pauses pulling from the source
 * instead of piling up results. Work starts on the first `next()`. Leaving the loop early
 * (`break`, `return`, a thrown error) cancels in-flight items (their `ctx.signal` aborts), closes
 * the source, and waits for in-flight items to settle before the loop exits.
 *
 * Cancellation through `signal`, timeouts, retries, skips and source errors behave as in
 * {@link mapConcurrent}; a source error is thrown by the iterator after the results before it.
 *
 * @example
 * ```ts
 * for await (const r of mapConcurrentStream(readLines('big.ndjson'), parseAndStore, { concurrency: 16 })) {
 *   if (r.status === 'error') log.warn({ index: r.index, err: r.error });
 * }
 * ```
 */
export function mapConcurrentStream<T, R>(
  items: PoolInput<T>,
  fn: ItemFn<T, R>,
  opts: MapConcurrentStreamOptions<NoInfer<T>> = {},
): AsyncIterableIterator<ItemResult<R>> {
  assertInput(items);
  assertFn(fn);
  const resolved = resolveOptions(opts);
  const window = resolved.window;
  const buf: (ItemResult<R> | undefined)[] = new Array<ItemResult<R> | undefined>(window);
  let emitted = 0;
  let finished = false;
  let errorThrown = false;
  let closed = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const run = new BatchRun(items, fn, resolved, (r) => {
    buf[r.index % window] = r;
    if (r.index === emitted) notify();
  });
  let done: Promise<void> | undefined;
  const start = () => {
    if (done) return done;
    run.setGate(window);
    done = run.run().then(() => {
      finished = true;
      notify();
    });
    return done;
  };

  const take = (): ItemResult<R> | undefined => {
    const slot = emitted % window;
    const r = buf[slot];
    if (r === undefined || r.index !== emitted) return undefined;
    buf[slot] = undefined;
    emitted++;
    run.setGate(emitted + window);
    return r;
  };

  const nextInOrder = async (): Promise<IteratorResult<ItemResult<R>>> => {
    if (closed) return { done: true, value: undefined };
    start();
    for (;;) {
      const r = take();
      if (r) return { done: false, value: r };
      if (finished) {
        const len = run.knownLength;
        if (len !== undefined && emitted < len) {
          // Array input, cancelled: every index still gets a result.
          return { done: false, value: skippedResult(ABORTED_REASON, emitted++, 0) };
        }
        const src = run.sourceError;
        if (src.failed && !errorThrown) {
          errorThrown = true;
          closed = true;
          throw src.error;
        }
        closed = true;
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  };
  // Calls to next() that overlap are served one after the other.
  let pending: Promise<unknown> = Promise.resolve();

  const iterator: AsyncIterableIterator<ItemResult<R>> = {
    next(): Promise<IteratorResult<ItemResult<R>>> {
      const p = pending.then(nextInOrder);
      pending = p.catch(() => {});
      return p;
    },
    async return(): Promise<IteratorResult<ItemResult<R>>> {
      closed = true;
      if (done) {
        run.stop(new SluiceError('ABORTED', 'The result stream was closed by its consumer'));
        await done;
      }
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return iterator;
}
