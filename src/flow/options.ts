// Options of rateLimit and concurrencyLimit, validated with zod at construction.
import { z } from 'zod';
import type { Backend } from '../backend/Backend.ts';
import type { LimitStore } from '../backend/LimitStore.ts';
import { type Clock, systemClock } from '../core/Clock.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import { configError } from '../core/errors.ts';
import { validate } from '../core/validate.ts';

/** Options of `rateLimit`. */
export interface RateLimitOptions<T = unknown> {
  /** Tokens per `per` (> 0; may be fractional, e.g. 0.5 per `'1s'`). */
  rate: number;
  /** The period of `rate`: ms or a duration string. Default `'1s'`. */
  per?: Duration;
  /** Tokens an idle bucket may grant at once (>= 1). Default 1: grants evenly spaced. */
  burst?: number;
  /** Key of an item: one bucket per key. Without it, one bucket for everything. */
  key?: (item: T) => string | number;
  /** Share the limiter with every process using this backend (and the same `name`). */
  backend?: Backend;
  /** Identity of the limiter; required with `backend`. Default `rate-<n>`. */
  name?: string;
  /** Time source. Default `systemClock`. */
  clock?: Clock;
}

/** Options of `concurrencyLimit`. */
export interface ConcurrencyLimitOptions<T = unknown> {
  /** Slot weight held at once per key (integer >= 1). */
  max: number;
  /** Key of an item: one semaphore per key. Without it, one semaphore for everything. */
  key?: (item: T) => string | number;
  /** Share the semaphore with every process using this backend (and the same `name`). */
  backend?: Backend;
  /** Identity of the limiter; required with `backend`. Default `concurrency-<n>`. */
  name?: string;
  /**
   * Shared only: lease time of a slot. A holder renews every `ttl / 3`; a crashed holder's slot
   * comes back after at most `ttl`. Default `'30s'`.
   */
  ttl?: Duration;
  /** Shared only: the longest pause between polls of a waiting acquire. Default `'250ms'`. */
  pollMax?: Duration;
  /** Time source. Default `systemClock`. */
  clock?: Clock;
}

const clock = z.custom<Clock>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Clock).now === 'function' &&
    typeof (v as Clock).setTimeout === 'function' &&
    typeof (v as Clock).clearTimeout === 'function' &&
    typeof (v as Clock).sleep === 'function',
  { error: 'a Clock (now, setTimeout, clearTimeout, sleep)' },
);
const duration = (what: string) =>
  z.custom<Duration>(
    (v) => {
      try {
        return parseDuration(v) > 0;
      } catch {
        return false;
      }
    },
    { error: `${what} (ms > 0 or a string such as "1s", "500ms", "1m")` },
  );
const backend = z.custom<Backend>((v) => typeof v === 'object' && v !== null && 'limits' in v, {
  error: 'a Backend with a `limits` store',
});
const keyFn = z.custom<(item: unknown) => string | number>((v) => typeof v === 'function', {
  error: 'a function (item) => string | number',
});
const name = z.string().min(1, { error: 'a non-empty string' });

const rateSchema = z.object({
  rate: z
    .number({ error: 'a number > 0' })
    .positive({ error: 'a number > 0' })
    .finite({ error: 'a finite number > 0' }),
  per: duration('a duration > 0').optional(),
  burst: z.number({ error: 'a number >= 1' }).min(1, { error: 'a number >= 1' }).finite().optional(),
  key: keyFn.optional(),
  backend: backend.optional(),
  name: name.optional(),
  clock: clock.optional(),
});

const concurrencySchema = z.object({
  max: z
    .number({ error: 'an integer >= 1' })
    .int({ error: 'an integer >= 1' })
    .min(1, { error: 'an integer >= 1' }),
  key: keyFn.optional(),
  backend: backend.optional(),
  name: name.optional(),
  ttl: duration('a duration > 0').optional(),
  pollMax: duration('a duration > 0').optional(),
  clock: clock.optional(),
});

/** Validated rate limiter settings. */
export interface RateSettings {
  readonly name: string;
  /** ms per token. */
  readonly intervalMs: number;
  readonly burst: number;
  readonly keyOf: (item: unknown) => string;
  readonly store: LimitStore | undefined;
  readonly clock: Clock;
}

