// limiterGate: turns limiters into an attempt gate (acquire before each attempt, release after).
import { retryAfterOf } from './itemGate.ts';
import type { Limiter, Permit } from './Limiter.ts';

/** How the attempt a gate admitted ended (the shape of the attempt primitive's `AttemptSettled`). */
export type GateSettled = { readonly ok: true } | { readonly ok: false; readonly error: unknown };
/** Called once after the admitted attempt. */
export type GateReleaseFn = (settled?: GateSettled) => void;

/**
 * A gate for the attempt primitive: before each attempt it takes a permit from every limiter in
 * order — synchronously through `tryAcquire` when all grant at once, otherwise awaiting `acquire`
 * with the attempt's signal — and the returned release gives them back. When the attempt failed
 * with a rate-limited error (code `RATE_LIMITED` with a `retryAfterMs`), the release also parks
 * `key` of every rate limiter for that long, so other items of the key wait too.
 *
 * @example
 * ```ts
 * const api = rateLimit({ rate: 100 });
 * const gate = limiterGate([api], 'tenant-1');
 * const release = await gate({ signal: AbortSignal.timeout(5000) });
 * release({ ok: true });
 * ```
 */
export function limiterGate(
  limiters: readonly Limiter<never>[],
  key: string,
  weight = 1,
): (ctx: { readonly signal: AbortSignal }) => GateReleaseFn | Promise<GateReleaseFn> {
  const releaseAll = (permits: readonly Permit[]): GateReleaseFn => {
    return (settled) => {
      for (const p of permits) void p.release();
      const ms = settled !== undefined && !settled.ok ? retryAfterOf(settled.error) : undefined;
      if (ms !== undefined)
        for (const l of limiters) if (l.kind === 'rate') void l.pause(ms, key).catch(() => {});
    };
  };
  return ({ signal }) => {
    const permits: Permit[] = [];
    for (let i = 0; i < limiters.length; i++) {
      const p = limiters[i]!.tryAcquire(key, weight);
      if (p === undefined) return slowPath(limiters, i, permits, key, weight, signal, releaseAll);
      permits.push(p);
    }
    return releaseAll(permits);
  };
}

async function slowPath(
  limiters: readonly Limiter<never>[],
  from: number,
  permits: Permit[],
  key: string,
  weight: number,
  signal: AbortSignal,
  done: (permits: readonly Permit[]) => GateReleaseFn,
): Promise<GateReleaseFn> {
  try {
    for (let i = from; i < limiters.length; i++) {
      const l = limiters[i]!;
      permits.push(l.tryAcquire(key, weight) ?? (await l.acquire(key, { signal, weight })));
    }
  } catch (e) {
    await Promise.all(permits.map((p) => p.release()));
    throw e;
  }
  return done(permits);
}
