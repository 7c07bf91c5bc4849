// The Duration type and parseDuration/durationOr: milliseconds or unit strings ("500ms", "1m30s") to ms.
import { configError } from './errors.ts';

/** A duration: a number of milliseconds or a string such as `"500ms"`, `"1s"`, `"1m"`, `"1h"`, `"1d"`, `"1m30s"`. */
export type Duration = number | `${number}${DurationUnit}` | (string & {});
/** Units understood by {@link parseDuration}. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/y;

/**
 * Parses a {@link Duration} into milliseconds.
 *
 * @param field - the option name used in the `CONFIG_INVALID` error message.
 * @throws SluiceError `CONFIG_INVALID` naming the field and value when the input is not a duration.
 * @example
 * ```ts
 * parseDuration('1m30s') // 90000
 * parseDuration(250)     // 250
 * ```
 */
export function parseDuration(value: unknown, field = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
    throw configError(field, 'a duration (ms >= 0 or "500ms"/"1s"/"1m"/"1h")', value);
  }
  if (typeof value === 'string') {
    const s = value.trim();
    if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
    let total = 0;
    let pos = 0;
    let matched = false;
    PART.lastIndex = 0;
    while (pos < s.length) {
      PART.lastIndex = pos;
      const m = PART.exec(s);
      if (!m) break;
      total += Number(m[1]) * UNIT_MS[m[2] as DurationUnit];
      pos = PART.lastIndex;
      while (s[pos] === ' ') pos++;
      matched = true;
    }
    if (matched && pos === s.length) return total;
  }
  throw configError(field, 'a duration (ms >= 0 or "500ms"/"1s"/"1m"/"1h")', value);
}

/** Like {@link parseDuration} but returns `fallback` for `undefined`. */
export function durationOr(value: unknown, fallback: number, field: string): number {
  return value === undefined ? fallback : parseDuration(value, field);
}
