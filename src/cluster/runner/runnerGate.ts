// Limiters of a partitioned runner: rateLimit / concurrencyLimit options wrapped around its handler through the attempt gate.
import type { LogEvent } from '../../backend/Backend.ts';
import { type GateEntry, itemGate } from '../../flow/itemGate.ts';
import type { Limiter } from '../../flow/Limiter.ts';
import { limiterFrom } from '../../flow/limiterFrom.ts';
import type { ConcurrencyLimitOptions, RateLimitOptions } from '../../flow/options.ts';
import type { AttemptPolicy } from '../../resilience/attempt/AttemptPolicy.ts';
import type { AttemptOutcome } from '../../resilience/attempt/types.ts';

/** The limiter options of `partitionedRunner` (each a limiter instance or its factory's options). */
export interface RunnerLimitOptions<T = unknown> {
  /**
   * Tokens per period for handler calls: a `rateLimit` limiter or its options. Give it a
   * `backend` (the runner's, usually) and a `name` to share it with every runner of the group;
   * its `key` receives the event.
   */
  rateLimit?: Limiter<LogEvent<T>> | RateLimitOptions<LogEvent<T>>;
  /** Handler calls running at once: a `concurrencyLimit` limiter or its options (shared with a `backend`). */
  concurrencyLimit?: Limiter<LogEvent<T>> | ConcurrencyLimitOptions<LogEvent<T>>;
}

/** What a gated call needs: the item keyed by the limiters, the call, and its signal. */
export type RunnerGatedCall = (item: unknown, call: () => unknown, signal: AbortSignal) => Promise<unknown>;

/**
 * Resolves the runner's limiter options (`undefined` without any: handlers are called directly).
 * The returned function runs one handler call through `policy` (one attempt, the runner's clock)
 * with the limiters' gate: a slot, then a token, keyed by `item` (the event; the first event of
 * a batch). A `RateLimitedError` thrown by the handler parks the item's key of the rate limiter
 * (cluster-wide when shared) and calls the handler again after the pause, without counting a
 * failure; any other error is thrown to the runner, which retries the batch with `retryBackoff`.
 *
 * @throws SluiceError `CONFIG_INVALID` naming `partitionedRunner.rateLimit.<field>` (or `concurrencyLimit`).
 */
export function runnerGate(
  options: RunnerLimitOptions<never>,
  policy: AttemptPolicy,
): RunnerGatedCall | undefined {
  const entries: GateEntry<unknown>[] = [];
  if (options.concurrencyLimit !== undefined) {
    const l = limiterFrom(
      'concurrency',
      options.concurrencyLimit,
      'partitionedRunner.concurrencyLimit',
    ).limiter;
    entries.push({ limiter: l, keyOf: (item) => l.keyOf(item as never), parkOnRateLimit: false });
  }
  if (options.rateLimit !== undefined) {
    const l = limiterFrom('rate', options.rateLimit, 'partitionedRunner.rateLimit').limiter;
    entries.push({ limiter: l, keyOf: (item) => l.keyOf(item as never), parkOnRateLimit: true });
  }
  if (entries.length === 0) return undefined;
  const { gate } = itemGate(entries, policy.rateLimitDelayMs);
  return async (item, call, signal) => {
    const out: AttemptOutcome<unknown> = await policy.execute(() => call(), {
      signal,
      gate: (ctx) => gate(item, ctx),
      name: 'handler',
    });
    if (out.kind === 'ok') return out.value;
    if (out.kind === 'aborted') throw out.lastError ?? out.error;
    throw out.error;
  };
}

/** Wraps a per-event handler so that each call goes through `gated`. */
export function gatedEventHandler<E, C extends { readonly signal: AbortSignal }>(
  handler: (event: E, ctx: C) => unknown,
  gated: RunnerGatedCall,
): (event: E, ctx: C) => Promise<unknown> {
  return (event, ctx) => gated(event, () => handler(event, ctx), ctx.signal);
}

/** Wraps a batch handler: each batch takes one permit, keyed by its first event. */
export function gatedBatchHandler<E, C extends { readonly signal: AbortSignal }>(
  handler: (events: readonly E[], ctx: C) => unknown,
  gated: RunnerGatedCall,
): (events: readonly E[], ctx: C) => Promise<unknown> {
  return (events, ctx) => gated(events[0], () => handler(events, ctx), ctx.signal);
}
