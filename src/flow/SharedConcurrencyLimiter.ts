// Cluster-wide semaphore whose slots are leases in the backend, renewed while held.
import { randomUUID } from 'node:crypto';
import type { LimitStore, SlotSpec } from '../backend/LimitStore.ts';
import type { Timer } from '../core/Clock.ts';
import type { Duration } from '../core/duration.ts';
import { abortError, SluiceError, throwIfAborted } from '../core/errors.ts';
import type { Limiter, LimiterAcquireOptions, Permit } from './Limiter.ts';
import { DONE, LimiterBase } from './LimiterBase.ts';
import { type ConcurrencySettings, checkWeight } from './options.ts';

/** First poll interval of a waiting acquire (then doubled up to `pollMax`). */
const POLL_MIN_MS = 10;

/** One slot held through this limiter. */
interface Held {
  readonly key: string;
  readonly holder: string;
  readonly weight: number;
  readonly controller: AbortController;
  expiresAt: number;
  timer: Timer | undefined;
  phase: 'held' | 'releasing' | 'released' | 'lost';
}

/**
 * The shared `concurrencyLimit`. A slot is a lease of a unique holder id in the backend: it is
 * renewed every `ttl / 3` on the limiter's clock while held, and lost — the permit's `signal`
 * aborts with `LEASE_LOST` — when a renewal finds it expired or its expiry passes without a
 * successful renewal. A waiting acquire retries when a slot is released in this process, or
 * after the store's hint (time until the earliest expiry) capped by a poll backoff (10 ms doubling
 * to `pollMax`).
 */
export class SharedConcurrencyLimiter<T> extends LimiterBase<T> implements Limiter<T> {
  readonly kind = 'concurrency';
  readonly scope = 'shared';
  private readonly spec: SlotSpec;
  private readonly pollMaxMs: number;
  private readonly instance = randomUUID();
  private seq = 0;
  private readonly held = new Set<Held>();
  private readonly wakers = new Map<string, Set<() => void>>();
  private readonly releases = new Set<Promise<void>>();

  constructor(
    s: ConcurrencySettings,
    private readonly store: LimitStore,
  ) {
    super(s.name, s.clock, s.keyOf);
    this.spec = { max: s.max, ttlMs: s.ttlMs };
    this.pollMaxMs = s.pollMaxMs;
  }

  /** Always `undefined`: a shared decision needs a round trip; call {@link acquire}. */
  tryAcquire(_key = '', weight = 1): Permit | undefined {
    this.ensureOpen();
    if (weight !== 1) checkWeight(weight, this.spec.max, 'max');
    return undefined;
  }

