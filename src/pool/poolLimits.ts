// The pool's limiter options (rateLimit, concurrencyLimit, perKey) resolved into limiters and one per-item gate.
import type { Duration } from '../core/duration.ts';
import { configError } from '../core/errors.ts';
import { RateLimitedError } from '../core/rateLimited.ts';
import { type GateEntry, type GateWaiting, type ItemGate, itemGate } from '../flow/itemGate.ts';
import type { Limiter } from '../flow/Limiter.ts';
import { isLimiter, limiterFrom } from '../flow/limiterFrom.ts';
import { concurrencyLimit } from '../flow/rateLimit.ts';
import type { MapConcurrentOptions, PoolPerKeyOptions } from './types.ts';

/** The limiters of one pool call and the gate over them. */
export interface PoolLimits {
  readonly gate: ItemGate<unknown>;
  /** Items waiting on a limiter now, by kind. */
  readonly waiting: GateWaiting;
  /** Every limiter of the call, in the gate's order. */
  readonly limiters: readonly Limiter<never>[];
  /** Closes the limiters made from options for this call (given instances stay open). */
  close(): Promise<void>;
}

/** `ctx.pause(ms)` of pool items: refuses the call for `ms` (one shared function, no closure per item). */
export function pauseItem(ms: Duration): never {
  throw new RateLimitedError({ retryAfter: ms });
}

/** The key function of `perKey`, returning strings (numbers converted; anything else `CONFIG_INVALID`). */
function keyFnOf(perKey: PoolPerKeyOptions<never>): (item: unknown) => string {
  const fn = perKey.key as (item: unknown) => unknown;
  return (item) => {
    const k = fn(item);
    if (typeof k === 'string') return k;
    if (typeof k === 'number' && Number.isFinite(k)) return String(k);
    throw configError('perKey.key(item)', 'a string or a finite number', k);
  };
}

/** The entries of `perKey`: its semaphore (a slot) and its rate limiter (a token), each per key. */
function perKeyEntries(
  perKey: PoolPerKeyOptions<never>,
  own: (made: { limiter: Limiter<never>; made: boolean }) => Limiter<never>,
): { slot?: GateEntry<unknown>; token?: GateEntry<unknown> } {
  if (typeof perKey !== 'object' || perKey === null)
    throw configError('perKey', 'an object { key, concurrency?, rateLimit? }', perKey);
  if (typeof perKey.key !== 'function')
    throw configError('perKey.key', 'a function (item) => string | number', perKey.key);
  if (perKey.concurrency === undefined && perKey.rateLimit === undefined)
    throw configError('perKey', 'an object with `concurrency` or `rateLimit`', perKey);
  const keyOf = keyFnOf(perKey);
  const out: { slot?: GateEntry<unknown>; token?: GateEntry<unknown> } = {};
  if (perKey.concurrency !== undefined) {
    const c = perKey.concurrency;
    let limiter: Limiter<never>;
    if (isLimiter(c)) limiter = own(limiterFrom('concurrency', c, 'perKey.concurrency'));
    else if (typeof c !== 'number' || !Number.isInteger(c) || c < 1)
      throw configError('perKey.concurrency', 'an integer >= 1 or a concurrencyLimit limiter', c);
    else limiter = own({ limiter: concurrencyLimit({ max: c }), made: true });
    out.slot = { limiter, keyOf, parkOnRateLimit: true };
  }
  if (perKey.rateLimit !== undefined) {
    const limiter = own(limiterFrom('rate', perKey.rateLimit, 'perKey.rateLimit'));
    out.token = { limiter, keyOf, parkOnRateLimit: true };
  }
  return out;
}

/**
 * Resolves the limiter options of a pool call: `undefined` when there are none (the ungated
 * fast path). Slots are taken before tokens — per key, then for the batch — so a token is spent
 * only right before the call it admits. A rate-limited attempt parks the item's key of the rate
 * limiters and of `perKey.concurrency` (not of a batch-wide `concurrencyLimit`: a slot cap is
 * not a rate).
 *
 * @throws SluiceError `CONFIG_INVALID` naming the field (`rateLimit.rate`, `perKey.concurrency`, ...).
 */
export function resolveLimits(
  o: MapConcurrentOptions<never>,
  defaultRetryAfterMs: number,
): PoolLimits | undefined {
  const { rateLimit: rate, concurrencyLimit: conc, perKey } = o;
  if (rate === undefined && conc === undefined && perKey === undefined) return undefined;
  const owned: Limiter<never>[] = [];
  const own = (r: { limiter: Limiter<never>; made: boolean }) => {
    if (r.made) owned.push(r.limiter);
    return r.limiter;
  };
  const byItem = (limiter: Limiter<never>) => (item: unknown) => limiter.keyOf(item as never);
  let entries: GateEntry<unknown>[];
  try {
    const pk = perKey === undefined ? {} : perKeyEntries(perKey, own);
    const batchSlot =
      conc === undefined ? undefined : own(limiterFrom('concurrency', conc, 'concurrencyLimit'));
    const batchToken = rate === undefined ? undefined : own(limiterFrom('rate', rate, 'rateLimit'));
    entries = [
      pk.slot,
      batchSlot && { limiter: batchSlot, keyOf: byItem(batchSlot), parkOnRateLimit: false },
      pk.token,
      batchToken && { limiter: batchToken, keyOf: byItem(batchToken), parkOnRateLimit: true },
    ].filter((e): e is GateEntry<unknown> => e !== undefined);
  } catch (e) {
    for (const l of owned) void l.close();
    throw e;
  }
  const { gate, waiting } = itemGate(entries, defaultRetryAfterMs);
  return {
    gate,
    waiting,
    limiters: entries.map((e) => e.limiter),
    close: async () => {
      await Promise.all(owned.map((l) => l.close()));
    },
  };
}
