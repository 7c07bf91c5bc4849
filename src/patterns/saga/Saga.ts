import { z } from 'zod';
import type { Backend, LogEvent } from '../../backend/Backend.ts';
import { anySignal } from '../../core/abort.ts';
import { type Clock, systemClock } from '../../core/Clock.ts';
import type { Duration } from '../../core/duration.ts';
import { type SerializedError, SluiceError, serializeError, throwIfAborted } from '../../core/errors.ts';
import { partitionForKey } from '../../core/hash.ts';
import { validate } from '../../core/validate.ts';
import { clockSchema, fnSchema } from '../../resilience/options.ts';
import { type RetryOptions, retry } from '../../resilience/retry.ts';
import { DistributedLock } from '../lock/DistributedLock.ts';
import type { LockHandle } from '../lock/LockHandle.ts';
import { backendSchema, durationSchema, nameSchema } from '../options.ts';
import { applySagaEvent, foldSagaEvents, type SagaEvent, type SagaState, sagaEventId } from './sagaState.ts';

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

const stepSchema = z.object({
  name: nameSchema,
  run: fnSchema<SagaStep['run']>(),
  compensate: fnSchema<NonNullable<SagaStep['compensate']>>().optional(),
  retry: z.record(z.string(), z.unknown()).optional(),
});

const definitionSchema = z.object({
  name: nameSchema,
  backend: backendSchema,
  steps: z.array(stepSchema, 'an array of steps').min(1, 'a non-empty array of steps'),
  partitions: z.number().int('an integer between 1 and 65536').min(1).max(65_536).optional(),
  lockTtl: durationSchema.optional(),
  compensationRetry: z.record(z.string(), z.unknown()).optional(),
  clock: clockSchema.optional(),
});

const PAGE = 500;

/**
 * A saga orchestrator: runs steps in order and, when one fails, runs the compensations of the
 * completed steps in reverse order. Every transition is an event in a backend topic
 * (`step_started`, `step_completed`, `step_failed`, `compensated`, ...) keyed by saga id, so a
 * saga interrupted by a crash is continued by {@link resume} or {@link recover} in any process:
 * forward from the first unfinished step, or backward through the remaining compensations.
 *
 * Guarantees: one runner per saga at a time (a {@link DistributedLock} per saga id); a step or
 * compensation that completed is never run again; one interrupted by a crash **is run again**
 * with the same `idempotencyKey` — make effects idempotent with it (at-least-once runs,
 * exactly-once effects). Built only on the {@link Backend} contract.
 *
 * @example
 * ```ts
 * const order = defineSaga<{ orderId: string }>({
 *   name: 'order',
 *   backend,
 *   steps: [
 *     { name: 'reserve', run: (c) => stock.reserve(c.input.orderId, c.idempotencyKey), compensate: (c) => stock.release(c.input.orderId) },
 *     { name: 'charge', run: (c) => payments.charge(c.input.orderId, c.idempotencyKey), compensate: (c) => payments.refund(c.result) },
 *     { name: 'ship', run: (c) => shipping.ship(c.input.orderId, c.idempotencyKey) },
 *   ],
 * });
 * const outcome = await order.execute({ orderId: 'o-1' }, { id: 'o-1' });
 * // after a crash, in any process:
 * await order.recover();
 * ```
 */
export class Saga<I = unknown> {
  /** The saga name. */
  readonly name: string;
  /** The event log topic. */
  readonly topic: string;

  private readonly backend: Backend;
  private readonly steps: readonly SagaStep<I>[];
  private readonly partitions: number;
  private readonly lockTtl: Duration;
  private readonly compensationRetry: RetryOptions;
  private readonly clock: Clock;
  private topicReady: Promise<number> | undefined;

  constructor(definition: SagaDefinition<I>) {
    const def = validate(definitionSchema, definition, 'defineSaga');
    const names = new Set<string>();
    for (const [i, s] of def.steps.entries()) {
      if (names.has(s.name)) {
        throw new SluiceError(
          'CONFIG_INVALID',
          `Expected \`defineSaga.steps[${i}].name\` to be unique, got ${JSON.stringify(s.name)}`,
          { context: { field: `defineSaga.steps[${i}].name`, got: s.name } },
        );
      }
      names.add(s.name);
    }
    this.name = def.name;
    this.topic = `sluice.saga.${def.name}`;
    this.backend = def.backend;
    this.steps = definition.steps;
    this.partitions = def.partitions ?? 16;
    this.lockTtl = def.lockTtl ?? '30s';
    this.clock = def.clock ?? systemClock;
    this.compensationRetry = {
      attempts: 5,
      backoff: { initial: 100, max: 5000, multiplier: 2, jitter: 'full' },
      ...definition.compensationRetry,
      clock: definition.compensationRetry?.clock ?? this.clock,
    } as RetryOptions;
  }

