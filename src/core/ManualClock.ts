// ManualClock, the test Clock whose time moves only when told (advance, runAll, runUntil); flushMicrotasks.
import { type Clock, sleepWith, type Timer } from './Clock.ts';

interface Scheduled {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A {@link Clock} whose time moves only when the test says so. Timers fire in time order
 * (ties in scheduling order) during {@link ManualClock.advance}.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const p = clock.sleep(1000);
 * await clock.advance(1000); // p resolves
 * ```
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, Scheduled>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const id = ++this.seq;
    this.timers.set(id, { id, at: this.time + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(t: Timer): void {
    const id = (t as { id?: number }).id;
    if (id !== undefined) this.timers.delete(id);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }

  /** Number of timers waiting to fire. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Time of the next timer, or `undefined` when none is pending. */
  nextTimerAt(): number | undefined {
    let min: number | undefined;
    for (const t of this.timers.values()) if (min === undefined || t.at < min) min = t.at;
    return min;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order. Between timers, pending promise
   * callbacks are flushed so that code awaiting a timer can schedule the next one.
   */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.timers.delete(next.id);
      this.time = next.at;
      next.fn();
      await flushMicrotasks();
    }
    this.time = target;
    await flushMicrotasks();
  }

  /** Synchronous variant of {@link advance}: fires due timers without flushing promises. */
  advanceSync(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.timers.delete(next.id);
      this.time = next.at;
      next.fn();
    }
    this.time = target;
  }

  /** Fires every pending timer (including ones scheduled meanwhile) up to `limit` timers. */
  async runAll(limit = 10_000): Promise<void> {
    for (let i = 0; i < limit; i++) {
      const at = this.nextTimerAt();
      if (at === undefined) return;
      await this.advance(at - this.time);
    }
    throw new Error(`ManualClock.runAll: more than ${limit} timers fired`);
  }

  /**
   * Keeps firing timers (jumping to each next one) until `promise` settles, then returns its
   * outcome. Throws when no timer is left and the promise is still pending after flushing.
   */
  async runUntil<T>(promise: Promise<T>, limit = 100_000): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    watched.catch(() => {});
    for (let i = 0; i < limit; i++) {
      await flushMicrotasks();
      if (settled) return watched;
      const at = this.nextTimerAt();
      if (at === undefined) {
        await flushMicrotasks(20);
        if (settled) return watched;
        throw new Error('ManualClock.runUntil: the promise is pending and no timer is scheduled');
      }
      await this.advance(Math.max(0, at - this.time));
    }
    throw new Error(`ManualClock.runUntil: more than ${limit} timers fired`);
  }

  /** Sets the absolute time without firing timers (use with care). */
  set(time: number): void {
    this.time = time;
  }

  private nextDue(target: number): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const t of this.timers.values()) {
      if (t.at <= target && (best === undefined || t.at < best.at || (t.at === best.at && t.id < best.id)))
        best = t;
    }
    return best;
  }
}

/** Lets queued promise callbacks (and a few chained `await`s) run. Uses real `setImmediate`. */
export async function flushMicrotasks(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
