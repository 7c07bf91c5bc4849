// The handle of a running pipeline: wires engine, supervision, topic source and checkpoints.
import type { LogEvent } from '../backend/Backend.ts';
import type { Listener } from '../core/events.ts';
import type { CircuitBreaker } from '../resilience/CircuitBreaker.ts';
import { Engine, type EngineConfig, type EngineHooks, type PipelineEvents } from './Engine.ts';
import type { KeyView } from './keyView.ts';
import type { AckSource } from './source.ts';
import { parseSupervision, superviseEngine } from './supervise.ts';
import { TopicSource, type TopicSourceOptions } from './TopicSource.ts';
import type { ItemFailure, PipelineReport } from './types.ts';

/** What a launch needs beyond the engine configuration. @internal */
export interface LaunchExtras {
  readonly supervision?: Record<string, unknown> | undefined;
  readonly topic?: { options: TopicSourceOptions; checkpointEveryMs: number | undefined } | undefined;
  /** A source told of each finished item (broker connectors). */
  readonly ack?: AckSource<unknown> | undefined;
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
    closeAckSource?: () => Promise<void>,
  ) {
    // After the engine settles: stop the workers' supervisor, then (topic sources) commit
    // whatever finished, whether the run ended well or not.
    const wrapUp = async () => {
      await stopSupervisor?.().catch(() => {});
      await closeAckSource?.();
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
    const ack = extras.ack as AckSource<T> | undefined;
    if (ack) engineCfg = ackSourceConfig(engineCfg, ack, signal);
    const engine = new Engine(engineCfg);
    const hooks: EngineHooks<T> = {};
    const closeAckSource = ack ? settleThroughHooks(engine.events, hooks, ack) : undefined;
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
      closeAckSource,
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

  /**
   * What the run's keys are doing now: keys waiting to run again (`retrying` after a failed
   * attempt, `parked` by a rate limit or an open breaker) with why, since and until when, and the
   * keys holding the most items. Computed on call, O(items in flight).
   */
  keyView(): KeyView {
    return this.engine.keyView();
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

/** Engine configuration reading an {@link AckSource}, with its idempotency keys in `ctx`. */
function ackSourceConfig<T, R, S>(
  cfg: EngineConfig<T, R, S>,
  ack: AckSource<T>,
  signal: AbortSignal | undefined,
): EngineConfig<T, R, S> {
  const fn = cfg.fn;
  return {
    ...cfg,
    source: ack.items(signal),
    fn: (item, ctx) =>
      fn(
        item,
        Object.create(ctx, { idempotencyKey: { value: ack.idempotencyKeyOf(item), enumerable: true } }),
      ),
  };
}

/**
 * Reports every finished item to `ack` (failed ones with their error, taken from `item_failed`,
 * which the engine emits before the item is done). Returns the closer run after the engine
 * settled: it waits for pending settlements, then closes the source.
 */
function settleThroughHooks<T>(
  events: Engine<T, unknown, unknown>['events'],
  hooks: EngineHooks<T>,
  ack: AckSource<T>,
): () => Promise<void> {
  const failedSeqs = new Map<number, Error>();
  const pending = new Set<Promise<void>>();
  events.on('item_failed', (f) => failedSeqs.set(f.seq, f.error));
  hooks.onItemDone = (e) => {
    const error = failedSeqs.get(e.seq);
    if (error !== undefined) failedSeqs.delete(e.seq);
    const r = ack.settle(e.item, error === undefined ? { status: 'ok' } : { status: 'failed', error });
    if (r !== undefined) {
      const p = Promise.resolve(r)
        .catch(() => {})
        .finally(() => pending.delete(p));
      pending.add(p);
    }
  };
  return async () => {
    await Promise.allSettled([...pending]);
    await ack.close().catch(() => {});
  };
}
