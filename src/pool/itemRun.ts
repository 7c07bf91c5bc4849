// Runs one pool item through the attempt primitive and turns what happened into an ItemResult.
import { toError } from '../core/errors.ts';
import type { ItemGate } from '../flow/itemGate.ts';
import type { AttemptPolicy } from '../resilience/attempt/AttemptPolicy.ts';
import type {
  AttemptContext,
  AttemptExecuteOptions,
  AttemptOutcome,
  ResumeFrom,
} from '../resilience/attempt/types.ts';
import { pauseItem } from './poolLimits.ts';
import { ABORTED_REASON, errorResult, okResult, skippedResult } from './results.ts';
import { isSkip } from './skip.ts';
import type { ItemFn, ItemResult } from './types.ts';

/** What running an item needs from its run. */
export interface ItemHost<T, R> {
  readonly policy: AttemptPolicy;
  readonly itemFn: ItemFn<T, R>;
  /** The run's signal: aborts when the run stops. */
  readonly signal: AbortSignal;
  /** The limiters' gate: admits each attempt of an item (its keys come from the item). */
  readonly gate: ItemGate<unknown> | undefined;
}

/** The result of a value returned by the item function (a `skip(...)` marker included). */
export function valueResult<R>(v: unknown, index: number, attempts: number, workerId: number): ItemResult<R> {
  return isSkip(v) ? skippedResult(v.reason, index, attempts) : okResult(v as R, index, attempts, workerId);
}

/** The result of an error that ends the item (a thrown `skip(...)` marker included). */
export function thrownResult(
  e: unknown,
  index: number,
  attempts: number,
  workerId: number,
): ItemResult<never> {
  return isSkip(e)
    ? skippedResult(e.reason, index, attempts)
    : errorResult(toError(e), index, attempts, workerId);
}

/** The result of an outcome of the attempt primitive. */
export function outcomeResult<R>(
  out: AttemptOutcome<unknown>,
  index: number,
  workerId: number,
): ItemResult<R> {
  switch (out.kind) {
    case 'ok':
      return valueResult(out.value, index, out.attempts, workerId);
    case 'failed':
      return thrownResult(out.error, index, out.attempts, workerId);
    case 'aborted':
      // Cancelled while waiting to retry: the item ends with its last error. Never started: skipped.
      return out.lastError === undefined
        ? skippedResult(ABORTED_REASON, index, out.attempts)
        : thrownResult(out.lastError, index, out.attempts, workerId);
    case 'rate_limited':
      // Not produced: the pool lets the executor wait rate limits out.
      return thrownResult(out.error, index, out.attempts, workerId);
  }
}

/**
 * Runs an item with the attempt primitive's executor (timeout, gate, retries), or continues one
 * whose first attempt ran inline and failed (`resume`). `admission` is the gate's answer for the
 * first attempt when the lane asked already (a limiter made it wait).
 */
export function runItem<T, R>(
  host: ItemHost<T, R>,
  item: T,
  index: number,
  workerId: number,
  resume?: ResumeFrom,
  admission?: ReturnType<ItemGate<unknown>>,
): Promise<ItemResult<R>> {
  const fn = host.itemFn;
  const work = (a: AttemptContext) =>
    fn(item, { index, workerId, signal: a.signal, attempt: a.attempt, pause: pauseItem });
  const options: AttemptExecuteOptions = { signal: host.signal, name: `item ${index}`, context: { index } };
  const gate = host.gate;
  if (gate !== undefined) {
    // An admission the lane already asked for serves the first attempt; later ones ask again.
    let first = admission;
    options.gate = (ctx) => {
      const pending = first;
      first = undefined;
      return pending ?? gate(item, ctx);
    };
  }
  if (resume !== undefined) options.resume = resume;
  return host.policy.execute(work, options).then((out) => outcomeResult<R>(out, index, workerId));
}

/**
 * After an inline first attempt (no timeout; admitted at once by the gate, if any)
 * threw `e`: a skip or a give-up decision ends the item at once (no allocation beyond its
 * result); a retry or a rate limit continues in the executor.
 */
export function afterInlineFailure<T, R>(
  host: ItemHost<T, R>,
  item: T,
  index: number,
  workerId: number,
  e: unknown,
): ItemResult<R> | Promise<ItemResult<R>> {
  if (isSkip(e)) return skippedResult(e.reason, index, 1);
  let decision: ReturnType<AttemptPolicy['decide']>;
  try {
    decision = host.policy.decide(e, 1, 0);
  } catch (backoffError) {
    return thrownResult(backoffError, index, 1, workerId);
  }
  if (decision.kind === 'give_up' || host.signal.aborted) return thrownResult(e, index, 1, workerId);
  return runItem(host, item, index, workerId, { attempt: 1, previousDelayMs: 0, error: e, decision });
}
