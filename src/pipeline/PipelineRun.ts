import type { LogEvent } from '../backend/Backend.ts';
import type { Listener } from '../core/events.ts';
import type { CircuitBreaker } from '../resilience/CircuitBreaker.ts';
import { Engine, type EngineConfig, type EngineHooks, type PipelineEvents } from './Engine.ts';
import { parseSupervision, superviseEngine } from './supervise.ts';
import { TopicSource, type TopicSourceOptions } from './TopicSource.ts';
import type { ItemFailure, PipelineReport } from './types.ts';

/** What a launch needs beyond the engine configuration. @internal */
export interface LaunchExtras {
  readonly supervision?: Record<string, unknown> | undefined;
  readonly topic?: { options: TopicSourceOptions; checkpointEveryMs: number | undefined } | undefined;
}

/**
 * A running pipeline: await {@link PipelineRun.done}, watch events and progress, or stop it
 * gracefully (started items finish, queued items are cancelled).
 */
export class PipelineRun<T, R> {
  /** Resolves with the report when the source is exhausted or the run is stopped; rejects when the run fails (e.g. `MAX_RESTARTS_EXCEEDED`). */
  readonly done: Promise<PipelineReport>;

  private constructor(
    private readonly engine: Engine<T, R, unknown>,
    private readonly source: TopicSource | undefined,
    checkpoints: boolean,
    stopSupervisor: (() => Promise<void>) | undefined,
    /** The circuit breaker shared by the workers, when `supervision.circuitBreaker` is set. */
    readonly breaker: CircuitBreaker | undefined,
  ) {
    // After the engine settles: stop the workers' supervisor, then (topic sources) commit
    // whatever finished, whether the run ended well or not.
    const wrapUp = async () => {
      await stopSupervisor?.().catch(() => {});
      if (source) {
        source.close();
        if (checkpoints) await source.checkpoint();
      }
    };
    this.done = engine.done.then(
      async (r) => {
        await wrapUp();
        return r;
      },
      async (e) => {
        await wrapUp().catch(() => {});
        throw e;
      },
    );
    this.done.catch(() => {});
  }

  /** Committed offsets by partition (topic sources with `.checkpoint()`). */
  committedOffsets(): Map<number, number> {
    return this.source?.committedOffsets() ?? new Map();
  }

  /** Commits the current safe offsets now (topic sources). */
  async checkpoint(): Promise<void> {
    await this.source?.checkpoint();
  }

  /** @internal */
  static launch<T, R, S>(
    cfg: EngineConfig<T, R, S>,
    extras: LaunchExtras,
    signal: AbortSignal | undefined,
    drainTimeoutMs: number,
  ): PipelineRun<T, R> {
    const { topic } = extras;
    let engineCfg = cfg;
    let source: TopicSource | undefined;
    if (topic) {
      source = new TopicSource(topic.options, cfg.clock);
      const ts = source;
      engineCfg = {
        ...cfg,
        source: ts.events(signal) as unknown as EngineConfig<T, R, S>['source'],
        positionOf: (e) => ts.positionOf(e as LogEvent),
        idempotencyPrefix: `${topic.options.group}:${topic.options.topic}`,
      };
    }
    const engine = new Engine(engineCfg);
    const hooks: EngineHooks<T> = {};
    if (source) {
      const ts = source;
      hooks.onItemDone = (e) => {
        if (e.offset !== undefined) ts.complete(e.partition, e.offset);
      };
      if (topic?.checkpointEveryMs !== undefined) ts.startCheckpoints(topic.checkpointEveryMs);
    }
    let boot: (() => Promise<void>) | undefined;
    let stopSupervisor: (() => Promise<void>) | undefined;
    let breaker: CircuitBreaker | undefined;
    if (extras.supervision !== undefined) {
      const sup = parseSupervision(extras.supervision, cfg.clock);
      breaker = sup.breaker;
      if (breaker) {
        const b = breaker;
        hooks.guard = (attempt, sig) => b.execute(async () => attempt(), sig);
        // While the breaker is open, items wait for it instead of failing.
        hooks.guardRetryDelay = (e) => {
          const after = (e as { context?: { retryAfterMs?: unknown } }).context?.retryAfterMs;
          return typeof after === 'number' ? Math.max(1, after) : 50;
        };
      }
      const supervised = superviseEngine(engine, sup, cfg.clock, hooks);
      boot = supervised.boot;
      stopSupervisor = supervised.stop;
    }
    engine.setHooks(hooks);
    const run = new PipelineRun<T, R>(
      engine as Engine<T, R, unknown>,
      source,
      topic?.checkpointEveryMs !== undefined,
      stopSupervisor,
      breaker,
    );
    void engine.start(signal, drainTimeoutMs, boot);
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
