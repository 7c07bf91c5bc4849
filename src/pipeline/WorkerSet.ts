// The engine's workers and their lifecycle: boot (`setup`), pause, crash, revive, teardown.
import type { TypedEmitter } from '../core/events.ts';
import type { EngineConfig, PipelineEvents } from './engineTypes.ts';
import type { KeyQueue, LaneRules } from './Lane.ts';
import { Worker } from './Worker.ts';

/** What the workers need from the engine. @internal */
export interface WorkerSetHost<S> {
  readonly cfg: Pick<EngineConfig<unknown, unknown, S>, 'setup' | 'teardown' | 'perWorker'>;
  readonly events: TypedEmitter<PipelineEvents>;
  readonly runSignal: AbortSignal;
  /** The run is finished or failed: workers start nothing. */
  isOver(): boolean;
  /** Runs the head of a ready key on a worker. */
  runHead(w: Worker<S>, q: KeyQueue<unknown>): void;
  /** A worker crashed: hand it to its supervisor. */
  workerCrashed(workerId: number, error: Error): void;
}

/** The fixed set of workers of one run. Used by supervision to start and restart workers. */
export class WorkerSet<S> {
  readonly list: Worker<S>[] = [];
  /** Held (> 0) while the stage waits for a stage-wide permit or is paused: no worker starts an item. */
  readonly stage = { holds: 0 };
  /** The worker that fills first when the stage is let go. */
  private nextFirst = 0;
  private readonly runHead: (w: Worker<S>, q: KeyQueue<unknown>) => void;

  constructor(
    count: number,
    private readonly host: WorkerSetHost<S>,
    rules: LaneRules<unknown>,
  ) {
    for (let i = 0; i < count; i++) this.list.push(new Worker<S>(i, rules));
    this.runHead = (w, q) => host.runHead(w, q);
  }

  /** Number of workers. */
  get count(): number {
    return this.list.length;
  }

  /** Starts ready items on `w` up to its concurrency. */
  fill(w: Worker<S>): void {
    w.fill(this.host.cfg.perWorker, this.runHead, this.stage);
  }

  /**
   * Holds (+1) or lets go (−1) of the stage; when the last hold goes, every worker fills, each
   * time starting one worker further, so that the worker whose item waits for the next stage
   * permit rotates (workers take a stage limit in turns).
   */
  holdStage(delta: 1 | -1): void {
    this.stage.holds += delta;
    if (this.stage.holds !== 0) return;
    const n = this.list.length;
    const from = this.nextFirst;
    this.nextFirst = from + 1 === n ? 0 : from + 1;
    for (let i = 0; i < n; i++) this.fill(this.list[(from + i) % n]!);
  }

  /** Runs `setup` for `w` and marks it up. */
  async boot(w: Worker<S>): Promise<void> {
    const { setup } = this.host.cfg;
    if (setup) w.state = await setup({ workerId: w.id, signal: this.host.runSignal });
    w.status = 'up';
  }

  /** Starts worker `workerId` for the first time (runs `setup`). */
  async start(workerId: number): Promise<void> {
    const w = this.list[workerId];
    if (!w || w.status === 'up' || this.host.isOver()) return;
    await this.boot(w);
    this.fill(w);
  }

  /** Pauses a worker (no new items start on it) without counting a crash. */
  pause(workerId: number): void {
    const w = this.list[workerId];
    if (w) w.status = 'down';
  }

  /**
   * Marks a worker crashed: it takes no items until {@link revive}; its queued items (and the
   * one it crashed with, first) wait for it. Its `teardown` runs; its supervisor is told.
   */
  crash(workerId: number, error: Error): void {
    const w = this.list[workerId];
    if (w?.status !== 'up') return;
    w.status = 'crashed';
    w.generation++;
    this.host.events.emit('worker_crashed', { workerId, error });
    const { teardown } = this.host.cfg;
    if (teardown) Promise.resolve(teardown(w.state, { workerId })).catch(() => {});
    this.host.workerCrashed(workerId, error);
  }

  /** Restarts a crashed worker (runs `setup` again); it resumes its queued items in order. */
  async revive(workerId: number): Promise<void> {
    const w = this.list[workerId];
    if (!w || w.status === 'up' || this.host.isOver()) return;
    await this.boot(w);
    w.restarts++;
    this.host.events.emit('worker_restarted', { workerId, restarts: w.restarts });
    this.fill(w);
  }

  /** Marks every worker down and runs `teardown` of those that were up. */
  teardownAll(): Promise<unknown> {
    const { teardown } = this.host.cfg;
    const up = this.list.filter((w) => w.status === 'up');
    for (const w of this.list) w.status = 'down';
    if (!teardown) return Promise.resolve();
    return Promise.allSettled(up.map((w) => Promise.resolve(teardown(w.state, { workerId: w.id }))));
  }
}
