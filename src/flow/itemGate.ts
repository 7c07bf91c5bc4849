// itemGate: limiters with their own key of an item, turned into a per-item attempt gate.
import type { Limiter, Permit } from './Limiter.ts';
import { RATE_PERMIT } from './LimiterBase.ts';

/** One limiter of an {@link itemGate} and how it keys an item. */
export interface GateEntry<T> {
  readonly limiter: Limiter<never>;
  /** The key of an item for this limiter (`''`: the whole limiter). */
  readonly keyOf: (item: T) => string;
  /** Whether a rate-limited attempt parks this limiter's key (see {@link itemGate}). */
  readonly parkOnRateLimit: boolean;
}

/** How the attempt an item gate admitted ended. */
export type ItemGateSettled = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

/** A gate that knows the item: admits one attempt of `item`, returns its release. */
export type ItemGate<T> = (
  item: T,
  ctx: { readonly signal: AbortSignal; readonly attempt: number },
) => ((settled: ItemGateSettled) => void) | Promise<(settled: ItemGateSettled) => void>;

/** Items waiting in an {@link itemGate} now, by the kind of limiter they wait on. */
export interface GateWaiting {
  rate: number;
  concurrency: number;
}

/**
 * A per-item gate over `entries`: before each attempt of an item it takes a permit from every
 * limiter, in order, with that limiter's key of the item — synchronously through `tryAcquire`
 * while each grants at once, else awaiting `acquire` with the attempt's signal. The release
 * gives the permits back; when the attempt failed with a rate-limited error (code
 * `RATE_LIMITED` with a `retryAfterMs`), it also parks the item's key of every entry marked
 * `parkOnRateLimit` for that long, so that other items of the key wait too (cluster-wide for a
 * shared limiter). `waiting` counts the items waiting on each kind of limiter now.
 */
export function itemGate<T>(
  entries: readonly GateEntry<T>[],
  defaultRetryAfterMs: number,
): {
  gate: ItemGate<T>;
  waiting: GateWaiting;
} {
  const waiting: GateWaiting = { rate: 0, concurrency: 0 };
  const releaseFor = (keys: readonly string[], permits: readonly Permit[]) => (settled: ItemGateSettled) => {
    for (let i = 0; i < permits.length; i++) void permits[i]!.release();
    if (settled.ok || !isRateLimitedShape(settled.error)) return;
    const ms = retryAfterOf(settled.error) ?? defaultRetryAfterMs;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.parkOnRateLimit) void e.limiter.pause(ms, keys[i]).catch(() => {});
    }
  };
  const slow = async (item: T, from: number, keys: string[], permits: Permit[], signal: AbortSignal) => {
    try {
      for (let i = from; i < entries.length; i++) {
        const e = entries[i]!;
        const key = i < keys.length ? keys[i]! : e.keyOf(item);
        if (i >= keys.length) keys.push(key);
        const now = e.limiter.tryAcquire(key);
        if (now !== undefined) {
          permits.push(now);
          continue;
        }
        const kind = e.limiter.kind;
        waiting[kind]++;
        try {
          permits.push(await e.limiter.acquire(key, { signal }));
        } finally {
          waiting[kind]--;
        }
      }
    } catch (error) {
      await Promise.all(permits.map((p) => p.release()));
      throw error;
    }
    return releaseFor(keys, permits);
  };
  const one = entries.length === 1 ? entries[0] : undefined;
  if (one !== undefined) return { gate: singleGate(one, slow, defaultRetryAfterMs), waiting };
  const gate: ItemGate<T> = (item, { signal }) => {
    const permits: Permit[] = [];
    const keys: string[] = [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      let p: Permit | undefined;
      try {
        const key = e.keyOf(item);
        keys.push(key);
        p = e.limiter.tryAcquire(key);
      } catch (error) {
        for (const held of permits) void held.release();
        throw error;
      }
      if (p === undefined) return slow(item, i, keys, permits, signal);
      permits.push(p);
    }
    return releaseFor(keys, permits);
  };
  return { gate, waiting };
}

/**
 * The gate of a single limiter, without arrays: a rate permit (nothing to give back) of the
 * whole limiter is released by one shared function, so admitting an item allocates nothing.
 */
function singleGate<T>(
  e: GateEntry<T>,
  slow: (
    item: T,
    from: number,
    keys: string[],
    permits: Permit[],
    signal: AbortSignal,
  ) => Promise<(settled: ItemGateSettled) => void>,
  defaultRetryAfterMs: number,
): ItemGate<T> {
  const park = (key: string, error: unknown) => {
    if (!e.parkOnRateLimit || !isRateLimitedShape(error)) return;
    void e.limiter.pause(retryAfterOf(error) ?? defaultRetryAfterMs, key).catch(() => {});
  };
  const wholeRateRelease = (settled: ItemGateSettled) => {
    if (!settled.ok) park('', settled.error);
  };
  return (item, { signal }) => {
    const key = e.keyOf(item);
    const p = e.limiter.tryAcquire(key);
    if (p === undefined) return slow(item, 0, [key], [], signal);
    if (p === RATE_PERMIT) {
      if (key === '') return wholeRateRelease;
      return (settled) => {
        if (!settled.ok) park(key, settled.error);
      };
    }
    return (settled) => {
      void p.release();
      if (!settled.ok) park(key, settled.error);
    };
  };
}

function isRateLimitedShape(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'RATE_LIMITED';
}

/** The `retryAfterMs` of a rate-limited error (code `RATE_LIMITED`), from any realm. */
export function retryAfterOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; retryAfterMs?: unknown; context?: { retryAfterMs?: unknown } };
  if (e.code !== 'RATE_LIMITED') return undefined;
  const ms = e.retryAfterMs ?? e.context?.retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : undefined;
}