  /**
   * Runs a saga to its end: all steps, or the compensations after a failed step. With an `id`
   * that already exists, continues that saga (or returns its outcome if finished); `input` is
   * then ignored. Rejects (leaving the saga resumable) on abort, lost lock, backend errors or a
   * compensation that keeps failing (`SAGA_COMPENSATION_FAILED`).
   */
  async execute(input: I, options: ExecuteOptions): Promise<SagaOutcome> {
    const id = validate(nameSchema, options?.id, 'execute.id');
    return this.drive(id, options.signal, input, true);
  }

  /** Continues an existing saga (`NOT_FOUND` when it never started). */
  async resume(id: string, options: { signal?: AbortSignal } = {}): Promise<SagaOutcome> {
    validate(nameSchema, id, 'resume.id');
    return this.drive(id, options.signal, undefined, false);
  }

  /** The state of a saga from its log, or `undefined`. */
  async status(id: string): Promise<SagaState | undefined> {
    await this.ensureTopic();
    return this.load(id);
  }

  /**
   * Finds every unfinished saga in the log and resumes each (waiting for the lock of a saga
   * another runner holds, e.g. until a crashed runner's lock expires). One saga's failure does
   * not stop the others: it is reported as `{status: 'error'}`.
   */
  async recover(options: { signal?: AbortSignal } = {}): Promise<RecoveryResult[]> {
    const states = await this.loadAll(options.signal);
    const out: RecoveryResult[] = [];
    for (const state of states.values()) {
      if (state.status === 'completed' || state.status === 'compensated') continue;
      throwIfAborted(options.signal, 'saga recovery');
      try {
        out.push(await this.resume(state.id, options));
      } catch (error) {
        if (options.signal?.aborted) throw error;
        out.push({ id: state.id, status: 'error', error });
      }
    }
    return out;
  }

  private async drive(id: string, signal: AbortSignal | undefined, input: I | undefined, create: boolean) {
    throwIfAborted(signal, 'saga');
    await this.ensureTopic();
    const lock = new DistributedLock({
      backend: this.backend,
      name: `sluice.saga/${this.name}/${id}`,
      ttl: this.lockTtl,
      clock: this.clock,
    });
    const handle = await lock.acquire(signal === undefined ? {} : { signal });
    const { signal: runSignal, dispose } = anySignal([signal, handle.signal]);
    try {
      let state = await this.load(id);
      if (state === undefined) {
        if (!create) {
          throw new SluiceError('NOT_FOUND', `Saga "${this.name}" has no instance "${id}"`, {
            context: { saga: this.name, id },
          });
        }
        state = await this.record(undefined, { type: 'saga_started', sagaId: id, input });
      }
      return await this.advance(state!, handle, runSignal);
    } finally {
      dispose();
      await handle.release();
    }
  }

  private async advance(state: SagaState, handle: LockHandle, signal: AbortSignal): Promise<SagaOutcome> {
    for (;;) {
      handle.throwIfLost();
      throwIfAborted(signal, 'saga');
      if (state.status === 'completed')
        return { id: state.id, status: 'completed', results: { ...state.results } };
      if (state.status === 'compensated') return this.compensatedOutcome(state);
      if (state.status === 'running') {
        let next = 0;
        while (state.completed.has(next)) next++;
        if (next >= this.steps.length) {
          await this.record(state, { type: 'saga_completed', sagaId: state.id });
          continue;
        }
        await this.runStep(state, next, handle, signal);
        continue;
      }
      // compensating: undo completed steps, last first.
      for (let i = this.steps.length - 1; i >= 0; i--) {
        if (!state.completed.has(i) || state.compensated.has(i)) continue;
        handle.throwIfLost();
        throwIfAborted(signal, 'saga');
        await this.compensateStep(state, i, handle, signal);
      }
      await this.record(state, { type: 'saga_compensated', sagaId: state.id });
    }
  }

  private async runStep(
    state: SagaState,
    index: number,
    handle: LockHandle,
    signal: AbortSignal,
  ): Promise<void> {
    const step = this.steps[index]!;
    await this.record(state, { type: 'step_started', sagaId: state.id, step: step.name, index });
    let result: unknown;
    try {
      const policy = retry({ attempts: 1, ...step.retry, clock: step.retry?.clock ?? this.clock });
      result = await policy.execute(
        ({ signal: s }) => step.run(this.context(state, index, handle, s)),
        signal,
      );
    } catch (error) {
      // Aborts and lost locks leave the saga resumable; they are not step failures.
      handle.throwIfLost();
      throwIfAborted(signal, 'saga');
      const cause =
        (error as SluiceError).code === 'RETRIES_EXHAUSTED' ? (error as SluiceError).cause : error;
      await this.record(state, {
        type: 'step_failed',
        sagaId: state.id,
        step: step.name,
        index,
        error: serializeError(cause),
      });
      return;
    }
    handle.throwIfLost();
    const completed: SagaEvent = { type: 'step_completed', sagaId: state.id, step: step.name, index };
    if (result !== undefined) completed.result = result;
    await this.record(state, completed);
  }

