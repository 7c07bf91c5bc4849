// In-process semaphore per key: FIFO waiters, woken on release, parks honoured.
import type { Timer } from '../core/Clock.ts';
import { Deque } from '../core/Deque.ts';
import type { Duration } from '../core/duration.ts';
import { abortError, throwIfAborted } from '../core/errors.ts';
import type { Limiter, LimiterAcquireOptions, Permit } from './Limiter.ts';
import { closedLimiter, DONE, LimiterBase } from './LimiterBase.ts';
import { type ConcurrencySettings, checkWeight } from './options.ts';

/** A queued acquire. */
interface Waiter {
  readonly weight: number;
  readonly started: number;
  readonly resolve: (p: Permit) => void;
  readonly reject: (e: unknown) => void;
  /** Set once granted, rejected or aborted; a settled waiter left in the queue is skipped. */
  settled: boolean;
  cleanup?: () => void;
}

/** The semaphore of one key. */
interface Semaphore {
  held: number;
  readonly queue: Deque<Waiter>;
}

/**
 * The local `concurrencyLimit`. Waiters are served in arrival order per key (the head waits
 * until its weight fits, so a heavy waiter is not starved by light ones). No leases: a permit
 * lives until released (there is no other process to crash).
 */
export class LocalConcurrencyLimiter<T> extends LimiterBase<T> implements Limiter<T> {
  readonly kind = 'concurrency';
  readonly scope = 'local';
  private readonly max: number;
  private readonly sems = new Map<string, Semaphore>();
  private readonly parkTimers = new Set<Timer>();
  private heldTotal = 0;

  constructor(s: ConcurrencySettings) {
    super(s.name, s.clock, s.keyOf);
    this.max = s.max;
  }

  tryAcquire(key = '', weight = 1): Permit | undefined {
    if (weight !== 1) checkWeight(weight, this.max, 'max');
    this.ensureOpen();
    const sem = this.sems.get(key);
    if (this.parks.any && this.parks.until(key, this.clock.now()) > 0) {
      this.denied++;
      return undefined;
    }
    if (sem !== undefined && (sem.queue.length > 0 || sem.held + weight > this.max)) {
      this.denied++;
      return undefined;
    }
    return this.grant(key, sem ?? this.semaphore(key), weight);
  }

  acquire(key = '', options: LimiterAcquireOptions = {}): Promise<Permit> {
    try {
      const weight = options.weight === undefined ? 1 : checkWeight(options.weight, this.max, 'max');
      throwIfAborted(options.signal, 'concurrency limit acquire');
      const now = this.clock.now();
      const p = this.tryAcquire(key, weight);
      if (p !== undefined) {
        this.events.emit('granted', { key, weight, waitedMs: 0 });
        return Promise.resolve(p);
      }
      return this.enqueue(key, weight, now, options.signal);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async pause(ms: Duration, key = ''): Promise<number> {
    const { now, until } = this.localPark(ms, key);
    const timer = this.clock.setTimeout(() => {
      this.parkTimers.delete(timer);
      if (key === '') for (const [k, s] of this.sems) this.drain(k, s);
      else {
        const s = this.sems.get(key);
        if (s !== undefined) this.drain(key, s);
      }
    }, until - now);
    this.parkTimers.add(timer);
    this.events.emit('parked', { key, until });
    return until;
  }

  async close(): Promise<void> {
    if (this.lifecycle === 'closed') return;
    this.lifecycle = 'closed';
    for (const t of this.parkTimers) this.clock.clearTimeout(t);
    this.parkTimers.clear();
    for (const sem of this.sems.values()) {
      for (let w = sem.queue.shift(); w !== undefined; w = sem.queue.shift()) {
        if (w.settled) continue;
        w.settled = true;
        w.cleanup?.();
        w.reject(closedLimiter(this.name));
      }
    }
  }

  protected override heldNow(): number {
    return this.heldTotal;
  }

  private enqueue(
    key: string,
    weight: number,
    started: number,
    signal: AbortSignal | undefined,
  ): Promise<Permit> {
    const sem = this.semaphore(key);
    return new Promise<Permit>((resolve, reject) => {
      const waiter: Waiter = { weight, started, resolve, reject, settled: false };
      if (signal !== undefined) {
        const onAbort = () => {
          if (waiter.settled) return;
          waiter.settled = true;
          this.waiting--;
          reject(abortError(signal, 'concurrency limit acquire'));
          this.drain(key, sem);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.waiting++;
      sem.queue.push(waiter);
      this.events.emit('denied', { key, weight, retryAfterMs: 0, parked: this.parkedUntil(key) > 0 });
    });
  }

  private semaphore(key: string): Semaphore {
    let sem = this.sems.get(key);
    if (sem === undefined) this.sems.set(key, (sem = { held: 0, queue: new Deque() }));
    return sem;
  }

  private grant(key: string, sem: Semaphore, weight: number): Permit {
    sem.held += weight;
    this.heldTotal += weight;
    this.granted += weight;
    let released = false;
    return {
      release: () => {
        if (released) return DONE;
        released = true;
        sem.held -= weight;
        this.heldTotal -= weight;
        this.drain(key, sem);
        return DONE;
      },
    };
  }

  /** Grants queued waiters that fit, in order; forgets an idle semaphore. */
  private drain(key: string, sem: Semaphore): void {
    if (this.lifecycle === 'closed') return;
    if (this.parks.any && this.parks.until(key, this.clock.now()) > 0) return;
    for (let head = sem.queue.peek(); head !== undefined; head = sem.queue.peek()) {
      if (head.settled) {
        sem.queue.shift();
        continue;
      }
      if (sem.held + head.weight > this.max) break;
      sem.queue.shift();
      head.settled = true;
      head.cleanup?.();
      this.waiting--;
      const permit = this.grant(key, sem, head.weight);
      this.events.emit('granted', { key, weight: head.weight, waitedMs: this.clock.now() - head.started });
      head.resolve(permit);
    }
    if (sem.held === 0 && sem.queue.length === 0 && this.sems.get(key) === sem) this.sems.delete(key);
  }
}
