// Runs one attempt of an item through the shared attempt primitive and decides what a failure leads to.
import { type AttemptContext, decideAttempt, isThenable, runOnce } from '../resilience/attempt/index.ts';
import { tracingApi } from '../telemetry/loadApi.ts';
import { traceAttempt } from '../telemetry/spans.ts';
import type { EngineConfig, EngineHooks } from './engineTypes.ts';
import { ItemContext, type Pauser } from './ItemContext.ts';
import type { PartitionKey } from './keys.ts';
import type { Entry, KeyQueue } from './Lane.ts';
import type { Worker } from './Worker.ts';

/** Where an attempt reports its outcome. @internal */
export interface AttemptHost<T, R, S> {
  readonly cfg: EngineConfig<T, R, S>;
  /** Where `ctx.pause` parks keys. */
  readonly pauser: Pauser;
  readonly hooks: EngineHooks<T>;
  readonly runSignal: AbortSignal;
  settle(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>, ok: boolean, value: unknown, generation: number): void;
}

/**
 * Runs item `e` of key queue `q` (ordered keys: its head) on worker `w` once; the outcome reaches `host.settle` exactly
 * once. With a `timeout`, the attempt runs through the attempt primitive's `runOnce` (its own
 * signal, aborted with `TIMEOUT` when the limit passes, settling at once). Without one, the
 * process function is called directly with the run's signal, so a synchronous function settles
 * synchronously (no promise per item on the fast path). Retries are not looped here: the engine
 * asks {@link decideFailure} and re-queues the item on its own timer, holding only its key.
 * @internal
 */
export function runAttempt<T, R, S>(
  host: AttemptHost<T, R, S>,
  w: Worker<S>,
  q: KeyQueue<T>,
  e: Entry<T>,
): void {
  const cfg = host.cfg;
  e.attempts++;
  if (e.firstStartedAt === undefined) e.firstStartedAt = cfg.clock.now();
  w.active++;
  const generation = w.generation;
  const call = ({ attempt, signal }: AttemptContext): unknown => {
    const ctx = new ItemContext<S>(
      e.seq,
      e.key as PartitionKey,
      e.partition,
      w.id,
      attempt,
      signal,
      w.state,
      e.offset,
      cfg.idempotencyPrefix,
      cfg.strategy === 'broadcast',
      host.pauser,
    );
    const guard = host.hooks.guard;
    if (tracingApi() !== undefined) {
      // An attempt span (continuing a topic event's producer trace) when tracing is on.
      const run = () => (guard ? guard(() => cfg.fn(e.item, ctx), signal) : cfg.fn(e.item, ctx));
      return traceAttempt(e.item, { attempt, key: e.key as PartitionKey, partition: e.partition }, run);
    }
    return guard ? guard(() => cfg.fn(e.item, ctx), signal) : cfg.fn(e.item, ctx);
  };
  if (cfg.timeoutMs !== undefined) {
    runOnce(call, {
      attempt: e.attempts,
      signal: host.runSignal,
      timeoutMs: cfg.timeoutMs,
      clock: cfg.clock,
      abandonOnAbort: false,
      name: `item ${e.seq}`,
      context: { seq: e.seq },
    }).then((r) => host.settle(w, q, e, r.ok, r.ok ? r.value : r.error, generation));
    return;
  }
  let out: unknown;
  try {
    out = call({ attempt: e.attempts, signal: host.runSignal });
  } catch (err) {
    host.settle(w, q, e, false, err, generation);
    return;
  }
  if (isThenable(out)) {
    out.then(
      (v) => host.settle(w, q, e, true, v, generation),
      (err) => host.settle(w, q, e, false, err, generation),
    );
  } else {
    host.settle(w, q, e, true, out, generation);
  }
}

/**
 * What a failed attempt leads to: `crash` (the worker died with the item: it runs again, not
 * charged an attempt, once the supervisor restarted the worker), `park` (the guard refused it,
 * e.g. an open breaker, or it was rate limited: it waits `delayMs`, not charged), `retry` after
 * `delayMs`, or `fail`.
 */
export type FailureOutcome =
  | { readonly kind: 'crash' }
  | { readonly kind: 'park'; readonly delayMs: number }
  | { readonly kind: 'retry'; readonly delayMs: number }
  | { readonly kind: 'fail' };

/** Whether an error reports that the worker running the attempt died (`WORKER_CRASHED`). */
export function isWorkerCrash(error: Error): boolean {
  return (error as { code?: unknown }).code === 'WORKER_CRASHED';
}

/**
 * Decides the outcome of a failed attempt of `e` (its `attempts` already counts this one).
 * Crashes (under a supervisor) and guard refusals are the engine's; everything else is the
 * shared decision of the attempt primitive (`decideAttempt`: rate limited, unrecoverable,
 * `retryOn`, attempts left, backoff). `stopping`: the run takes no more retries.
 * @internal
 */
export function decideFailure<T>(
  cfg: Pick<EngineConfig<T, unknown, unknown>, 'rules'>,
  hooks: EngineHooks<T>,
  e: Entry<T>,
  error: Error,
  supervised: boolean,
  stopping: boolean,
): FailureOutcome {
  if (stopping) return { kind: 'fail' };
  if (supervised && isWorkerCrash(error)) return { kind: 'crash' };
  if ((error as { code?: unknown }).code === 'CIRCUIT_OPEN') {
    const delayMs = hooks.guardRetryDelay?.(error);
    if (delayMs !== undefined) return { kind: 'park', delayMs };
  }
  const d = decideAttempt(cfg.rules, error, e.attempts, e.lastDelayMs ?? 0);
  if (d.kind === 'retry') return { kind: 'retry', delayMs: d.delayMs };
  if (d.kind === 'rate_limited') return { kind: 'park', delayMs: d.delayMs };
  return { kind: 'fail' };
}
