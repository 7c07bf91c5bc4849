// Prometheus metrics of pipeline runs: item counters, in-flight and watermark gauges, duration histograms.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { z } from 'zod';
import { validate } from '../core/validate.ts';
import type { PipelineRun } from '../pipeline/PipelineRun.ts';
import { isResult } from '../pipeline/result.ts';
import type { ProcessContext, ProcessFn } from '../pipeline/types.ts';
import { metricOnce } from './registryMetrics.ts';

/** What {@link instrumentPipeline} reads from a run: the public surface of a `PipelineRun`. */
export type InstrumentablePipeline = Pick<
  PipelineRun<unknown, unknown>,
  'on' | 'report' | 'inFlight' | 'lowWatermark'
>;

/** Options of {@link pipelineMetrics} and {@link instrumentPipeline}. */
export interface PipelineMetricsOptions {
  /** The registry to register on (use a dedicated `new Registry()`, not the global one). */
  registry: Registry;
  /** The pipeline's name, the value of the `pipeline` label. */
  name: string;
  /** Histogram buckets of item durations, in seconds. */
  buckets?: number[];
}

const optionsSchema = z.object({
  registry: z.custom<Registry>(
    (v) => typeof v === 'object' && v !== null && typeof (v as Registry).metrics === 'function',
    'a prom-client Registry',
  ),
  name: z.string({ error: 'a non-empty string' }).min(1, 'a non-empty string'),
  buckets: z.array(z.number().positive('a positive number'), { error: 'an array of seconds' }).optional(),
});

const DEFAULT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Tracked {
  readonly run: InstrumentablePipeline;
  last: { ok: number; failed: number; retries: number; restarts: number };
}

interface PipelineMetricSet {
  readonly processed: Counter<'pipeline'>;
  readonly failed: Counter<'pipeline'>;
  readonly retried: Counter<'pipeline'>;
  readonly restarts: Counter<'pipeline'>;
  readonly inFlight: Gauge<'pipeline'>;
  readonly watermark: Gauge<'pipeline'>;
  readonly duration: Histogram<'pipeline' | 'outcome'>;
  readonly latency: Histogram<'pipeline' | 'outcome'>;
  readonly runs: Map<string, Tracked>;
}

const sets = new WeakMap<Registry, PipelineMetricSet>();

/** Brings the counters of every tracked run up to date with its report. */
function refresh(set: PipelineMetricSet): void {
  for (const [name, t] of set.runs) {
    const r = t.run.report();
    const labels = { pipeline: name };
    if (r.ok > t.last.ok) set.processed.inc(labels, r.ok - t.last.ok);
    if (r.failed > t.last.failed) set.failed.inc(labels, r.failed - t.last.failed);
    if (r.retries > t.last.retries) set.retried.inc(labels, r.retries - t.last.retries);
    if (r.restarts > t.last.restarts) set.restarts.inc(labels, r.restarts - t.last.restarts);
    t.last = { ok: r.ok, failed: r.failed, retries: r.retries, restarts: r.restarts };
  }
}

function metricSet(registry: Registry, buckets: number[]): PipelineMetricSet {
  const found = sets.get(registry);
  if (found) return found;
  const runs = new Map<string, Tracked>();
  const registers = [registry];
  let set: PipelineMetricSet | undefined;
  const counter = (name: string, help: string) =>
    metricOnce(
      registry,
      name,
      () =>
        new Counter({
          name,
          help,
          labelNames: ['pipeline'],
          registers,
          collect() {
            if (set) refresh(set);
          },
        }),
    );
  set = {
    processed: counter('sluice_pipeline_items_processed_total', 'Items (deliveries) processed successfully.'),
    failed: counter('sluice_pipeline_items_failed_total', 'Items that failed after their last attempt.'),
    retried: counter('sluice_pipeline_items_retried_total', 'Retries made (attempts beyond the first).'),
    restarts: counter('sluice_pipeline_worker_restarts_total', 'Crashed workers restarted by supervision.'),
    inFlight: metricOnce(
      registry,
      'sluice_pipeline_in_flight',
      () =>
        new Gauge({
          name: 'sluice_pipeline_in_flight',
          help: 'Items taken from the source and not finished yet.',
          labelNames: ['pipeline'],
          registers,
          collect() {
            for (const [name, t] of runs) this.set({ pipeline: name }, t.run.inFlight);
          },
        }),
    ),
    watermark: metricOnce(
      registry,
      'sluice_pipeline_low_watermark',
      () =>
        new Gauge({
          name: 'sluice_pipeline_low_watermark',
          help: 'Every item with a sequence number below this has finished.',
          labelNames: ['pipeline'],
          registers,
          collect() {
            for (const [name, t] of runs) this.set({ pipeline: name }, t.run.lowWatermark);
          },
        }),
    ),
    duration: metricOnce(
      registry,
      'sluice_pipeline_item_duration_seconds',
      () =>
        new Histogram({
          name: 'sluice_pipeline_item_duration_seconds',
          help: 'Duration of one processing attempt, by outcome.',
          labelNames: ['pipeline', 'outcome'],
          buckets,
          registers,
        }),
    ),
    latency: metricOnce(
      registry,
      'sluice_pipeline_item_latency_seconds',
      () =>
        new Histogram({
          name: 'sluice_pipeline_item_latency_seconds',
          help: 'Time from the first attempt of an item to its final outcome (retries included), by outcome.',
          labelNames: ['pipeline', 'outcome'],
          buckets,
          registers,
        }),
    ),
    runs,
  };
  sets.set(registry, set);
  return set;
}

