// A pipeline worker: its lane queue, lifecycle status, counters and re-entrancy-safe scheduling phase.
import { type KeyQueue, LaneQueue, type LaneRules } from './Lane.ts';

/**
 * Lifecycle of a worker: `down` before its first start and after the run (or while paused by
 * its supervisor), `up` while it takes items, `crashed` between a crash and its restart.
 */
export type WorkerStatus = 'down' | 'up' | 'crashed';

/**
 * Scheduling phase: `idle`, `filling` while the worker starts ready items, `refill` when an
 * item settled synchronously during that loop (so the loop runs once more instead of nesting).
 */
export type SchedulePhase = 'idle' | 'filling' | 'refill';

/** One worker (lane) of the engine. @internal */
export class Worker<S> {
  readonly queue: LaneQueue<unknown>;
  status: WorkerStatus = 'down';
  schedule: SchedulePhase = 'idle';
  /** Items running now. */
  active = 0;
  state: S = undefined as S;
  processed = 0;
  failed = 0;
  restarts = 0;
  /** Bumped on each crash; a settle from an older generation does not crash the worker again. */
  generation = 0;

  constructor(
    readonly id: number,
    rules: LaneRules<unknown>,
  ) {
    this.queue = new LaneQueue<unknown>(rules);
  }

  /**
   * Starts ready keys while the worker is up, below `perWorker` running items and the stage is
   * not held (`stage.holds > 0`: a stage limit is being waited for). Safe to call from inside
   * `run` (a synchronous settle): the outer loop runs again instead.
   */
  fill(
    perWorker: number,
    run: (w: Worker<S>, q: KeyQueue<unknown>) => void,
    stage: { readonly holds: number },
  ): void {
    if (this.schedule !== 'idle') {
      this.schedule = 'refill';
      return;
    }
    try {
      do {
        this.schedule = 'filling';
        while (this.status === 'up' && this.active < perWorker && stage.holds === 0) {
          const q = this.queue.take();
          if (q === undefined) break;
          run(this, q);
        }
      } while ((this.schedule as SchedulePhase) === 'refill');
    } finally {
      this.schedule = 'idle';
    }
  }
}