/** Validated concurrency limiter settings. */
export interface ConcurrencySettings {
  readonly name: string;
  readonly max: number;
  readonly ttlMs: number;
  readonly pollMaxMs: number;
  readonly keyOf: (item: unknown) => string;
  readonly store: LimitStore | undefined;
  readonly clock: Clock;
}

let seq = 0;

function keyOfFn(fn: ((item: unknown) => string | number) | undefined): (item: unknown) => string {
  if (fn === undefined) return () => '';
  return (item) => {
    const k = fn(item);
    if (typeof k === 'string') return k;
    if (typeof k === 'number' && Number.isFinite(k)) return String(k);
    throw configError('key(item)', 'a string or a finite number', k);
  };
}

function storeOf(
  b: Backend | undefined,
  limiterName: string | undefined,
  where: string,
): LimitStore | undefined {
  if (b === undefined) return undefined;
  if (b.limits === undefined)
    throw configError(`${where}.backend`, 'a Backend with a `limits` store', b.kind);
  if (limiterName === undefined)
    throw configError(`${where}.name`, 'a name shared by every process (required with `backend`)', undefined);
  return b.limits;
}

/** Validates `rateLimit` options (`CONFIG_INVALID` naming the field and value). */
export function rateSettings(options: RateLimitOptions<never>): RateSettings {
  const o = validate(rateSchema, options, 'rateLimit');
  const perMs = o.per === undefined ? 1000 : parseDuration(o.per, 'rateLimit.per');
  return {
    name: o.name ?? `rate-${++seq}`,
    intervalMs: perMs / o.rate,
    burst: o.burst ?? 1,
    keyOf: keyOfFn(o.key),
    store: storeOf(o.backend, o.name, 'rateLimit'),
    clock: o.clock ?? systemClock,
  };
}

/** Validates `concurrencyLimit` options (`CONFIG_INVALID` naming the field and value). */
export function concurrencySettings(options: ConcurrencyLimitOptions<never>): ConcurrencySettings {
  const o = validate(concurrencySchema, options, 'concurrencyLimit');
  return {
    name: o.name ?? `concurrency-${++seq}`,
    max: o.max,
    ttlMs: o.ttl === undefined ? 30_000 : parseDuration(o.ttl, 'concurrencyLimit.ttl'),
    pollMaxMs: o.pollMax === undefined ? 250 : parseDuration(o.pollMax, 'concurrencyLimit.pollMax'),
    keyOf: keyOfFn(o.key),
    store: storeOf(o.backend, o.name, 'concurrencyLimit'),
    clock: o.clock ?? systemClock,
  };
}

/** Checks an acquire weight: a finite number > 0 and at most `limit` (the burst or max). */
export function checkWeight(weight: unknown, limit: number, limitName: string): number {
  if (typeof weight !== 'number' || !(weight > 0) || !Number.isFinite(weight))
    throw configError('weight', 'a finite number > 0', weight);
  if (weight > limit) throw configError('weight', `at most the ${limitName} (${limit})`, weight);
  return weight;
}

/**
 * Parses a rate such as `"100/s"`, `"5/1m"`, `"0.5/s"` into `{rate, per}` (for CLIs and config
 * files). The period may be a unit alone (`s`, `m`, `h`, `ms`) or a duration.
 *
 * @throws SluiceError `CONFIG_INVALID` naming `field` when the text is not `<number>/<period>`.
 * @example
 * ```ts
 * parseRate('100/s') // { rate: 100, per: 1000 }
 * ```
 */
export function parseRate(text: string, field = 'rate'): { rate: number; per: number } {
  const m = typeof text === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\S+)\s*$/.exec(text) : null;
  if (m === null) throw configError(field, 'a rate such as "100/s" or "5/1m"', text);
  const rate = Number(m[1]);
  const unit = m[2]!;
  let per: number;
  try {
    per = parseDuration(/^(ms|s|m|h|d)$/.test(unit) ? `1${unit}` : unit, field);
  } catch {
    throw configError(field, 'a rate such as "100/s" or "5/1m"', text);
  }
  if (!(rate > 0) || !(per > 0)) throw configError(field, 'a rate > 0 per a period > 0', text);
  return { rate, per };
}
