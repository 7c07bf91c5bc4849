// Cluster-wide GCRA rate limiter: each decision is one atomic call to the backend's LimitStore.
import type { LimitStore, RateSpec } from '../backend/LimitStore.ts';
import type { Duration } from '../core/duration.ts';
import { abortError, throwIfAborted } from '../core/errors.ts';
import type { Limiter, LimiterAcquireOptions, Permit } from './Limiter.ts';
import { closedLimiter, LimiterBase, RATE_PERMIT } from './LimiterBase.ts';
import { checkWeight, type RateSettings } from './options.ts';

/** A denied acquire waiting for its turn; `wake` is set while it waits. */
interface Turn {
  wake: (() => void) | undefined;
}

function first<T>(set: Set<T>): T | undefined {
  return set.values().next().value;
}

/**
 * The shared `rateLimit`: bucket state lives in the backend, `now` comes from this process's
 * clock. A denied acquire sleeps exactly the delay the store computed, then asks again. Denied
 * acquires of one key wait in a line per process and only the first asks the store, so the
 * store sees about one denial per grant and process rather than one per waiter (the herd that
 * would otherwise saturate it). A park this process knows of (its own `pause`, or a denial caused
 * by a park) is waited out locally without a round trip.
 */
export class SharedRateLimiter<T> extends LimiterBase<T> implements Limiter<T> {
  readonly kind = 'rate';
  readonly scope = 'shared';
  private readonly spec: RateSpec;
  /** Per key, this process's denied acquires in arrival order; the first one asks the store. */
  private readonly lines = new Map<string, Set<Turn>>();

  constructor(
    s: RateSettings,
    private readonly store: LimitStore,
  ) {
    super(s.name, s.clock, s.keyOf);
    this.spec = { intervalMs: s.intervalMs, burst: s.burst };
  }

  /** Always `undefined`: a shared decision needs a round trip; call {@link acquire}. */
  tryAcquire(_key = '', weight = 1): Permit | undefined {
    this.ensureOpen();
    if (weight !== 1) checkWeight(weight, this.spec.burst, 'burst');
    return undefined;
  }

  async acquire(key = '', options: LimiterAcquireOptions = {}): Promise<Permit> {
    const weight = options.weight === undefined ? 1 : checkWeight(options.weight, this.spec.burst, 'burst');
    const { signal } = options;
    const started = this.clock.now();
    this.ensureOpen();
    throwIfAborted(signal, 'rate limit acquire');
    // Nobody of this process waits for the key: ask the store at once (calls may overlap).
    let wait = this.lines.has(key) ? -1 : await this.decide(key, weight);
    if (wait === 0) return this.grant(key, weight, started);
    // Denied: wait in this process's line for the key; only its head asks the store, so a
    // process sends about one denied call per grant instead of one per waiter.
    let line = this.lines.get(key);
    if (line === undefined) this.lines.set(key, (line = new Set()));
    const me: Turn = { wake: undefined };
    line.add(me);
    try {
      if (first(line) !== me) {
        await this.turn(me, signal);
        wait = 0;
      }
      for (;;) {
        if (wait > 0) await this.wait(wait, signal);
        this.ensureOpen();
        throwIfAborted(signal, 'rate limit acquire');
        wait = await this.decide(key, weight);
        if (wait === 0) return this.grant(key, weight, started);
      }
    } finally {
      const wasHead = first(line) === me;
      line.delete(me);
      if (line.size === 0) {
        if (this.lines.get(key) === line) this.lines.delete(key);
      } else if (wasHead) first(line)?.wake?.();
    }
  }

  async pause(ms: Duration, key = ''): Promise<number> {
    const { now, until } = this.localPark(ms, key);
    const end = await this.store.park(this.name, key, until, now);
    this.parks.set(key, end);
    this.events.emit('parked', { key, until: end });
    return end;
  }

  async close(): Promise<void> {
    this.lifecycle = 'closed';
    for (const line of this.lines.values()) for (const t of line) t.wake?.();
  }

  /** 0 when granted, else the wait in ms (a park known here is waited out without a round trip). */
  private async decide(key: string, weight: number): Promise<number> {
    const now = this.clock.now();
    const known = this.parks.any ? this.parks.until(key, now) : 0;
    if (known > now) return known - now;
    const d = await this.store.take(this.name, key, weight, this.spec, now);
    if (d.granted) return 0;
    this.denied++;
    if (d.parked) this.parks.set(key, now + d.retryAfterMs);
    this.events.emit('denied', { key, weight, retryAfterMs: d.retryAfterMs, parked: d.parked });
    return Math.max(1, d.retryAfterMs);
  }

  private grant(key: string, weight: number, started: number): Permit {
    this.granted += weight;
    this.events.emit('granted', { key, weight, waitedMs: this.clock.now() - started });
    return RATE_PERMIT;
  }

  /** Resolves when `me` is the head of its line; rejects with `ABORTED` (or `CLOSED` on close). */
  private turn(me: Turn, signal: AbortSignal | undefined): Promise<void> {
    this.waiting++;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        me.wake = undefined;
        this.waiting--;
        reject(abortError(signal, 'rate limit acquire'));
      };
      me.wake = () => {
        me.wake = undefined;
        signal?.removeEventListener('abort', onAbort);
        this.waiting--;
        if (this.lifecycle === 'closed') reject(closedLimiter(this.name));
        else resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    this.waiting++;
    try {
      await this.clock.sleep(ms, signal);
    } finally {
      this.waiting--;
    }
  }
}
