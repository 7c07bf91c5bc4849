// Pure GCRA and semaphore decisions shared by the in-process backends (memory, SQLite).
import { configError } from '../../core/errors.ts';
import type { RateSpec } from '../LimitStore.ts';

/** Tolerance of rate decisions, in ms: absorbs floating-point rounding of fractional intervals. */
export const GCRA_EPSILON_MS = 0.001;

/**
 * A request at most this late (ms) after the bucket's `tat` keeps its place on the schedule
 * instead of restarting it at `now`. Clocks tick in whole ms and waits are rounded up, so without
 * it every grant would slip by the rounding and a 3/s limiter would run at 1000/334 per second.
 * It lets a bucket bank at most 1 ms of lateness.
 */
export const GCRA_LATE_MS = 1;

/** One GCRA step: the new `tat` when granted, otherwise the wait in whole ms. */
export type GcraStep =
  | { readonly granted: true; readonly tat: number }
  | { readonly granted: false; readonly waitMs: number };

/**
 * Decides a GCRA request of `weight` tokens at `now` for a bucket whose theoretical arrival time
 * is `tat` (0 for a fresh bucket). Pure: the caller stores the returned `tat` on a grant.
 */
export function gcraStep(tat: number, now: number, weight: number, spec: RateSpec): GcraStep {
  const next = (tat > now - GCRA_LATE_MS ? tat : now) + weight * spec.intervalMs;
  const wait = next - now - spec.burst * spec.intervalMs;
  if (wait <= GCRA_EPSILON_MS) return { granted: true, tat: next };
  return { granted: false, waitMs: Math.ceil(wait - GCRA_EPSILON_MS) };
}

/** Checks the arguments every `LimitStore` method shares (`CONFIG_INVALID` naming the field). */
export function checkLimitArgs(name: string, key: string, weight: number, now: number): void {
  if (typeof name !== 'string' || name === '') throw configError('name', 'a non-empty string', name);
  if (typeof key !== 'string') throw configError('key', 'a string', key);
  if (typeof weight !== 'number' || !(weight > 0) || !Number.isFinite(weight))
    throw configError('weight', 'a finite number > 0', weight);
  if (typeof now !== 'number' || !Number.isFinite(now)) throw configError('now', 'a finite number (ms)', now);
}

/** Checks a rate spec (`CONFIG_INVALID` naming the field). */
export function checkRateSpec(spec: RateSpec, weight: number): void {
  if (!(spec.intervalMs > 0) || !Number.isFinite(spec.intervalMs))
    throw configError('intervalMs', 'a finite number > 0', spec.intervalMs);
  if (!(spec.burst >= 1) || !Number.isFinite(spec.burst))
    throw configError('burst', 'a number >= 1', spec.burst);
  if (weight > spec.burst) throw configError('weight', `at most the burst (${spec.burst})`, weight);
}

/** Checks a slot spec (`CONFIG_INVALID` naming the field). */
export function checkSlotSpec(spec: { max: number; ttlMs: number }, weight: number): void {
  if (!(spec.max >= 1) || !Number.isFinite(spec.max)) throw configError('max', 'a number >= 1', spec.max);
  if (!(spec.ttlMs > 0) || !Number.isFinite(spec.ttlMs))
    throw configError('ttlMs', 'a number > 0', spec.ttlMs);
  if (weight > spec.max) throw configError('weight', `at most max (${spec.max})`, weight);
}
