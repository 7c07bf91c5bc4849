// partitionedRunner options: handler context, defaults (heartbeat, failureTimeout, lease TTL, poll), validation.
import { z } from 'zod';
import type { Backend, LogEvent } from '../../backend/Backend.ts';
import { type Clock, systemClock } from '../../core/Clock.ts';
import { type Duration, parseDuration } from '../../core/duration.ts';
import { configError, isSluiceError } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import type { AssignmentFn, AssignmentStrategyName } from '../../partition/assignmentStrategies.ts';
import { type AttemptPolicy, attemptPolicy } from '../../resilience/attempt/AttemptPolicy.ts';
import { type BackoffSpec, toBackoff } from '../../resilience/backoffFactories.ts';
import type { RunnerFence } from './LeaseGuard.ts';
import { gatedBatchHandler, gatedEventHandler, type RunnerLimitOptions, runnerGate } from './runnerGate.ts';

/** What a handler is given with each event (or batch). */
export interface RunnerHandlerContext {
  /** The partition being processed. */
  readonly partition: number;
  /** The fencing token of the runner's lease on the partition (0 in fixed mode). */
  readonly fencingToken: number;
  /**
   * The partition lease and this runner's fencing token on it, for fenced writes to an external
   * store (write only when the stored fence is not newer: see docs/cluster.md, "Fenced writes");
   * `undefined` in fixed mode, which has no leases.
   */
  readonly fence: RunnerFence | undefined;
  /** The runner's node name. */
  readonly nodeName: string;
  /**
   * Aborts the moment the lease's known expiry passes without a renewal, when the partition is
   * lost (lease taken, commit fenced) or when the runner is forced to stop: stop side effects
   * that are not idempotent. The lease is also checked before each event, so a runner resumed
   * after a long pause calls no handler under an expired lease.
   */
  readonly signal: AbortSignal;
}

/** Context of a per-event handler. */
export interface RunnerEventContext extends RunnerHandlerContext {
  /** The event's offset. */
  readonly offset: number;
  /** A stable key for the event's effect: `<group>:<topic>:<partition>:<offset>`. */
  readonly idempotencyKey: string;
}

/** Processes one event. Events of a partition are handled one at a time, in offset order. */
export type RunnerEventHandler<T = unknown> = (event: LogEvent<T>, ctx: RunnerEventContext) => unknown;
/** Processes one batch (consecutive offsets of one partition). */
export type RunnerBatchHandler<T = unknown> = (
  events: readonly LogEvent<T>[],
  ctx: RunnerHandlerContext,
) => unknown;

/** Fixed mode: runner `index` of `total` owns the partitions `p` with `p % total === index`. */
export interface FixedPartitioning {
  readonly index: number;
  readonly total: number;
}

/** Options of {@link partitionedRunner}. */
export interface PartitionedRunnerOptions<T = unknown> extends RunnerLimitOptions<T> {
  /** Where the topic, offsets, leases and membership live. */
  backend: Backend;
  /** Consumer group: offsets are committed per group. Lease names are `<group>/<topic>/<partition>`. */
  group: string;
  /** The topic consumed. */
  topic: string;
  /**
   * Partition count used to create the topic when missing (`ensureTopic`). Omitted, the topic
   * must exist (`NOT_FOUND` at `start()` otherwise). An existing topic keeps its own count.
   */
  partitions?: number;
  /** Called for every event, in offset order per partition. Give `handler` or `batchHandler`. */
  handler?: RunnerEventHandler<T>;
  /** Called with each batch read from a partition. Give `handler` or `batchHandler`. */
  batchHandler?: RunnerBatchHandler<T>;
  /** This runner's name: unique among the runners of the group (default `<hostname>-<pid>`). */
  nodeName?: string;
  /** Heartbeat and lease-renewal interval (default `1s`). */
  heartbeat?: Duration;
  /** A runner whose heartbeat is older than this is dead; its partitions move (default `5s`). */
  failureTimeout?: Duration;
  /** TTL of partition leases (default: `failureTimeout`). Must be longer than `heartbeat`. */
  leaseTtl?: Duration;
  /**
   * Events handled and committed per batch (default 100). A smaller batch is still read 100
   * events at a time (then handed out a batch at a time), so `batchSize: 1` — a commit after
   * every event — costs no read per event.
   */
  batchSize?: number;
  /**
   * How often the runner polls its idle partitions — all of them in one backend call
   * (`readMany`). Default `1s` when the backend's `watch` sees appends of every process (memory,
   * PostgreSQL `LISTEN/NOTIFY`, Redis pub/sub: a partition with new events is read at once, the
   * poll is only a fallback), `100ms` otherwise (SQLite, whose `watch` sees only its own
   * instance's appends).
   */
  pollInterval?: Duration;
  /**
   * Group commit: how long a partition's commit waits for the commits of the runner's other
   * partitions, all written in one backend call (`commitMany`: one transaction on PostgreSQL and
   * SQLite, one script on Redis). Default `0`: written at once, or — while a batch is being
   * written — together with the others right after it. A few ms (`'2ms'`) gather more commits
   * per transaction under load, at that much added latency.
   */
  commitDelay?: Duration;
  /** How partitions are spread over live runners (default: {@link balancedStickyAssignment}). */
  assignment?: 'balanced_sticky' | AssignmentStrategyName | AssignmentFn;
  /** Fixed mode: no leases, no failover; see {@link FixedPartitioning}. */
  fixed?: FixedPartitioning;
  /** Delay before processing a failed batch again (default exponential 100 ms .. 5 s). */
  retryBackoff?: BackoffSpec;
  /** How long `stop()` waits for in-flight handlers before aborting them (default `30s`). */
  shutdownTimeout?: Duration;
  /** Time source (default `systemClock`); use the backend's clock. */
  clock?: Clock;
  /** Aborting it stops the runner gracefully. */
  signal?: AbortSignal;
}

