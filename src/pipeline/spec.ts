// Validates the options of a pipeline and turns them into the engine's configuration.
import { z } from 'zod';
import type { Clock } from '../core/Clock.ts';
import { parseDuration } from '../core/duration.ts';
import { toError } from '../core/errors.ts';
import { validate } from '../core/validate.ts';
import { PartitionAssignment } from '../partition/PartitionAssignment.ts';
import {
  type AttemptRules,
  DEFAULT_RATE_LIMIT_DELAY_MS,
  defaultRetryOn,
  type RetryPredicate,
} from '../resilience/attempt/index.ts';
import type { Backoff } from '../resilience/Backoff.ts';
import { toBackoff } from '../resilience/index.ts';
import type { EngineConfig } from './engineTypes.ts';
import { eventPriority, flowConfig } from './flowSpec.ts';
import type { AckSource, StreamSource } from './source.ts';
import type { TopicSourceOptions } from './TopicSource.ts';
import type { ConcurrentOptions, ErrorHandler, ProcessFn, Strategy } from './types.ts';

/** Everything the builder collected. @internal */
export interface PipelineSpec<T, R, S> {
  readonly source: StreamSource<T>;
  readonly keyFn: ((item: T) => unknown) | undefined;
  readonly fn: ProcessFn<T, R, S> | undefined;
  readonly onError: ErrorHandler<T> | undefined;
  readonly concurrent: ConcurrentOptions<S, T> | undefined;
  readonly name: string;
  readonly clock: Clock;
  readonly partitions: number;
  readonly positionOf?: (item: T) => { partition: number; offset: number } | undefined;
  readonly idempotencyPrefix?: string;
  /** Set when the source is a backend topic. */
  readonly topic?: TopicSourceOptions;
  /** Checkpoint interval in ms (topic sources). */
  readonly checkpointEveryMs?: number;
  /** Set when the source acknowledges items upstream (broker connectors). */
  readonly ack?: AckSource<T>;
}

const int1 = (what: string) => z.number({ error: what }).int(what).min(1, what);
const fn = (what: string) =>
  z.custom<(...a: never[]) => unknown>((v) => typeof v === 'function', { error: what });

const concurrentSchema = z.object({
  maxWorkers: int1('an integer >= 1'),
  strategy: z
    .enum(['consistent_hash', 'round_robin', 'broadcast'], {
      error: 'one of "consistent_hash", "round_robin", "broadcast"',
    })
    .optional(),
  partitions: int1('an integer >= 1').optional(),
  concurrencyPerWorker: int1('an integer >= 1').optional(),
  maxInFlight: int1('an integer >= 1').optional(),
  timeout: z.unknown().optional(),
  retry: z
    .object({
      attempts: int1('an integer >= 1'),
      backoff: z.unknown().optional(),
      retryOn: fn('a function (error) => boolean').optional(),
    })
    .optional(),
  supervision: z.record(z.string(), z.unknown()).optional(),
  setup: fn('a function').optional(),
  teardown: fn('a function').optional(),
  clock: z.unknown().optional(),
  rateLimit: z.unknown().optional(),
  perKey: z
    .object({ concurrency: int1('an integer >= 1').optional(), rateLimit: z.unknown().optional() })
    .optional(),
  fairness: z.enum(['round_robin', 'weighted'], { error: 'one of "round_robin", "weighted"' }).optional(),
  weight: fn('a function (key) => number').optional(),
  priority: fn('a function (item) => number').optional(),
  priorityAging: z.unknown().optional(),
});

const DEFAULT_MAX_IN_FLIGHT = 1024;
const DEFAULT_ITEM_BACKOFF = { initial: '100ms', max: '10s', multiplier: 2, jitter: 'full' } as const;

/** Validates the builder's options and produces the engine configuration. @internal */
export function buildEngineConfig<T, R, S>(
  spec: PipelineSpec<T, R, S>,
  collect: boolean,
): EngineConfig<T, R, S> {
  const c = validate(
    concurrentSchema,
    spec.concurrent ?? { maxWorkers: 1 },
    'concurrent',
  ) as ConcurrentOptions<S, T>;
  const strategy: Strategy = c.strategy ?? (spec.keyFn ? 'consistent_hash' : 'round_robin');
  const partitions = c.partitions ?? spec.partitions;
  // Item retries come from `retry` only (default: one attempt, no retry). Worker restarts
  // (`supervision.maxRestarts`, default 3 within 60 s) are a separate setting of the supervisor.
  let attempts = 1;
  let backoff: Backoff = toBackoff(DEFAULT_ITEM_BACKOFF);
  let retryOn: RetryPredicate = defaultRetryOn;
  if (c.retry) {
    attempts = c.retry.attempts;
    if (c.retry.backoff !== undefined)
      backoff = toBackoff(c.retry.backoff as never, 'concurrent.retry.backoff');
    const userRetryOn = c.retry.retryOn;
    if (userRetryOn) retryOn = (error, attempt) => userRetryOn(toError(error), attempt);
  }
  const rules: AttemptRules = { attempts, backoff, retryOn, rateLimitDelayMs: DEFAULT_RATE_LIMIT_DELAY_MS };
  const maxWorkers = c.maxWorkers;
  // Partitions (not keys) are owned by workers: consistent hashing of the partitions over the
  // worker ids, as a cluster spreads them over nodes.
  const owners = PartitionAssignment.create({
    members: Array.from({ length: maxWorkers }, (_, i) => String(i)),
    partitions,
    strategy: 'consistent_hash',
  }).ownersArray();
  const owner = Int32Array.from(owners, Number);
  const cfg: EngineConfig<T, R, S> = {
    source: spec.source,
    keyFn: spec.keyFn,
    fn: spec.fn as ProcessFn<T, R, S>,
    onError: spec.onError,
    maxWorkers,
    strategy,
    partitions,
    perWorker: c.concurrencyPerWorker ?? 1,
    maxInFlight: c.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
    timeoutMs: c.timeout === undefined ? undefined : parseDuration(c.timeout, 'concurrent.timeout'),
    rules,
    clock: (c.clock as Clock | undefined) ?? spec.clock,
    collect,
    name: spec.name,
    setup: c.setup,
    teardown: c.teardown,
    idempotencyPrefix: spec.idempotencyPrefix ?? spec.name,
    partitionOwner: owner,
    flow: flowConfig(
      c,
      (c.clock as Clock | undefined) ?? spec.clock,
      spec.keyFn !== undefined,
      spec.topic ? (eventPriority as (item: T) => number) : undefined,
    ),
  };
  return spec.positionOf ? { ...cfg, positionOf: spec.positionOf } : cfg;
}
