// Timers of items waiting for a retry (or for a guard to let them through), cancellable together.
import type { Clock, Timer } from '../core/Clock.ts';

/** Why an item waits: its backoff before a retry, a rate limit, or an open circuit breaker. */
export type WaitReason = 'backoff' | 'limiter' | 'breaker';

/** What a waiting item is waiting for, kept for status views. @internal */
export interface WaitInfo {
  readonly reason: WaitReason;
  /** Clock time the wait started. */
  readonly since: number;
  /** Clock time the item runs again. */
  readonly until: number;
  /** Message of the error that caused the wait. */
  readonly error: string;
}

/** Pending retry timers, each with the payload it fires with. @internal */
export class RetryTimers<P> {
  private readonly timers = new Map<Timer, { payload: P; info: WaitInfo | undefined }>();

  constructor(private readonly clock: Clock) {}

  /** Calls `fire(payload)` after `delayMs` on the clock; `why` says why, for {@link waiting}. */
  after(
    delayMs: number,
    payload: P,
    fire: (payload: P) => void,
    why?: { reason: WaitReason; error: string },
  ): void {
    const since = why === undefined ? 0 : this.clock.now();
    const info = why === undefined ? undefined : { ...why, since, until: since + delayMs };
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(timer);
      fire(payload);
    }, delayMs);
    this.timers.set(timer, { payload, info });
  }

  /** The pending payloads with why they wait (a snapshot; O(waiting items)). */
  waiting(): { payload: P; info: WaitInfo | undefined }[] {
    return [...this.timers.values()];
  }

  /** Cancels every pending timer and returns their payloads. */
  cancelAll(): P[] {
    const out = [...this.timers.values()].map((t) => t.payload);
    for (const timer of this.timers.keys()) this.clock.clearTimeout(timer);
    this.timers.clear();
    return out;
  }
}
