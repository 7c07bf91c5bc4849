// limiterFrom: a limiter option that is either a limiter instance or its factory's options, resolved.
import { configError, isSluiceError, SluiceError } from '../core/errors.ts';
import type { Limiter, LimiterKind } from './Limiter.ts';
import type { ConcurrencyLimitOptions, RateLimitOptions } from './options.ts';
import { concurrencyLimit, rateLimit } from './rateLimit.ts';

/** True for a limiter made by `rateLimit`/`concurrencyLimit` (rather than its options). */
export function isLimiter(v: unknown): v is Limiter<never> {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Limiter).tryAcquire === 'function' &&
    typeof (v as Limiter).acquire === 'function'
  );
}

/** A `CONFIG_INVALID` error of a factory with its field renamed from `from.x` to `to.x`. */
function renamed(e: unknown, from: string, to: string): unknown {
  if (!isSluiceError(e) || e.code !== 'CONFIG_INVALID' || from === to) return e;
  const field = (e.context as { field?: unknown } | undefined)?.field;
  if (typeof field !== 'string' || !field.startsWith(from)) return e;
  const next = to + field.slice(from.length);
  return new SluiceError('CONFIG_INVALID', e.message.replace(`\`${field}\``, `\`${next}\``), {
    context: { ...e.context, field: next },
  });
}

/**
 * Resolves an option of an engine (`rateLimit`, `concurrencyLimit`, `perKey.rateLimit`, ...):
 * a limiter instance of the right kind is used as given (`made: false`, the caller must not
 * close it); options are made into a new limiter (`made: true`), with `key` when given.
 *
 * @param where - the option's field path, e.g. `"perKey.rateLimit"`: `CONFIG_INVALID` errors
 *   name `<where>.<field>` (`perKey.rateLimit.rate`).
 * @throws SluiceError `CONFIG_INVALID` naming the field for bad options or a limiter of the other kind.
 */
export function limiterFrom(
  kind: LimiterKind,
  given: unknown,
  where: string,
  key?: (item: never) => string | number,
): { limiter: Limiter<never>; made: boolean } {
  const factory = kind === 'rate' ? 'rateLimit' : 'concurrencyLimit';
  if (isLimiter(given)) {
    if (given.kind !== kind) throw configError(where, `a ${factory} limiter or its options`, given.name);
    return { limiter: given, made: false };
  }
  if (typeof given !== 'object' || given === null)
    throw configError(where, `a ${factory} limiter or its options`, given);
  const o = key === undefined ? given : { ...given, key };
  try {
    const limiter =
      kind === 'rate'
        ? rateLimit(o as RateLimitOptions<never>)
        : concurrencyLimit(o as ConcurrencyLimitOptions<never>);
    return { limiter, made: true };
  } catch (e) {
    throw renamed(e, factory, where);
  }
}
