// The Saga orchestrator: steps in order, reverse-order compensation on failure, resume and recover (with progress while waiting for locks).
import type { Backend, Lease } from '../../backend/Backend.ts';
import { anySignal } from '../../core/abort.ts';
import { type Clock, systemClock } from '../../core/Clock.ts';
import type { Duration } from '../../core/duration.ts';
import { SluiceError, serializeError, throwIfAborted } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import { type RetryOptions, retry } from '../../resilience/retry.ts';
import { traceSagaStep } from '../../telemetry/spans.ts';
import { DistributedLock } from '../lock/DistributedLock.ts';
import type { LockHandle } from '../lock/LockHandle.ts';
import { nameSchema } from '../options.ts';
import { acquireReporting } from './sagaLock.ts';
import { SagaLog } from './sagaLog.ts';
import type { SagaEvent, SagaState } from './sagaState.ts';
import {
  definitionSchema,
  type ExecuteOptions,
  type RecoverOptions,
  type RecoveryResult,
  type SagaDefinition,
  type SagaOutcome,
  type SagaRecoveryProgress,
  type SagaStep,
  type SagaStepContext,
} from './sagaTypes.ts';

export type {
  ExecuteOptions,
  RecoverOptions,
  RecoveryResult,
  SagaCompensationContext,
  SagaDefinition,
  SagaOutcome,
  SagaRecoveryProgress,
  SagaStep,
  SagaStepContext,
} from './sagaTypes.ts';

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
  private readonly lockTtl: Duration;
  private readonly compensationRetry: RetryOptions;
  private readonly clock: Clock;
  private readonly log: SagaLog;

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
    this.log = new SagaLog(def.backend, this.topic, def.partitions ?? 16);
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
    return this.log.load(id);
  }

  /**
   * Finds every unfinished saga in the log and resumes each, one after the other. One saga's
   * failure does not stop the others: it is reported as `{status: 'error'}`.
   *
   * **What it waits for:** a saga whose lock another owner holds is resumed only once that lock
   * is free: released by a live runner when it finishes, or expired when its runner died (up to
   * `lockTtl`, 30 s by default, after the last renewal). While it waits, `onProgress` receives
   * `waiting_for_lock` with the holder and its expiry ("waiting for lock of saga X held by
   * <owner> until <time>"); `signal` stops the wait and the recovery with `ABORTED`.
   *
   * @example
   * ```ts
   * await order.recover({ signal, onProgress: (p) => log.info(p.message) });
   * ```
   */
  async recover(options: RecoverOptions = {}): Promise<RecoveryResult[]> {
    const { signal, onProgress } = options;
    const report = (p: SagaRecoveryProgress) => {
      try {
        onProgress?.(p);
      } catch {
        // A failing progress callback must not stop the recovery.
      }
    };
    const states = await this.log.loadAll(signal);
    const unfinished = [...states.values()].filter(
      (s) => s.status === 'running' || s.status === 'compensating',
    );
    const saga = this.name;
    report({
      type: 'scanned',
      saga,
      unfinished: unfinished.length,
      message: `saga ${saga}: ${unfinished.length} unfinished`,
    });
    const onWait = (sagaId: string, holder: Lease) =>
      report({
        type: 'waiting_for_lock',
        saga,
        sagaId,
        owner: holder.owner,
        expiresAt: holder.expiresAt,
        message: `waiting for lock of saga ${saga}/${sagaId} held by ${holder.owner} until ${new Date(holder.expiresAt).toISOString()}`,
      });
    const out: RecoveryResult[] = [];
    for (const state of unfinished) {
      throwIfAborted(signal, 'saga recovery');
      let result: RecoveryResult;
      try {
        result = await this.drive(state.id, signal, undefined, false, (h) => onWait(state.id, h));
      } catch (error) {
        if (signal?.aborted) throw error;
        result = { id: state.id, status: 'error', error };
      }
      out.push(result);
      report({ type: 'resumed', saga, result, message: `saga ${saga}/${state.id}: ${result.status}` });
    }
    return out;
  }

  private async drive(
    id: string,
    signal: AbortSignal | undefined,
    input: I | undefined,
    create: boolean,
    onWait?: (holder: Lease) => void,
  ): Promise<SagaOutcome> {
    throwIfAborted(signal, 'saga');
    await this.log.ensureTopic();
    const lock = new DistributedLock({
      backend: this.backend,
      name: `sluice.saga/${this.name}/${id}`,
      ttl: this.lockTtl,
      clock: this.clock,
    });
    const handle = onWait
      ? await acquireReporting(lock, this.backend.leases, this.clock, signal, onWait)
      : await lock.acquire(signal === undefined ? {} : { signal });
    const { signal: runSignal, dispose } = anySignal([signal, handle.signal]);
    try {
      let state = await this.log.load(id);
      if (state === undefined) {
        if (!create) {
          throw new SluiceError('NOT_FOUND', `Saga "${this.name}" has no instance "${id}"`, {
            context: { saga: this.name, id },
          });
        }
        state = await this.log.record(undefined, { type: 'saga_started', sagaId: id, input });
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
          await this.log.record(state, { type: 'saga_completed', sagaId: state.id });
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
      await this.log.record(state, { type: 'saga_compensated', sagaId: state.id });
    }
  }

  private async runStep(
    state: SagaState,
    index: number,
    handle: LockHandle,
    signal: AbortSignal,
  ): Promise<void> {
    const step = this.steps[index]!;
    await this.log.record(state, { type: 'step_started', sagaId: state.id, step: step.name, index });
    let result: unknown;
    try {
      const policy = retry({ attempts: 1, ...step.retry, clock: step.retry?.clock ?? this.clock });
      result = await policy.execute(({ signal: s }) => {
        const at = { saga: this.name, id: state.id, step: step.name, index, phase: 'run' as const };
        return traceSagaStep(at, () => step.run(this.context(state, index, handle, s)));
      }, signal);
    } catch (error) {
      // Aborts and lost locks leave the saga resumable; they are not step failures.
      handle.throwIfLost();
      throwIfAborted(signal, 'saga');
      const cause =
        (error as SluiceError).code === 'RETRIES_EXHAUSTED' ? (error as SluiceError).cause : error;
      await this.log.record(state, {
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
    await this.log.record(state, completed);
  }

  private async compensateStep(state: SagaState, index: number, handle: LockHandle, signal: AbortSignal) {
    const step = this.steps[index]!;
    if (step.compensate !== undefined) {
      const compensate = step.compensate.bind(step);
      try {
        await retry(this.compensationRetry).execute(({ signal: s }) => {
          const base = this.context(state, index, handle, s);
          const at = { saga: this.name, id: state.id, step: step.name, index, phase: 'compensate' as const };
          return traceSagaStep(at, () =>
            compensate({
              ...base,
              idempotencyKey: `${base.idempotencyKey}:compensate`,
              result: state.results[step.name],
            }),
          );
        }, signal);
      } catch (error) {
        handle.throwIfLost();
        throwIfAborted(signal, 'saga');
        const cause =
          (error as SluiceError).code === 'RETRIES_EXHAUSTED' ? (error as SluiceError).cause : error;
        await this.log.record(state, {
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
    await this.log.record(state, { type: 'compensated', sagaId: state.id, step: step.name, index });
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
