import { type Clock, systemClock } from '../core/Clock.ts';
import { parseDuration } from '../core/duration.ts';
import { configError, SluiceError } from '../core/errors.ts';
import { DEFAULT_PARTITIONS } from '../core/hash.ts';
import { PipelineRun } from './PipelineRun.ts';
import type { StreamSource } from './source.ts';
import { buildEngineConfig, type PipelineSpec } from './spec.ts';
import type {
  CollectResult,
  ConcurrentOptions,
  ErrorHandler,
  PipelineReport,
  ProcessFn,
  RunOptions,
} from './types.ts';

/**
 * A declarative pipeline over a source. Each call returns a new stage; nothing runs until
 * {@link Stream.collect}, {@link Stream.run} or {@link Stream.start}.
 *
 * Guarantees: strict order per partition key (also across retries and worker restarts),
 * parallelism across keys, at most `maxInFlight` items taken from the source and not yet
 * finished (backpressure; memory does not grow with the stream's length under `run()`).
 *
 * @example
 * ```ts
 * const { results, errors, report } = await stream(orders)
 *   .partitionBy((o) => o.customerId)
 *   .concurrent({ maxWorkers: 8, supervision: { restart: 'always', maxRestarts: 3, backoff: 'exponential' } })
 *   .process(async (o, ctx) => ship(o, ctx.idempotencyKey))
 *   .onError((error, o) => dlq.push(o, error))
 *   .collect();
 * ```
 */
export class Stream<T, R = T, S = unknown> {
  /** @internal */
  constructor(private readonly spec: PipelineSpec<T, R, S>) {}

  /** Routes items by key: items with the same key are processed one at a time, in order. */
  partitionBy(keyFn: (item: T) => unknown): Stream<T, R, S> {
    if (typeof keyFn !== 'function') throw configError('partitionBy', 'a function (item) => key', keyFn);
    return new Stream({ ...this.spec, keyFn });
  }

  /** Sets workers, routing strategy, retries and supervision. */
  concurrent<S2 = S>(options: ConcurrentOptions<S2>): Stream<T, R, S2> {
    return new Stream<T, R, S2>({ ...(this.spec as unknown as PipelineSpec<T, R, S2>), concurrent: options });
  }

  /** The work done for each item. Throw or return `Err(...)` to fail an attempt. */
  process<R2>(fn: ProcessFn<T, R2, S>): Stream<T, R2, S> {
    if (typeof fn !== 'function') throw configError('process', 'a function (item, ctx) => result', fn);
    return new Stream<T, R2, S>({ ...(this.spec as unknown as PipelineSpec<T, R2, S>), fn });
  }

  /** Called once for each item that failed for good (e.g. push it to a dead-letter queue). */
  onError(handler: ErrorHandler<T>): Stream<T, R, S> {
    if (typeof handler !== 'function')
      throw configError('onError', 'a function (error, item, info) => void', handler);
    return new Stream({ ...this.spec, onError: handler });
  }

  /** Names the pipeline (used in idempotency keys, metrics and logs). */
  name(name: string): Stream<T, R, S> {
    if (typeof name !== 'string' || name.length === 0) throw configError('name', 'a non-empty string', name);
    return new Stream({ ...this.spec, name });
  }

  /** Runs to the end of the source and returns the values in input order, the failures and a report. */
  async collect(options: RunOptions = {}): Promise<CollectResult<T, R>> {
    const run = this.launch(true, options);
    const report = await run.done;
    const { results, errors } = run.collected();
    return { results, errors, report };
  }

  /** Runs without keeping results (for long or unbounded streams); resolves with the report when the source ends or the signal aborts. */
  run(options: RunOptions = {}): Promise<PipelineReport> {
    return this.launch(false, options).done;
  }

  /** Starts the pipeline and returns a handle to watch or stop it. */
  start(options: RunOptions = {}): PipelineRun<T, R> {
    return this.launch(false, options);
  }

  private launch(collect: boolean, options: RunOptions): PipelineRun<T, R> {
    if (this.spec.fn === undefined) {
      throw new SluiceError(
        'CONFIG_INVALID',
        'Expected `process` to be called before running the pipeline, got none',
        {
          context: { field: 'process' },
        },
      );
    }
    const drainTimeoutMs =
      options.drainTimeout === undefined ? 30_000 : parseDuration(options.drainTimeout, 'drainTimeout');
    const cfg = buildEngineConfig(this.spec, collect);
    return PipelineRun.launch(cfg, this.spec.concurrent?.supervision, options.signal, drainTimeoutMs);
  }
}

/**
 * Starts a pipeline from an array, a (async) iterable or a Node Readable in object mode.
 *
 * @example
 * ```ts
 * const { results } = await stream([1, 2, 3]).concurrent({ maxWorkers: 2 }).process((n) => n * 2).collect();
 * ```
 */
export function stream<T>(source: StreamSource<T>, options: { clock?: Clock } = {}): Stream<T, T> {
  if (source === null || source === undefined || typeof source !== 'object') {
    throw configError('source', 'an array, an iterable, an async iterable or a Readable stream', source);
  }
  return new Stream<T, T>({
    source,
    keyFn: undefined,
    fn: undefined,
    onError: undefined,
    concurrent: undefined,
    name: 'pipeline',
    clock: options.clock ?? systemClock,
    partitions: DEFAULT_PARTITIONS,
  });
}
