// The declarative pipeline builder: `stream(source)` and its stages.
import { z } from 'zod';
import type { Backend, LogEvent } from '../backend/Backend.ts';
import { type Clock, systemClock } from '../core/Clock.ts';
import type { Duration } from '../core/duration.ts';
import { parseDuration } from '../core/duration.ts';
import { configError, SluiceError } from '../core/errors.ts';
import { DEFAULT_PARTITIONS } from '../core/hash.ts';
import { validate } from '../core/validate.ts';
import type { PartitionKey } from './keys.ts';
import { PipelineRun } from './PipelineRun.ts';
import { type AckSource, isAckSource, type StreamSource } from './source.ts';
import { buildEngineConfig, type PipelineSpec } from './spec.ts';
import type { TopicSourceOptions } from './TopicSource.ts';
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
 *   .concurrent({ maxWorkers: 8, retry: { attempts: 3 }, supervision: { restart: 'always', maxRestarts: 3 } })
 *   .process(async (o, ctx) => ship(o, ctx.idempotencyKey))
 *   .onError((error, o) => dlq.push(o, error))
 *   .collect();
 * ```
 */
export class Stream<T, R = T, S = unknown> {
  /** @internal */
  constructor(private readonly spec: PipelineSpec<T, R, S>) {}

  /**
   * Routes items by key: items with the same key (`===`) are processed one at a time, in order.
   * The key must be a string or a finite number, checked for every item: any other value
   * (an object, `undefined`, `null`, `NaN`, ...) fails the run with `CONFIG_INVALID` naming its
   * type — items already started finish first (and topic checkpoints keep them), nothing after
   * the bad item is processed. A key function that throws fails only that item.
   */
  partitionBy(keyFn: (item: T) => PartitionKey): Stream<T, R, S> {
    if (typeof keyFn !== 'function') throw configError('partitionBy', 'a function (item) => key', keyFn);
    return new Stream({ ...this.spec, keyFn });
  }

  /** Sets workers, routing strategy, retries, supervision and flow control (limits, fairness, priorities). */
  concurrent<S2 = S>(options: ConcurrentOptions<S2, T>): Stream<T, R, S2> {
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

  /**
   * Commits consumed offsets of a topic source to its backend every `every` (default 100 ms)
   * and when the run ends. The committed offset of a partition never passes an event that is
   * not finished (processed, or failed and handed to `onError`); events finished beyond it are
   * committed as idempotency markers and skipped after a restart.
   */
  checkpoint(options: { every?: Duration; backend?: Backend } = {}): Stream<T, R, S> {
    const every = options.every === undefined ? 100 : parseDuration(options.every, 'checkpoint.every');
    if (
      options.backend !== undefined &&
      this.spec.topic !== undefined &&
      options.backend !== this.spec.topic.backend
    ) {
      throw configError('checkpoint.backend', 'the backend of the topic source', 'another backend');
    }
    return new Stream({ ...this.spec, checkpointEveryMs: every });
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
    if (this.spec.checkpointEveryMs !== undefined && this.spec.topic === undefined) {
      throw new SluiceError(
        'CONFIG_INVALID',
        'Expected the source of a checkpointed pipeline to be a backend topic (stream({ backend, topic, group })), got another source',
        { context: { field: 'checkpoint' } },
      );
    }
    const cfg = buildEngineConfig(this.spec, collect);
    const topic = this.spec.topic
      ? { options: this.spec.topic, checkpointEveryMs: this.spec.checkpointEveryMs }
      : undefined;
    return PipelineRun.launch(
      cfg,
      { supervision: this.spec.concurrent?.supervision, topic, ack: this.spec.ack },
      options.signal,
      drainTimeoutMs,
    );
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
export function stream<T>(source: StreamSource<T> | AckSource<T>, options?: { clock?: Clock }): Stream<T, T>;
/** Starts a pipeline that consumes a backend topic as a consumer group (see {@link TopicSourceOptions}). */
export function stream<T = unknown>(
  source: TopicSourceOptions,
  options?: { clock?: Clock },
): Stream<LogEvent<T>, LogEvent<T>>;
export function stream<T>(
  source: StreamSource<T> | AckSource<T> | TopicSourceOptions,
  options: { clock?: Clock } = {},
): Stream<T, T> {
  if (source === null || source === undefined || typeof source !== 'object') {
    throw configError('source', 'an array, an iterable, an async iterable or a Readable stream', source);
  }
  if (isTopicSource(source)) return fromTopic(source, options) as unknown as Stream<T, T>;
  if (isAckSource(source)) {
    const ack = source as AckSource<T>;
    return new Stream<T, T>({
      source: [],
      keyFn: (item) => ack.keyOf(item),
      fn: undefined,
      onError: undefined,
      concurrent: undefined,
      name: ack.name,
      clock: options.clock ?? systemClock,
      partitions: DEFAULT_PARTITIONS,
      ack,
    });
  }
  return new Stream<T, T>({
    source: source as StreamSource<T>,
    keyFn: undefined,
    fn: undefined,
    onError: undefined,
    concurrent: undefined,
    name: 'pipeline',
    clock: options.clock ?? systemClock,
    partitions: DEFAULT_PARTITIONS,
  });
}

function isTopicSource(s: object): s is TopicSourceOptions {
  const o = s as Partial<TopicSourceOptions>;
  return typeof o.topic === 'string' && typeof o.group === 'string' && typeof o.backend === 'object';
}

const topicSchema = z.object({
  backend: z.custom<Backend>(
    (b) => typeof b === 'object' && b !== null && typeof (b as Backend).read === 'function',
    {
      error: 'a Backend',
    },
  ),
  topic: z.string({ error: 'a non-empty string' }).min(1, 'a non-empty string'),
  group: z.string({ error: 'a non-empty string' }).min(1, 'a non-empty string'),
  partitions: z.array(z.number().int().min(0), { error: 'an array of partition numbers' }).optional(),
  batchSize: z
    .number({ error: 'an integer >= 1' })
    .int('an integer >= 1')
    .min(1, 'an integer >= 1')
    .optional(),
  follow: z.boolean({ error: 'a boolean' }).optional(),
  pollInterval: z.number({ error: 'a number >= 1' }).min(1, 'a number >= 1').optional(),
});

/**
 * Consumes a backend topic as consumer group `group`, from its committed offsets. Items are the
 * log events; by default they are partitioned by the event key (or partition), so per-key order
 * is the log's order. Combine with `.checkpoint()` to commit progress and resume after a crash.
 *
 * @example
 * ```ts
 * await stream.fromTopic({ backend, topic: 'orders', group: 'shipping' })
 *   .concurrent({ maxWorkers: 8 })
 *   .process((e, ctx) => ship(e.payload, ctx.idempotencyKey))
 *   .checkpoint({ every: '100ms' })
 *   .run();
 * ```
 */
export function fromTopic<T = unknown>(
  options: TopicSourceOptions,
  streamOptions: { clock?: Clock } = {},
): Stream<LogEvent<T>, LogEvent<T>> {
  validate(topicSchema, options, 'source');
  return new Stream<LogEvent<T>, LogEvent<T>>({
    source: [],
    keyFn: (e) => e.key ?? `#${e.partition}`,
    fn: undefined,
    onError: undefined,
    concurrent: undefined,
    name: options.group,
    clock: streamOptions.clock ?? systemClock,
    partitions: DEFAULT_PARTITIONS,
    topic: options,
  });
}

stream.fromTopic = fromTopic;
