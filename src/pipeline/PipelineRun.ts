import type { Listener } from '../core/events.ts';
import { Engine, type EngineConfig, type PipelineEvents } from './Engine.ts';
import type { ItemFailure, PipelineReport } from './types.ts';

/**
 * A running pipeline: await {@link PipelineRun.done}, watch events and progress, or stop it
 * gracefully (started items finish, queued items are cancelled).
 */
export class PipelineRun<T, R> {
  /** Resolves with the report when the source is exhausted or the run is stopped; rejects when the run fails (e.g. `MAX_RESTARTS_EXCEEDED`). */
  readonly done: Promise<PipelineReport>;

  private constructor(private readonly engine: Engine<T, R, unknown>) {
    this.done = engine.done;
  }

  /** @internal */
  static launch<T, R, S>(
    cfg: EngineConfig<T, R, S>,
    _supervision: Record<string, unknown> | undefined,
    signal: AbortSignal | undefined,
    drainTimeoutMs: number,
  ): PipelineRun<T, R> {
    const engine = new Engine(cfg);
    const run = new PipelineRun<T, R>(engine as Engine<T, R, unknown>);
    void engine.start(signal, drainTimeoutMs);
    return run;
  }

  /** Every item with a sequence number below this has finished: an approximation of global order across partitions. */
  get lowWatermark(): number {
    return this.engine.lowWatermark;
  }

  /** Items taken from the source and not finished yet (bounded by `maxInFlight`). */
  get inFlight(): number {
    return this.engine.inFlightCount;
  }

  /** The report so far. */
  report(): PipelineReport {
    return this.engine.report();
  }

  /** Subscribes to run events; returns an unsubscribe function. */
  on<E extends keyof PipelineEvents>(event: E, fn: Listener<PipelineEvents, E>): () => void {
    return this.engine.events.on(event, fn);
  }

  /** Stops taking items and resolves when started items finished. */
  stop(reason = 'stopped'): Promise<PipelineReport> {
    this.engine.stop(reason);
    return this.done;
  }

  /** Alias of {@link stop}. */
  close(): Promise<PipelineReport> {
    return this.stop('closed');
  }

  /** @internal Results collected by `collect()`. */
  collected(): { results: R[]; errors: ItemFailure<T>[] } {
    return this.engine.collected();
  }
}
