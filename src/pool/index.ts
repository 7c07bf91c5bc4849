// Public exports of the pool layer: mapConcurrent, mapConcurrentStream, runBatch, skip and ThreadPool.
/**
 * Bounded-concurrency batch processing (`mapConcurrent`, `mapConcurrentStream`, `runBatch`) and
 * a worker-thread pool for CPU-bound functions (`ThreadPool`).
 * @packageDocumentation
 */
export { mapConcurrent } from './mapConcurrent.ts';
export { mapConcurrentStream } from './mapConcurrentStream.ts';
export { DEFAULT_CONCURRENCY, defaultConcurrency } from './options.ts';
export type { BatchItemDetail, BatchProgress, BatchReport, RunBatchOptions } from './runBatch.ts';
export { runBatch } from './runBatch.ts';
export { isSkip, SkipItem, skip } from './skip.ts';
export type {
  ThreadPoolCloseOptions,
  ThreadPoolOptions,
  ThreadPoolState,
  ThreadPoolStats,
  ThreadRunOptions,
} from './ThreadPool.ts';
export { ThreadPool } from './ThreadPool.ts';
export type {
  ItemContext,
  ItemError,
  ItemFn,
  ItemOk,
  ItemResult,
  ItemSkipped,
  MapConcurrentOptions,
  MapConcurrentStreamOptions,
  PoolInput,
  PoolPerKeyOptions,
  PoolRetryOptions,
} from './types.ts';
