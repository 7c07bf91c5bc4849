// Backoff factories (exponential with full / equal / decorrelated / no jitter, fixed, custom) and toBackoff for config shapes.
import { z } from 'zod';
import { type Duration, parseDuration } from '../core/duration.ts';
import { configError, SluiceError } from '../core/errors.ts';
import { validate } from '../core/validate.ts';
import type { Backoff } from './Backoff.ts';
import { fnSchema } from './options.ts';

/**
 * How randomness is applied to an exponential delay `d = min(max, initial * multiplier^(attempt-1))`:
 * - `'full'` (default): uniform in `[0, d]`. Spreads retries best; recommended for many clients.
 * - `'equal'`: uniform in `[d/2, d]`. Keeps a floor of half the delay.
 * - `'decorrelated'`: uniform in `[initial, min(max, 3 * previous)]` (previous = `initial` on the
 *   first retry). Ignores `multiplier`; grows from the delay actually used last time.
 * - `'none'`: exactly `d`.
 */
export type Jitter = 'full' | 'equal' | 'decorrelated' | 'none';

/** A source of uniformly distributed numbers in `[0, 1)`, like `Math.random`. */
export type RandomSource = () => number;

/** Options of {@link backoff.exponential}. */
export interface ExponentialBackoffOptions {
  /** Delay before the first retry (before jitter). Default `'1s'`. */
  initial?: Duration;
  /** Upper bound of every delay. Default `'1m'`, or `initial` when that is larger. */
  max?: Duration;
  /** Growth factor per attempt, `>= 1`. Default `2`. */
  multiplier?: number;
  /** Jitter mode. Default `'full'`. */
  jitter?: Jitter;
  /** Random source in `[0, 1)`; inject a seeded one for deterministic tests. Default `Math.random`. */
  random?: RandomSource;
}

/** A user function computing the delay in ms before retry `attempt` (1-based). */
export type BackoffFunction = (attempt: number, previousDelayMs: number) => number;

const DEFAULT_INITIAL_MS = 1000;
const DEFAULT_MAX_MS = 60_000;
const DECORRELATED_FACTOR = 3;

const exponentialSchema = z.object({
  initial: z.unknown().optional(),
  max: z.unknown().optional(),
  multiplier: z.number({ error: 'a number >= 1' }).min(1, 'a number >= 1').optional(),
  jitter: z
    .enum(['full', 'equal', 'decorrelated', 'none'], {
      error: 'one of "full", "equal", "decorrelated", "none"',
    })
    .optional(),
  random: fnSchema<RandomSource>('a function returning a number in [0, 1)').optional(),
});

function unit(random: RandomSource): number {
  const r = random();
  if (!Number.isFinite(r)) return 0;
  return Math.min(Math.max(r, 0), 1);
}

function exponential(options: ExponentialBackoffOptions = {}, where = 'backoff'): Backoff {
  const o = validate(exponentialSchema, options, where);
  const initial = o.initial === undefined ? DEFAULT_INITIAL_MS : parseDuration(o.initial, `${where}.initial`);
  const max = o.max === undefined ? Math.max(DEFAULT_MAX_MS, initial) : parseDuration(o.max, `${where}.max`);
  if (initial > max) throw configError(`${where}.initial`, `<= \`${where}.max\` (${max}ms)`, o.initial);
  const multiplier = o.multiplier ?? 2;
  const jitter: Jitter = o.jitter ?? 'full';
  const random = o.random ?? Math.random;

  const ceiling = (attempt: number): number => {
    if (initial === 0) return 0;
    const n = Math.max(1, Math.floor(attempt));
    return Math.min(max, initial * multiplier ** (n - 1));
  };

  switch (jitter) {
    case 'none':
      return { next: (attempt) => ceiling(attempt) };
    case 'full':
      return { next: (attempt) => unit(random) * ceiling(attempt) };
    case 'equal':
      return {
        next: (attempt) => {
          const d = ceiling(attempt);
          return Math.min(d, d / 2 + (unit(random) * d) / 2);
        },
      };
    case 'decorrelated':
      return {
        next: (_attempt, previousDelayMs) => {
          const prev =
            Number.isFinite(previousDelayMs) && previousDelayMs > initial ? previousDelayMs : initial;
          const upper = Math.min(max, prev * DECORRELATED_FACTOR);
          return Math.min(upper, initial + unit(random) * (upper - initial));
        },
      };
  }
}

