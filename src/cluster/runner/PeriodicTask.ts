// A task run every `intervalMs` on its own clock timer, one run at a time (the runner's heartbeat).
import type { Clock, Timer } from '../../core/Clock.ts';

/** Phase of a {@link PeriodicTask}: `active` (runs and reschedules) or `stopped`. */
type PeriodicPhase = 'active' | 'stopped';

/**
 * Runs `task` now and then every `intervalMs` after each run began, never two runs at once. Its
 * timer is its own, so a slow caller elsewhere (an assignment pass acquiring many partitions)
 * never delays it. A failed run is reported to `onError` and the schedule goes on.
 * @internal Used by {@link PartitionedRunner}.
 */
export class PeriodicTask {
  private phase: PeriodicPhase = 'active';
  private timer: Timer | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly task: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Runs the task now (or joins the run in flight), then schedules the next run. */
  async run(): Promise<void> {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    const startedAt = this.clock.now();
    if (this.running === undefined) {
      this.running = this.task()
        .catch((e: unknown) => this.onError(e))
        .finally(() => {
          this.running = undefined;
        });
    }
    await this.running;
    if (this.phase === 'active' && this.timer === undefined) {
      const delay = Math.max(1, startedAt + this.intervalMs - this.clock.now());
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        void this.run();
      }, delay);
    }
  }

  /** No further runs; resolves when the run in flight (if any) is over. */
  async stop(): Promise<void> {
    this.phase = 'stopped';
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