/** Pipeline metrics bound to one pipeline name; see {@link pipelineMetrics}. */
export interface PipelineMetrics {
  /** The `pipeline` label value. */
  readonly name: string;
  /**
   * Wraps a process function so each attempt's duration goes to
   * `sluice_pipeline_item_duration_seconds{outcome="ok"|"error"}` (an `Err` result counts as error).
   */
  timed<T, R, S>(fn: ProcessFn<T, R, S>): ProcessFn<T, R, S>;
  /** Records one attempt's duration by hand (seconds). */
  observe(seconds: number, outcome: 'ok' | 'error'): void;
  /** Starts exporting a run's counters and gauges under this name (replacing a previous run of the same name). Returns `this`. */
  instrument(run: InstrumentablePipeline): PipelineMetrics;
  /** Stops following the run (a last update of the counters is made); the series stay in the registry. */
  close(): void;
}

/**
 * Creates the Prometheus metrics of a pipeline on a registry:
 * `sluice_pipeline_items_processed_total`, `..._items_failed_total`, `..._items_retried_total`,
 * `..._worker_restarts_total` (counters), `sluice_pipeline_in_flight`, `sluice_pipeline_low_watermark`
 * (gauges), `sluice_pipeline_item_latency_seconds` (histogram of first attempt to final outcome,
 * filled from the run's `item_done` events) and `sluice_pipeline_item_duration_seconds`
 * (histogram of single attempts, filled by {@link PipelineMetrics.timed}), all labelled `pipeline`.
 * Counters and gauges are read from the run at scrape time.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * const m = pipelineMetrics({ registry, name: 'orders' });
 * const run = stream(orders).partitionBy((o) => o.customerId).concurrent({ maxWorkers: 8 })
 *   .process(m.timed(handle)).start();
 * m.instrument(run);
 * ```
 */
export function pipelineMetrics(options: PipelineMetricsOptions): PipelineMetrics {
  const o = validate(optionsSchema, options, 'metrics');
  const set = metricSet(o.registry, o.buckets ?? DEFAULT_BUCKETS);
  const name = o.name;
  let current: Tracked | undefined;
  let unsubscribe: (() => void) | undefined;
  const observe = (seconds: number, outcome: 'ok' | 'error') =>
    set.duration.observe({ pipeline: name, outcome }, seconds);
  const metrics: PipelineMetrics = {
    name,
    observe,
    timed<T, R, S>(fn: ProcessFn<T, R, S>): ProcessFn<T, R, S> {
      return async (item: T, ctx: ProcessContext<S>) => {
        const started = performance.now();
        try {
          const out = await fn(item, ctx);
          const failed = isResult(out) && !out.ok;
          observe((performance.now() - started) / 1000, failed ? 'error' : 'ok');
          return out;
        } catch (e) {
          observe((performance.now() - started) / 1000, 'error');
          throw e;
        }
      };
    },
    instrument(run) {
      if (current) refresh(set);
      current = { run, last: { ok: 0, failed: 0, retries: 0, restarts: 0 } };
      unsubscribe?.();
      unsubscribe = run.on('item_done', ({ durationMs, outcome }) =>
        set.latency.observe(
          { pipeline: name, outcome: outcome === 'ok' ? 'ok' : 'error' },
          durationMs / 1000,
        ),
      );
      // Counters appear at 0 from the first scrape on.
      for (const c of [set.processed, set.failed, set.retried, set.restarts]) c.inc({ pipeline: name }, 0);
      set.runs.set(name, current);
      return metrics;
    },
    close() {
      unsubscribe?.();
      unsubscribe = undefined;
      if (!current || set.runs.get(name) !== current) return;
      refresh(set);
      set.runs.delete(name);
      current = undefined;
    },
  };
  return metrics;
}

/**
 * Exports a running pipeline's counters and gauges (see {@link pipelineMetrics}) on `registry`
 * under the label `pipeline=name`. Use {@link pipelineMetrics} when you also want item durations.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * const run = stream(events).concurrent({ maxWorkers: 4 }).process(handle).start();
 * instrumentPipeline(run, { registry, name: 'events' });
 * http.createServer(metricsHandler(registry)).listen(9464);
 * ```
 */
export function instrumentPipeline(
  run: InstrumentablePipeline,
  options: PipelineMetricsOptions,
): PipelineMetrics {
  return pipelineMetrics(options).instrument(run);
}