  async acquire(key = '', options: LimiterAcquireOptions = {}): Promise<Permit> {
    const weight = options.weight === undefined ? 1 : checkWeight(options.weight, this.spec.max, 'max');
    const { signal } = options;
    const holder = `${this.instance}:${++this.seq}`;
    const started = this.clock.now();
    let poll = POLL_MIN_MS;
    for (;;) {
      this.ensureOpen();
      throwIfAborted(signal, 'concurrency limit acquire');
      const now = this.clock.now();
      const known = this.parks.any ? this.parks.until(key, now) : 0;
      if (known > now) {
        await this.waitFor(key, known - now, signal, false);
        continue;
      }
      const d = await this.store.acquireSlot(this.name, key, holder, weight, this.spec, now);
      if (d.granted) {
        if (this.lifecycle === 'closed') {
          await this.store.releaseSlot(this.name, key, holder).catch(() => {});
          this.ensureOpen();
        }
        this.granted += weight;
        this.events.emit('granted', { key, weight, waitedMs: this.clock.now() - started });
        return this.permit(key, holder, weight, d.expiresAt);
      }
      this.denied++;
      this.events.emit('denied', { key, weight, retryAfterMs: d.retryAfterMs, parked: d.parked });
      if (d.parked) {
        this.parks.set(key, now + d.retryAfterMs);
        await this.waitFor(key, d.retryAfterMs, signal, false);
      } else {
        await this.waitFor(key, Math.min(d.retryAfterMs, poll), signal, true);
        poll = Math.min(poll * 2, this.pollMaxMs);
      }
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
    if (this.lifecycle === 'closed') return;
    this.lifecycle = 'closed';
    for (const set of this.wakers.values()) for (const wake of [...set]) wake();
    this.wakers.clear();
    for (const h of [...this.held]) void this.release(h);
    await Promise.allSettled([...this.releases]);
  }

  protected override heldNow(): number {
    let n = 0;
    for (const h of this.held) n += h.weight;
    return n;
  }

  private permit(key: string, holder: string, weight: number, expiresAt: number): Permit {
    const h: Held = {
      key,
      holder,
      weight,
      controller: new AbortController(),
      expiresAt,
      timer: undefined,
      phase: 'held',
    };
    this.held.add(h);
    this.scheduleRenew(h);
    return { release: () => this.release(h), signal: h.controller.signal };
  }

  private scheduleRenew(h: Held): void {
    h.timer = this.clock.setTimeout(() => void this.renew(h), Math.max(1, this.spec.ttlMs / 3));
  }

  private async renew(h: Held): Promise<void> {
    h.timer = undefined;
    if (h.phase !== 'held') return;
    const now = this.clock.now();
    let expiresAt: number | null;
    try {
      expiresAt = await this.store.renewSlot(this.name, h.key, h.holder, this.spec.ttlMs, now);
    } catch (e) {
      this.events.emit('error', e);
      expiresAt = this.clock.now() < h.expiresAt ? h.expiresAt : null;
    }
    if (h.phase !== 'held') return;
    if (expiresAt === null) {
      this.lose(h);
      return;
    }
    h.expiresAt = expiresAt;
    this.scheduleRenew(h);
  }

  private lose(h: Held): void {
    h.phase = 'lost';
    this.held.delete(h);
    this.events.emit('lost', { key: h.key, holder: h.holder });
    h.controller.abort(
      new SluiceError('LEASE_LOST', `A slot of limiter "${this.name}" expired before it was renewed`, {
        context: { limiter: this.name, key: h.key, holder: h.holder },
      }),
    );
    this.wake(h.key);
  }

  private release(h: Held): Promise<void> {
    if (h.phase !== 'held') return DONE;
    h.phase = 'releasing';
    if (h.timer !== undefined) this.clock.clearTimeout(h.timer);
    h.timer = undefined;
    const p = this.store
      .releaseSlot(this.name, h.key, h.holder)
      .then(
        () => undefined,
        (e: unknown) => {
          this.events.emit('error', e);
        },
      )
      .finally(() => {
        h.phase = 'released';
        this.held.delete(h);
        this.releases.delete(p);
        this.wake(h.key);
      });
    this.releases.add(p);
    return p;
  }

  private wake(key: string): void {
    const set = this.wakers.get(key);
    if (set === undefined) return;
    this.wakers.delete(key);
    for (const fn of set) fn();
  }

  /** Sleeps up to `ms`; with `wakeable`, a release of `key` in this process ends the wait early. */
  private waitFor(
    key: string,
    ms: number,
    signal: AbortSignal | undefined,
    wakeable: boolean,
  ): Promise<void> {
    this.waiting++;
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (error?: unknown) => {
        if (done) return;
        done = true;
        this.waiting--;
        this.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.wakers.get(key)?.delete(wake);
        if (error === undefined) resolve();
        else reject(error);
      };
      const wake = () => finish();
      const onAbort = () => finish(abortError(signal, 'concurrency limit acquire'));
      const timer = this.clock.setTimeout(wake, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (wakeable) {
        let set = this.wakers.get(key);
        if (set === undefined) this.wakers.set(key, (set = new Set()));
        set.add(wake);
      }
    });
  }
}