/** Options after validation. */
export interface ResolvedRunnerOptions<T> {
  backend: Backend;
  group: string;
  topic: string;
  partitions: number | undefined;
  handler: RunnerEventHandler<T> | undefined;
  batchHandler: RunnerBatchHandler<T> | undefined;
  nodeName: string;
  heartbeatMs: number;
  failureTimeoutMs: number;
  leaseTtlMs: number;
  batchSize: number;
  /** Events read per partition and read: `batchSize`, at least 100 (batches are committed `batchSize` at a time). */
  readSize: number;
  pollIntervalMs: number;
  commitDelayMs: number;
  assignment: 'balanced_sticky' | AssignmentStrategyName | AssignmentFn;
  fixed: FixedPartitioning | undefined;
  /** Runs each batch: every error but a lost partition is retried after `retryBackoff`, without limit. */
  batchPolicy: AttemptPolicy;
  /** Runs each commit: retryable backend errors are retried after `retryBackoff`, without limit. */
  commitPolicy: AttemptPolicy;
  shutdownTimeoutMs: number;
  clock: Clock;
  signal: AbortSignal | undefined;
}

const fn = z.custom<(...a: never[]) => unknown>((v) => typeof v === 'function', 'a function');
const name = z.string('a non-empty string').min(1, 'a non-empty string');
const posInt = z.number('an integer >= 1').int('an integer >= 1').min(1, 'an integer >= 1');

const schema = z.object({
  backend: z.custom<Backend>(
    (v) => typeof v === 'object' && v !== null && typeof (v as Backend).read === 'function',
    'a Backend',
  ),
  group: name,
  topic: name,
  partitions: posInt.optional(),
  handler: fn.optional(),
  batchHandler: fn.optional(),
  nodeName: name.optional(),
  heartbeat: z.unknown().optional(),
  failureTimeout: z.unknown().optional(),
  leaseTtl: z.unknown().optional(),
  batchSize: posInt.optional(),
  pollInterval: z.unknown().optional(),
  commitDelay: z.unknown().optional(),
  assignment: z
    .union(
      [z.enum(['balanced_sticky', 'sticky', 'range', 'round_robin', 'consistent_hash']), fn],
      "'balanced_sticky', 'sticky', 'range', 'round_robin', 'consistent_hash' or a function",
    )
    .optional(),
  fixed: z
    .object({
      index: z.number('an integer >= 0').int('an integer >= 0').min(0, 'an integer >= 0'),
      total: posInt,
    })
    .optional(),
  retryBackoff: z.unknown().optional(),
  shutdownTimeout: z.unknown().optional(),
  clock: z
    .custom<Clock>(
      (v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function',
      'a Clock',
    )
    .optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, 'an AbortSignal').optional(),
  rateLimit: z.unknown().optional(),
  concurrencyLimit: z.unknown().optional(),
});

/** Batch attempts: every failure is retried except a lost partition (a non-retryable `LEASE_LOST`). */
function retryAllButLoss(error: unknown): boolean {
  return !(isSluiceError(error) && error.code === 'LEASE_LOST' && !error.retryable);
}