  private async compensateStep(state: SagaState, index: number, handle: LockHandle, signal: AbortSignal) {
    const step = this.steps[index]!;
    if (step.compensate !== undefined) {
      const compensate = step.compensate.bind(step);
      try {
        await retry(this.compensationRetry).execute(({ signal: s }) => {
          const base = this.context(state, index, handle, s);
          return compensate({
            ...base,
            idempotencyKey: `${base.idempotencyKey}:compensate`,
            result: state.results[step.name],
          });
        }, signal);
      } catch (error) {
        handle.throwIfLost();
        throwIfAborted(signal, 'saga');
        const cause =
          (error as SluiceError).code === 'RETRIES_EXHAUSTED' ? (error as SluiceError).cause : error;
        await this.record(state, {
          type: 'compensation_failed',
          sagaId: state.id,
          step: step.name,
          index,
          error: serializeError(cause),
        });
        throw new SluiceError(
          'SAGA_COMPENSATION_FAILED',
          `Saga "${this.name}" instance "${state.id}": compensation of step "${step.name}" failed; recover() will try again`,
          { retryable: true, cause, context: { saga: this.name, id: state.id, step: step.name } },
        );
      }
    }
    handle.throwIfLost();
    await this.record(state, { type: 'compensated', sagaId: state.id, step: step.name, index });
  }

  private context(
    state: SagaState,
    index: number,
    handle: LockHandle,
    signal: AbortSignal,
  ): SagaStepContext<I> {
    const step = this.steps[index]!;
    return {
      sagaId: state.id,
      input: state.input as I,
      step: step.name,
      index,
      idempotencyKey: `${this.name}:${state.id}:${step.name}`,
      results: { ...state.results },
      signal,
      fencingToken: handle.fencingToken,
    };
  }

  private compensatedOutcome(state: SagaState): SagaOutcome {
    const failure = state.failure ?? {
      step: '',
      index: -1,
      error: { name: 'Error', message: 'unknown failure' },
    };
    return {
      id: state.id,
      status: 'compensated',
      results: { ...state.results },
      failure: { step: failure.step, error: failure.error },
    };
  }

  /** Appends an event (idempotently by its deterministic id) and applies it to the state. */
  private async record(state: SagaState | undefined, e: SagaEvent): Promise<SagaState | undefined> {
    const id = sagaEventId(e);
    const ev = id === undefined ? { key: e.sagaId, payload: e } : { key: e.sagaId, id, payload: e };
    await this.backend.append(this.topic, [ev]);
    return applySagaEvent(state, e);
  }

  private ensureTopic(): Promise<number> {
    this.topicReady ??= this.backend.ensureTopic(this.topic, { partitions: this.partitions }).then(
      (info) => info.partitions,
      (e: unknown) => {
        this.topicReady = undefined;
        throw e;
      },
    );
    return this.topicReady;
  }

  /** Rebuilds one saga from its partition of the log. */
  private async load(id: string): Promise<SagaState | undefined> {
    const partitions = await this.ensureTopic();
    const p = partitionForKey(id, partitions);
    const mine: LogEvent[] = [];
    for (let offset = 0; ; ) {
      const page = await this.backend.read(this.topic, p, offset, PAGE);
      for (const ev of page) if (ev.key === id) mine.push(ev);
      offset += page.length;
      if (page.length < PAGE) break;
    }
    return foldSagaEvents(mine).get(id);
  }

  private async loadAll(signal: AbortSignal | undefined): Promise<Map<string, SagaState>> {
    const partitions = await this.ensureTopic();
    const states = new Map<string, SagaState>();
    for (let p = 0; p < partitions; p++) {
      for (let offset = 0; ; ) {
        throwIfAborted(signal, 'saga recovery');
        const page = await this.backend.read(this.topic, p, offset, PAGE);
        foldSagaEvents(page, states);
        offset += page.length;
        if (page.length < PAGE) break;
      }
    }
    return states;
  }
}

/**
 * Defines a {@link Saga}.
 *
 * @example
 * ```ts
 * const saga = defineSaga({ name: 'signup', backend, steps: [{ name: 'account', run: createAccount, compensate: deleteAccount }] });
 * await saga.execute({ email }, { id: email });
 * ```
 */
export function defineSaga<I = unknown>(definition: SagaDefinition<I>): Saga<I> {
  return new Saga(definition);
}
