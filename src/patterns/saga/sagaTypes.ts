// The public types of sagas (steps, contexts, definition, outcomes, recovery progress) and the schemas that check a definition.
import { z } from 'zod';
import type { Backend } from '../../backend/Backend.ts';
import type { Clock } from '../../core/Clock.ts';
import type { Duration } from '../../core/duration.ts';
import type { SerializedError } from '../../core/errors.ts';
import { clockSchema, fnSchema } from '../../resilience/options.ts';
import type { RetryOptions } from '../../resilience/retry.ts';
import { backendSchema, durationSchema, nameSchema } from '../options.ts';

/** What a step's `run` receives. */
export interface SagaStepContext<I = unknown> {
  readonly sagaId: string;
  readonly input: I;
  /** The step name. */
  readonly step: string;
  /** The step position (0-based). */
  readonly index: number;
  /**
   * Stable across retries and recoveries of this step of this saga
   * (`saga:id:step`): make the step's effect idempotent with it.
   */
  readonly idempotencyKey: string;
  /** Results of the steps completed before this one, by step name. */
  readonly results: Readonly<Record<string, unknown>>;
  /** Aborts when the caller aborts or the saga's lock is lost. */
  readonly signal: AbortSignal;
  /** Fencing token of the lock held on this saga (for fenced commits). */
  readonly fencingToken: number;
}

/** What a step's `compensate` receives. */
export interface SagaCompensationContext<I = unknown> extends SagaStepContext<I> {
  /** What this step's `run` returned. */
  readonly result: unknown;
}

/** One step of a saga. */
export interface SagaStep<I = unknown> {
  /** Unique within the saga. */
  name: string;
  /** Does the step; its result (JSON-serializable) is stored and passed to later steps. */
  run(ctx: SagaStepContext<I>): Promise<unknown> | unknown;
  /** Undoes the step after a later step failed. Omit for steps with nothing to undo. */
  compensate?(ctx: SagaCompensationContext<I>): Promise<void> | void;
  /** Retries of `run` before the step counts as failed. Default: one attempt. */
  retry?: RetryOptions;
}

/** Definition of a saga. */
export interface SagaDefinition<I = unknown> {
  /** The saga name (its log topic is `sluice.saga.<name>`). */
  name: string;
  /** Where the event log and the locks live. */
  backend: Backend;
  /** The steps, run in order. */
  steps: readonly SagaStep<I>[];
  /** Partitions of the log topic (fixed at first use). Default 16. */
  partitions?: number;
  /** Ttl of the per-saga lock; a crashed runner's sagas can be recovered after it. Default `'30s'`. */
  lockTtl?: Duration;
  /** Retries of each compensation. Default 5 attempts, exponential backoff from 100ms. */
  compensationRetry?: RetryOptions;
  /** Time source for locks and retries. Default `systemClock`. */
  clock?: Clock;
}

/** How a saga ended. */
export type SagaOutcome =
  | { readonly id: string; readonly status: 'completed'; readonly results: Record<string, unknown> }
  | {
      readonly id: string;
      readonly status: 'compensated';
      readonly results: Record<string, unknown>;
      /** The step that failed and its error. */
      readonly failure: { readonly step: string; readonly error: SerializedError };
    };

/** What {@link Saga.recover} did with one unfinished saga. */
export type RecoveryResult =
  | SagaOutcome
  | { readonly id: string; readonly status: 'error'; readonly error: unknown };

/** Options of {@link Saga.execute}. */
export interface ExecuteOptions {
  /** The saga id: executing an id again continues (or reports) that saga instead of starting another. */
  id: string;
  /** Stops driving the saga (it stays resumable); rejects with `ABORTED`. */
  signal?: AbortSignal;
}

/**
 * What {@link Saga.recover} reports while it works, so a recovery that waits is never silent:
 * - `scanned`: the log was read; `unfinished` sagas will be resumed.
 * - `waiting_for_lock`: another owner holds this saga's lock (a live runner, or a crashed one
 *   whose lease has not expired yet); recovery waits until `expiresAt` (epoch ms) or until the
 *   lock is released. Reported again when the holder or the expiry changes.
 * - `resumed`: the saga was driven to an end (or failed: `result.status === 'error'`).
 */
export type SagaRecoveryProgress =
  | { readonly type: 'scanned'; readonly saga: string; readonly unfinished: number; readonly message: string }
  | {
      readonly type: 'waiting_for_lock';
      readonly saga: string;
      readonly sagaId: string;
      /** Owner id of the lease holder (`host:pid:uuid` for locks taken by Sluice). */
      readonly owner: string;
      /** When the holder's lease expires unless renewed (epoch ms). */
      readonly expiresAt: number;
      readonly message: string;
    }
  | {
      readonly type: 'resumed';
      readonly saga: string;
      readonly result: RecoveryResult;
      readonly message: string;
    };

/** Options of {@link Saga.recover}. */
export interface RecoverOptions {
  /** Stops the recovery (also while it waits for a lock); rejects with `ABORTED`. */
  signal?: AbortSignal;
  /** Called synchronously with each progress report; errors thrown by it are ignored. */
  onProgress?: (progress: SagaRecoveryProgress) => void;
}

const stepSchema = z.object({
  name: nameSchema,
  run: fnSchema<SagaStep['run']>(),
  compensate: fnSchema<NonNullable<SagaStep['compensate']>>().optional(),
  retry: z.record(z.string(), z.unknown()).optional(),
});

/** Checks a {@link SagaDefinition}. */
export const definitionSchema = z.object({
  name: nameSchema,
  backend: backendSchema,
  steps: z.array(stepSchema, 'an array of steps').min(1, 'a non-empty array of steps'),
  partitions: z.number().int('an integer between 1 and 65536').min(1).max(65_536).optional(),
  lockTtl: durationSchema.optional(),
  compensationRetry: z.record(z.string(), z.unknown()).optional(),
  clock: clockSchema.optional(),
});
