// Pool options: default concurrency (SLUICE_MAX_WORKERS), retry delay, and the schema that checks mapConcurrent options.
import { z } from 'zod';
import { type Clock, systemClock } from '../core/Clock.ts';
import { parseDuration } from '../core/duration.ts';
import { configError, isSluiceError, toError } from '../core/errors.ts';
import { validate } from '../core/validate.ts';
import type { ItemGate } from '../flow/itemGate.ts';
import { AttemptPolicy } from '../resilience/attempt/AttemptPolicy.ts';
import type { Backoff } from '../resilience/Backoff.ts';
import { type PoolLimits, resolveLimits } from './poolLimits.ts';
import { isSkip } from './skip.ts';
import type { MapConcurrentStreamOptions } from './types.ts';

/** Concurrency used when neither the options nor `SLUICE_MAX_WORKERS` set one. */
export const DEFAULT_CONCURRENCY = 4;
/** Delay between attempts when `retry.backoff` is not given. */
export const DEFAULT_RETRY_DELAY_MS = 100;

const INT_GE_1 = 'an integer >= 1';

const isFn = (v: unknown) => typeof v === 'function';
const fnSchema = (what: string) => z.custom<(...args: never[]) => unknown>(isFn, what);

const optionsSchema = z.object({
  concurrency: z.number(INT_GE_1).int(INT_GE_1).min(1, INT_GE_1).optional(),
  window: z.number(INT_GE_1).int(INT_GE_1).min(1, INT_GE_1).optional(),
  signal: z.instanceof(AbortSignal, { error: 'an AbortSignal' }).optional(),
  retry: z
    .object(
      {
        attempts: z.number(INT_GE_1).int(INT_GE_1).min(1, INT_GE_1),
        backoff: z
          .custom<Backoff>(
            (v) => typeof v === 'object' && v !== null && isFn((v as { next?: unknown }).next),
            'a Backoff (an object with next(attempt, previousDelayMs))',
          )
          .optional(),
        retryOn: fnSchema('a function (error, attempt) => boolean').optional(),
      },
      'an object { attempts, backoff?, retryOn? }',
    )
    .optional(),
  clock: z
    .custom<Clock>(
      (v) =>
        typeof v === 'object' &&
        v !== null &&
        ['now', 'setTimeout', 'clearTimeout', 'sleep'].every((k) => isFn((v as Record<string, unknown>)[k])),
      'a Clock (now, setTimeout, clearTimeout, sleep)',
    )
    .optional(),
});

/** Options after validation, with defaults applied. */
export interface ResolvedOptions {
  readonly concurrency: number;
  readonly window: number;
  readonly signal: AbortSignal | undefined;
  /** Per-attempt timeout in ms, or `undefined` for none. */
  readonly timeoutMs: number | undefined;
  readonly clock: Clock;
  /**
   * How every item runs: the attempt primitive with the batch's timeout, retry and clock.
   * A `skip(...)` thrown by the item function is never retried.
   */
  readonly policy: AttemptPolicy;
  /** Called before each attempt of an item (its limiters); `undefined` for none. */
  readonly gate: ItemGate<unknown> | undefined;
  /** The limiters of the call (`rateLimit`, `concurrencyLimit`, `perKey`), or `undefined`. */
  readonly limits: PoolLimits | undefined;
}

const defaultBackoff: Backoff = { next: () => DEFAULT_RETRY_DELAY_MS };

/** Default `retry.retryOn`: every error except a `SluiceError` marked not retryable. */
export const defaultRetryOn = (error: Error): boolean => !(isSluiceError(error) && !error.retryable);

/**
 * Reads the default concurrency from `SLUICE_MAX_WORKERS` (else {@link DEFAULT_CONCURRENCY}).
 *
 * @throws SluiceError `CONFIG_INVALID` naming `SLUICE_MAX_WORKERS` when it is set but not an integer >= 1.
 */
export function defaultConcurrency(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SLUICE_MAX_WORKERS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_CONCURRENCY;
  const s = raw.trim();
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1)
    throw configError('SLUICE_MAX_WORKERS', INT_GE_1, raw);
  return n;
}

/**
 * Validates pool options and applies defaults.
 *
 * @throws SluiceError `CONFIG_INVALID` naming the offending field and value.
 */
export function resolveOptions(opts: MapConcurrentStreamOptions<never> | undefined): ResolvedOptions {
  const o = opts ?? {};
  if (typeof o !== 'object' || o === null) throw configError('options', 'an object', o);
  validate(optionsSchema, o);
  const concurrency = o.concurrency ?? defaultConcurrency();
  const window = o.window ?? concurrency * 4;
  if (window < concurrency) throw configError('window', `an integer >= concurrency (${concurrency})`, window);
  const timeoutMs = o.timeout === undefined ? undefined : parseDuration(o.timeout, 'timeout');
  const clock = o.clock ?? systemClock;
  const userRetryOn = o.retry?.retryOn ?? defaultRetryOn;
  const policy = new AttemptPolicy(
    {
      attempts: o.retry?.attempts ?? 1,
      backoff: o.retry?.backoff ?? defaultBackoff,
      retryOn: (error, attempt) => !isSkip(error) && userRetryOn(toError(error), attempt),
      ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }),
      clock,
    },
    'retry',
  );
  const limits = resolveLimits(o, policy.rateLimitDelayMs);
  return { concurrency, window, signal: o.signal, timeoutMs, clock, policy, gate: limits?.gate, limits };
}

/** Checks that `fn` is a function. */
export function assertFn(fn: unknown, field = 'fn'): void {
  if (typeof fn !== 'function') throw configError(field, 'a function', fn);
}

/** Checks that `items` is an iterable or async iterable. */
export function assertInput(items: unknown): void {
  if (
    items === null ||
    items === undefined ||
    (typeof (items as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function' &&
      typeof (items as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] !== 'function')
  ) {
    throw configError('items', 'an iterable or async iterable', items);
  }
}
