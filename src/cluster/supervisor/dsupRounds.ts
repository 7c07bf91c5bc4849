// The round loop of a DistributedSupervisor: one round at a time, requests during a round coalesced, the next one on a timer.
import type { Clock, Timer } from '../../core/Clock.ts';

/** Runs `round` now or on its timer; one at a time. @internal */
export class Rounds {
  private timer: Timer | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly clock: Clock,
    private readonly heartbeatMs: number,
    /** One round; returns when the next should run at the latest. */
    private readonly round: () => Promise<number>,
    private readonly running: () => boolean,
    private readonly onError: (error: unknown) => void,
    /** After every burst of rounds. */
    private readonly after: () => void,
  ) {}

  /** Runs a round now; during one, asks for another right after and returns the current one. */
  run(): Promise<void> {
    if (this.ticking !== undefined) {
      this.again = true;
      return this.ticking;
    }
    this.cancel();
    this.ticking = this.burst();
    return this.ticking;
  }

  /** Cancels the timer and waits for the round in progress. */
  async stop(): Promise<void> {
    this.cancel();
    await this.ticking;
  }

  private cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async burst(): Promise<void> {
    const { clock, heartbeatMs } = this;
    let nextAt = clock.now() + heartbeatMs;
    do {
      this.again = false;
      try {
        nextAt = Math.min(clock.now() + heartbeatMs, await this.round());
      } catch (error) {
        this.onError(error);
      }
    } while (this.again && this.running());
    this.ticking = undefined;
    this.after();
    if (!this.running()) return;
    const delay = Math.max(Math.min(50, heartbeatMs / 4), nextAt - clock.now());
    this.timer = clock.setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, delay);
  }
}