function fixed(delay: Duration, where = 'backoff'): Backoff {
  const ms = parseDuration(delay, where);
  return { next: () => ms };
}

function custom(fn: BackoffFunction, where = 'backoff'): Backoff {
  validate(fnSchema<BackoffFunction>(), fn, where);
  return {
    next: (attempt, previousDelayMs) => {
      const ms = fn(attempt, previousDelayMs);
      if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
        throw new SluiceError(
          'CONFIG_INVALID',
          `Expected the custom backoff to return a number of ms >= 0, got ${String(ms)} for attempt ${attempt}`,
          { context: { field: where, got: ms, attempt } },
        );
      }
      return ms;
    },
  };
}

/**
 * Backoff factories. Every factory validates its options at once (a bad value throws
 * `CONFIG_INVALID` naming the field) and returns a {@link Backoff}.
 *
 * @example
 * ```ts
 * const b = backoff.exponential({ initial: '100ms', max: '10s', jitter: 'none' });
 * b.next(1, 0);   // 100
 * b.next(2, 100); // 200
 * backoff.fixed('2s').next(7, 0); // 2000
 * backoff.custom((attempt) => attempt * 250).next(3, 0); // 750
 * ```
 */
export const backoff = {
  /**
   * Exponential growth `initial * multiplier^(attempt-1)` capped at `max`, with jitter
   * (`'full'` by default). See {@link Jitter} for the exact ranges.
   */
  exponential: (options: ExponentialBackoffOptions = {}): Backoff => exponential(options),
  /** The same delay before every retry. */
  fixed: (delay: Duration): Backoff => fixed(delay),
  /**
   * A user function `(attempt, previousDelayMs) => ms`. A result that is not a number `>= 0`
   * throws `CONFIG_INVALID` when the delay is asked for.
   */
  custom: (fn: BackoffFunction): Backoff => custom(fn),
} as const;

/**
 * Every shape accepted where a backoff is configured:
 * - a {@link Backoff} object (anything with a `next` method);
 * - a function `(attempt, previousDelayMs) => ms` (as {@link backoff.custom});
 * - `'exponential'` (the defaults of {@link backoff.exponential}) or `'fixed'` (1 second);
 * - a number of ms or a duration string such as `'500ms'` (fixed);
 * - `{ initial?, max?, multiplier?, jitter? }` (exponential), optionally with `type: 'exponential'`;
 * - `{ type: 'fixed', delay }`.
 */
export type BackoffSpec =
  | Backoff
  | BackoffFunction
  | 'exponential'
  | 'fixed'
  | Duration
  | (ExponentialBackoffOptions & { type?: 'exponential' })
  | { type: 'fixed'; delay: Duration };

/**
 * Turns any {@link BackoffSpec} (including the seed configuration shapes) into a {@link Backoff}.
 *
 * @param field - the option name used in `CONFIG_INVALID` messages.
 * @throws SluiceError `CONFIG_INVALID` naming the field when the spec is not understood.
 * @example
 * ```ts
 * toBackoff('exponential');                                 // 1s, 2s, 4s ... capped at 1m, full jitter
 * toBackoff({ initial: '1s', max: '30s', multiplier: 3 });  // exponential
 * toBackoff('250ms');                                       // fixed
 * ```
 */
export function toBackoff(spec: BackoffSpec | undefined, field = 'backoff'): Backoff {
  if (spec === undefined || spec === 'exponential') return exponential({}, field);
  if (spec === 'fixed') return fixed(DEFAULT_INITIAL_MS, field);
  if (typeof spec === 'number' || typeof spec === 'string') return fixed(spec, field);
  if (typeof spec === 'function') return custom(spec, field);
  if (typeof spec === 'object' && spec !== null) {
    if (typeof (spec as Backoff).next === 'function') return spec as Backoff;
    const { type, ...rest } = spec as { type?: unknown } & Record<string, unknown>;
    if (type === 'fixed') return fixed((rest as { delay?: Duration }).delay as Duration, `${field}.delay`);
    if (type === undefined || type === 'exponential') {
      return exponential(rest as ExponentialBackoffOptions, field);
    }
    throw configError(`${field}.type`, '"exponential" or "fixed"', type);
  }
  throw configError(
    field,
    '"exponential", "fixed", a duration, {initial, max, multiplier, jitter?}, a function or a Backoff',
    spec,
  );
}