/** Commit attempts: retryable backend errors only (`FENCED` and invalid input are final). */
function retryableCommitError(error: unknown): boolean {
  return isSluiceError(error) && error.retryable && error.code !== 'FENCED';
}

/** The default `pollInterval`: long when `watch` wakes idle partitions across processes. */
function defaultPollInterval(backend: Backend): number {
  return backend.watch !== undefined && backend.kind !== 'sqlite' ? 1000 : 100;
}

/** Validates {@link PartitionedRunnerOptions}; bad input throws `CONFIG_INVALID` naming the field. */
export function resolveRunnerOptions<T>(
  options: PartitionedRunnerOptions<T>,
  defaultNodeName: string,
): ResolvedRunnerOptions<T> {
  const o = validate(schema, options, 'partitionedRunner');
  if ((o.handler === undefined) === (o.batchHandler === undefined)) {
    throw configError(
      'partitionedRunner.handler',
      'given (or `batchHandler`, but not both)',
      o.handler === undefined ? undefined : 'both handler and batchHandler',
    );
  }
  if (o.fixed !== undefined && o.fixed.index >= o.fixed.total) {
    throw configError(
      'partitionedRunner.fixed.index',
      `an integer in [0, ${o.fixed.total - 1}]`,
      o.fixed.index,
    );
  }
  const heartbeatMs = parseDuration(o.heartbeat ?? 1000, 'partitionedRunner.heartbeat');
  const clock = o.clock ?? systemClock;
  const retryBackoff = toBackoff(
    (o.retryBackoff as BackoffSpec | undefined) ?? { initial: 100, max: 5000, jitter: 'equal' },
    'partitionedRunner.retryBackoff',
  );
  const failureTimeoutMs = parseDuration(o.failureTimeout ?? 5000, 'partitionedRunner.failureTimeout');
  const leaseTtlMs = parseDuration(o.leaseTtl ?? failureTimeoutMs, 'partitionedRunner.leaseTtl');
  if (heartbeatMs < 1) throw configError('partitionedRunner.heartbeat', 'a duration >= 1ms', o.heartbeat);
  if (leaseTtlMs <= heartbeatMs) {
    throw configError(
      'partitionedRunner.leaseTtl',
      `a duration longer than heartbeat (${heartbeatMs} ms)`,
      o.leaseTtl ?? leaseTtlMs,
    );
  }
  if (failureTimeoutMs <= heartbeatMs) {
    throw configError(
      'partitionedRunner.failureTimeout',
      `a duration longer than heartbeat (${heartbeatMs} ms)`,
      o.failureTimeout ?? failureTimeoutMs,
    );
  }
  let handler = o.handler as RunnerEventHandler<T> | undefined;
  let batchHandler = o.batchHandler as RunnerBatchHandler<T> | undefined;
  const gated = runnerGate(options as RunnerLimitOptions<never>, attemptPolicy({ clock }, ''));
  if (gated !== undefined) {
    if (handler !== undefined) handler = gatedEventHandler(handler, gated);
    if (batchHandler !== undefined) batchHandler = gatedBatchHandler(batchHandler, gated);
  }
  return {
    backend: o.backend,
    group: o.group,
    topic: o.topic,
    partitions: o.partitions,
    handler,
    batchHandler,
    nodeName: o.nodeName ?? defaultNodeName,
    heartbeatMs,
    failureTimeoutMs,
    leaseTtlMs: Math.round(leaseTtlMs),
    batchSize: o.batchSize ?? 100,
    readSize: Math.max(o.batchSize ?? 100, 100),
    pollIntervalMs: parseDuration(
      o.pollInterval ?? defaultPollInterval(o.backend),
      'partitionedRunner.pollInterval',
    ),
    commitDelayMs: parseDuration(o.commitDelay ?? 0, 'partitionedRunner.commitDelay'),
    assignment: (o.assignment ?? 'balanced_sticky') as ResolvedRunnerOptions<T>['assignment'],
    fixed: o.fixed,
    batchPolicy: attemptPolicy(
      { attempts: Number.POSITIVE_INFINITY, backoff: retryBackoff, clock, retryOn: retryAllButLoss },
      '',
    ),
    commitPolicy: attemptPolicy(
      { attempts: Number.POSITIVE_INFINITY, backoff: retryBackoff, clock, retryOn: retryableCommitError },
      '',
    ),
    shutdownTimeoutMs: parseDuration(o.shutdownTimeout ?? 30_000, 'partitionedRunner.shutdownTimeout'),
    clock,
    signal: o.signal,
  };
}
