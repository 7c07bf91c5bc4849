// What every limiter shares: name, lifecycle, counters, known parks and typed events.
import type { Clock } from '../core/Clock.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import { SluiceError } from '../core/errors.ts';
import { TypedEmitter } from '../core/events.ts';
import type {
  LimiterEvents,
  LimiterKind,
  LimiterScope,
  LimiterState,
  LimiterStats,
  Permit,
} from './Limiter.ts';
import { ParkTable } from './ParkTable.ts';

/** The permit of rate limiters: nothing to give back. */
export const RATE_PERMIT: Permit = Object.freeze({ release: () => DONE });
/** A settled promise reused by releases that finish synchronously. */
export const DONE: Promise<void> = Promise.resolve();

/** Base of the four limiter classes (not exported from the package). */
export abstract class LimiterBase<T> {
  abstract readonly kind: LimiterKind;
  abstract readonly scope: LimiterScope;
  protected lifecycle: LimiterState = 'open';
  protected granted = 0;
  protected denied = 0;
  protected waiting = 0;
  protected readonly parks = new ParkTable();
  protected readonly events = new TypedEmitter<LimiterEvents>();

  constructor(
    readonly name: string,
    protected readonly clock: Clock,
    private readonly keyFn: (item: unknown) => string,
  ) {}

  get state(): LimiterState {
    return this.lifecycle;
  }

  keyOf(item: T): string {
    return this.keyFn(item);
  }

  parkedUntil(key = ''): number {
    return this.parks.any ? this.parks.until(key, this.clock.now()) : 0;
  }

  stats(): LimiterStats {
    return {
      granted: this.granted,
      denied: this.denied,
      waiting: this.waiting,
      held: this.heldNow(),
      parked: this.parks.count(this.clock.now()),
    };
  }

  on<E extends keyof LimiterEvents>(event: E, fn: (...args: LimiterEvents[E]) => void): () => void {
    return this.events.on(event, fn);
  }

  /** Slot weight held through this process (0 for rate limiters). */
  protected heldNow(): number {
    return 0;
  }

  /** Parses a pause and records it locally; returns `[from, until]`. */
  protected localPark(ms: Duration, key: string): { now: number; until: number } {
    this.ensureOpen();
    const d = parseDuration(ms, 'pause.ms');
    if (typeof key !== 'string')
      throw new SluiceError('CONFIG_INVALID', 'Expected `pause.key` to be a string');
    const now = this.clock.now();
    const until = this.parks.set(key, now + d);
    return { now, until };
  }

  protected ensureOpen(): void {
    if (this.lifecycle === 'closed') throw closedLimiter(this.name);
  }
}

/** The error of any call on a closed limiter. */
export function closedLimiter(name: string): SluiceError {
  return new SluiceError('CLOSED', `The limiter "${name}" is closed`, { context: { limiter: name } });
}
