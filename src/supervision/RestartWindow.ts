// RestartWindow: the sliding window behind a restart intensity (OTP MaxR / MaxT), time passed in.
import { Deque } from '../core/Deque.ts';

/**
 * The sliding window behind a restart intensity (OTP `MaxR`/`MaxT`): a restart at time `t` is
 * counted while `now - t <= withinMs`; a new restart is allowed while the count, including it, is
 * at most `maxRestarts`. Pure: time is passed in.
 *
 * @example
 * ```ts
 * const w = new RestartWindow(2, 1000);
 * w.add(0); w.add(10); // true, true
 * w.add(20);           // false: a third restart within 1s
 * ```
 */
export class RestartWindow {
  private readonly times = new Deque<number>();

  constructor(
    /** Restarts allowed inside the window. */
    readonly maxRestarts: number,
    /** Window length in ms. */
    readonly withinMs: number,
  ) {}

  /** Records a restart at `now`; returns `false` when it exceeds the intensity. */
  add(now: number): boolean {
    this.times.push(now);
    this.prune(now);
    return this.times.length <= this.maxRestarts;
  }

  /** Restarts currently inside the window. */
  count(now: number): number {
    this.prune(now);
    return this.times.length;
  }

  private prune(now: number): void {
    const threshold = now - this.withinMs;
    for (let head = this.times.peek(); head !== undefined && head < threshold; head = this.times.peek()) {
      this.times.shift();
    }
  }
}
