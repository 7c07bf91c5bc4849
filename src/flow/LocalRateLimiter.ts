// In-process GCRA rate limiter: a synchronous, allocation-free decision per call.
import { GCRA_EPSILON_MS, GCRA_LATE_MS } from '../backend/common/gcra.ts';
import type { Duration } from '../core/duration.ts';
import { throwIfAborted } from '../core/errors.ts';
import type { Limiter, LimiterAcquireOptions, Permit } from './Limiter.ts';
import { LimiterBase, RATE_PERMIT } from './LimiterBase.ts';
import { checkWeight, type RateSettings } from './options.ts';

/** Sweep expired buckets once the key map grows past this many entries (then past twice its size). */
const SWEEP_AT = 4096;

/**
 * The local `rateLimit`: GCRA per key, times kept relative to the limiter's creation so that
 * fractional intervals keep sub-microsecond precision. Buckets whose time has passed are
 * equivalent to fresh ones and are swept as the key map grows.
 */
export class LocalRateLimiter<T> extends LimiterBase<T> implements Limiter<T> {
  readonly kind = 'rate';
  readonly scope = 'local';
  private readonly intervalMs: number;
  private readonly burst: number;
  private readonly span: number;
  private readonly origin: number;
  private defaultTat = 0;
  private readonly tats = new Map<string, number>();
  private sweepAt = SWEEP_AT;

  constructor(s: RateSettings) {
    super(s.name, s.clock, s.keyOf);
    this.intervalMs = s.intervalMs;
    this.burst = s.burst;
    this.span = s.burst * s.intervalMs;
    this.origin = s.clock.now();
  }

  tryAcquire(key = '', weight = 1): Permit | undefined {
    if (weight !== 1) checkWeight(weight, this.burst, 'burst');
    if (this.lifecycle !== 'open') this.ensureOpen();
    return this.decide(key, weight, this.clock.now()) === 0 ? RATE_PERMIT : undefined;
  }

  async acquire(key = '', options: LimiterAcquireOptions = {}): Promise<Permit> {
    const weight = options.weight === undefined ? 1 : checkWeight(options.weight, this.burst, 'burst');
    const { signal } = options;
    const started = this.clock.now();
    for (;;) {
      this.ensureOpen();
      throwIfAborted(signal, 'rate limit acquire');
      const now = this.clock.now();
      const wait = this.decide(key, weight, now);
      if (wait === 0) {
        this.events.emit('granted', { key, weight, waitedMs: now - started });
        return RATE_PERMIT;
      }
      this.events.emit('denied', {
        key,
        weight,
        retryAfterMs: wait,
        parked: this.parks.any && this.parkedUntil(key) > now,
      });
      this.waiting++;
      try {
        await this.clock.sleep(wait, signal);
      } finally {
        this.waiting--;
      }
    }
  }

  async pause(ms: Duration, key = ''): Promise<number> {
    const { until } = this.localPark(ms, key);
    this.events.emit('parked', { key, until });
    return until;
  }

  async close(): Promise<void> {
    this.lifecycle = 'closed';
  }

  /** 0 when granted (and recorded), else the wait in whole ms. */
  private decide(key: string, weight: number, now: number): number {
    if (this.parks.any) {
      const parked = this.parks.until(key, now);
      if (parked > now) {
        this.denied++;
        return Math.ceil(parked - now);
      }
    }
    const rel = now - this.origin;
    const tat = key === '' ? this.defaultTat : (this.tats.get(key) ?? 0);
    const next = (tat > rel - GCRA_LATE_MS ? tat : rel) + weight * this.intervalMs;
    const wait = next - rel - this.span;
    if (wait > GCRA_EPSILON_MS) {
      this.denied++;
      return Math.ceil(wait - GCRA_EPSILON_MS);
    }
    if (key === '') this.defaultTat = next;
    else {
      this.tats.set(key, next);
      if (this.tats.size > this.sweepAt) this.sweep(rel);
    }
    this.granted += weight;
    return 0;
  }

  private sweep(rel: number): void {
    for (const [k, tat] of this.tats) if (tat <= rel - GCRA_LATE_MS) this.tats.delete(k);
    this.sweepAt = Math.max(SWEEP_AT, this.tats.size * 2);
  }
}
