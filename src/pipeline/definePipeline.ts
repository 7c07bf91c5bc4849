// `definePipeline`: a pipeline over a backend topic as run by `sluice run <file>`.
import { z } from 'zod';
import type { Backend, LogEvent } from '../backend/Backend.ts';
import type { Duration } from '../core/duration.ts';
import { validate } from '../core/validate.ts';
import type { Stream } from './stream.ts';

/**
 * A pipeline over a backend topic, as run by `sluice run <file>`: the module's default export.
 * The runner opens the backend, consumes `topic` as consumer group `name` from its committed
 * offsets, sends failures to the backend's dead-letter queue, checkpoints, and resumes where it
 * stopped after a crash.
 */
export interface PipelineDefinition<T = unknown> {
  /** Pipeline name: the consumer group and the dead-letter source. */
  name: string;
  /** Topic consumed. Created with `partitions` partitions when missing. */
  topic: string;
  /** Partitions of the topic when it is created (default 16). */
  partitions?: number;
  /** Adds stages to the topic stream: `partitionBy`, `concurrent`, `process`, `onError`. */
  build: (source: Stream<LogEvent<T>, LogEvent<T>>) => Stream<LogEvent<T>, unknown, unknown>;
  /** Checkpoint interval (default `100ms`). */
  checkpointEvery?: Duration;
  /** Keep consuming new events instead of stopping at the end of the log (default false). */
  follow?: boolean;
  /** Optional producer run by `sluice run --produce` before consuming (e.g. demo data). */
  produce?: (backend: Backend, options: { signal: AbortSignal }) => Promise<void>;
}

const schema = z.object({
  name: z.string({ error: 'a non-empty string' }).min(1, 'a non-empty string'),
  topic: z.string({ error: 'a non-empty string' }).min(1, 'a non-empty string'),
  partitions: z
    .number({ error: 'an integer >= 1' })
    .int('an integer >= 1')
    .min(1, 'an integer >= 1')
    .optional(),
  build: z.custom<(...a: never[]) => unknown>((v) => typeof v === 'function', { error: 'a function' }),
  checkpointEvery: z.unknown().optional(),
  follow: z.boolean({ error: 'a boolean' }).optional(),
  produce: z
    .custom<(...a: never[]) => unknown>((v) => typeof v === 'function', { error: 'a function' })
    .optional(),
});

/**
 * Declares a pipeline for `sluice run`; validates it (CONFIG_INVALID names the field).
 *
 * @example
 * ```ts
 * export default definePipeline<Order>({
 *   name: 'shipping',
 *   topic: 'orders',
 *   build: (s) => s.partitionBy((e) => e.payload.customerId)
 *     .concurrent({ maxWorkers: 8 })
 *     .process((e, ctx) => ship(e.payload, ctx.idempotencyKey)),
 * });
 * ```
 */
export function definePipeline<T = unknown>(definition: PipelineDefinition<T>): PipelineDefinition<T> {
  validate(schema, definition, 'pipeline');
  return definition;
}
