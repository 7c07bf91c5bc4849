// StatusSource, the in-process view the dashboard shows, and its supervisor/breaker/pipeline/runner adapters.
import type { CircuitState } from '../resilience/CircuitBreaker.ts';

/** One node of a supervision tree as shown by `sluice dashboard`. */
export interface SupervisionNode {
  readonly id: string;
  /** `supervisor` for inner nodes; otherwise what the child is (`async`, `worker`, `process`, ...). */
  readonly kind: string;
  /** Lifecycle state (`running`, `restarting`, `stopped`, ...). */
  readonly status: string;
  readonly restarts: number;
  /** Restart strategy of a supervisor node. */
  readonly strategy?: string;
  /** Node that runs it (distributed supervisors). */
  readonly node?: string;
  readonly children?: readonly SupervisionNode[];
}

/** A circuit breaker's state as shown by the dashboard. */
export interface BreakerStatus {
  readonly name: string;
  readonly state: CircuitState;
  /** Consecutive failures counted while closed. */
  readonly failures?: number;
}

/** A pipeline's counters as shown by the dashboard (throughput is computed from `processed`). */
export interface PipelineStatus {
  readonly name: string;
  readonly processed: number;
  readonly failed: number;
  readonly retries: number;
  readonly inFlight: number;
  readonly lowWatermark: number;
  readonly restarts: number;
}

/** A key that waits to run again, as shown by the dashboard (from a pipeline's `keyView()`). */
export interface KeyStatus {
  /** The pipeline (or other engine) the key belongs to. */
  readonly pipeline: string;
  readonly key: string | number;
  readonly partition?: number;
  /** `retrying` (backoff after a failed attempt) or `parked` (rate limited, or the breaker is open). */
  readonly state: 'retrying' | 'parked';
  /** Why: `backoff`, `limiter` or `breaker`. */
  readonly reason: 'backoff' | 'limiter' | 'breaker';
  /** When the key's head item first started (ms since epoch on the source's clock). */
  readonly since: number;
  /** When it runs again. */
  readonly until: number;
  readonly attempts: number;
  /** Items of the key queued behind it. */
  readonly blocked: number;
  /** The error that caused the wait. */
  readonly error?: string;
}

/** A key holding many items of a pipeline at once. */
export interface HotKeyStatus {
  readonly pipeline: string;
  readonly key: string | number;
  /** Items of the key in the pipeline (running, waiting or queued). */
  readonly items: number;
}

/** Counts of work not yet due, shown when a source or the backend reports them. */
export interface ScheduledStatus {
  /** Events appended with `deliverAt`/`delay` and not yet due. */
  readonly delayed?: number;
  /** Schedules (cron or interval) registered. */
  readonly schedules?: number;
}

/**
 * A live, in-process view the dashboard and `status` can show next to what the backend stores:
 * supervision trees, circuit breakers and pipelines. Every method is optional; the dashboard
 * calls them on each refresh. Supervisors, distributed supervisors and cluster runners plug in
 * through small adapters such as {@link supervisorSource}, {@link breakerSource} and
 * {@link pipelineSource}, or by implementing this interface directly.
 */
export interface StatusSource {
  /** What the source is called on screen. */
  readonly name: string;
  /** The supervision tree rooted at this source. */
  supervision?(): SupervisionNode | Promise<SupervisionNode>;
  /** Circuit breakers known to this source. */
  breakers?(): readonly BreakerStatus[] | Promise<readonly BreakerStatus[]>;
  /** Pipelines known to this source. */
  pipelines?(): readonly PipelineStatus[] | Promise<readonly PipelineStatus[]>;
  /** Keys waiting to run again and hot keys. */
  keys?():
    | { waiting: readonly KeyStatus[]; hot: readonly HotKeyStatus[] }
    | Promise<{ waiting: readonly KeyStatus[]; hot: readonly HotKeyStatus[] }>;
  /** Delayed events and schedules, when this source knows them. */
  scheduled?(): ScheduledStatus | Promise<ScheduledStatus>;
}

/** The shape of a supervisor that {@link supervisorSource} reads (a `Supervisor` fits). */
export interface SupervisorLike {
  whichChildren(): ReadonlyArray<{
    id: string;
    status: string;
    restarts: number;
    kind?: string;
    pid?: number;
  }>;
  stats(): { strategy: string; state: string; totalRestarts: number };
}

/**
 * A {@link StatusSource} showing a supervisor's tree. Nested supervisors appear as subtrees
 * when passed in `nested` under their child id.
 *
 * @example
 * ```ts
 * const sup = await Supervisor.start({ strategy: 'one_for_one', children });
 * await startDashboard({ backend, sources: [supervisorSource('root', sup)] });
 * ```
 */
export function supervisorSource(
  name: string,
  supervisor: SupervisorLike,
  nested: Record<string, SupervisorLike> = {},
): StatusSource {
  const tree = (id: string, sup: SupervisorLike): SupervisionNode => {
    const stats = sup.stats();
    return {
      id,
      kind: 'supervisor',
      status: stats.state,
      restarts: stats.totalRestarts,
      strategy: stats.strategy,
      children: sup.whichChildren().map((c) => {
        const inner = nested[c.id];
        if (inner) return { ...tree(c.id, inner), status: c.status, restarts: c.restarts };
        return { id: c.id, kind: c.kind ?? 'worker', status: c.status, restarts: c.restarts };
      }),
    };
  };
  return { name, supervision: () => tree(name, supervisor) };
}

/** A {@link StatusSource} showing circuit breakers (anything with a `state`, such as `CircuitBreaker`). */
export function breakerSource(
  name: string,
  breakers: Record<string, { readonly state: CircuitState; readonly failures?: number }>,
): StatusSource {
  return {
    name,
    breakers: () =>
      Object.entries(breakers).map(([n, b]) => ({
        name: n,
        state: b.state,
        ...(b.failures === undefined ? {} : { failures: b.failures }),
      })),
  };
}

/** The shape of a pipeline run that {@link pipelineSource} reads (a `PipelineRun` fits). */
export interface PipelineLike {
  report(): { ok: number; failed: number; retries: number; restarts: number };
  readonly inFlight: number;
  readonly lowWatermark: number;
  /** Waiting and hot keys (a `PipelineRun` has it); without it the source shows no keys. */
  keyView?(): {
    waiting: readonly Omit<KeyStatus, 'pipeline'>[];
    hot: readonly { key: string | number; items: number }[];
  };
}

/**
 * A {@link StatusSource} showing pipeline runs' counters and their keys: keys parked by a rate
 * limit or an open breaker, keys retrying with backoff (how long, until when, why), hot keys.
 *
 * @example
 * ```ts
 * const run = stream(source).partitionBy((o) => o.tenant).process(handle).start();
 * await startDashboard({ backend, sources: [pipelineSource('billing', { orders: run })] });
 * ```
 */
export function pipelineSource(name: string, runs: Record<string, PipelineLike>): StatusSource {
  return {
    name,
    keys: () => {
      const waiting: KeyStatus[] = [];
      const hot: HotKeyStatus[] = [];
      for (const [pipeline, run] of Object.entries(runs)) {
        const view = run.keyView?.();
        if (view === undefined) continue;
        for (const k of view.waiting) waiting.push({ ...k, pipeline });
        for (const k of view.hot) hot.push({ ...k, pipeline });
      }
      return { waiting, hot };
    },
    pipelines: () =>
      Object.entries(runs).map(([n, run]) => {
        const r = run.report();
        return {
          name: n,
          processed: r.ok,
          failed: r.failed,
          retries: r.retries,
          restarts: r.restarts,
          inFlight: run.inFlight,
          lowWatermark: run.lowWatermark,
        };
      }),
  };
}

/** The shape of a partitioned runner that {@link runnerSource} reads (a cluster `Runner` fits). */
export interface RunnerLike {
  stats(): {
    state: string;
    nodeName: string;
    assigned: readonly number[];
    handled: number;
    lost: number;
    /** Partitions whose batch waits for a retry (a cluster `Runner` reports them). */
    retrying?: readonly { partition: number; since: number; until: number; attempt: number; error: string }[];
  };
}

/**
 * A {@link StatusSource} showing partitioned runners: one tree node per runner (its node name,
 * state, and the partitions it owns as children; `restarts` counts partitions lost), each
 * runner's handled events as a pipeline for the throughput chart, and partitions whose batch
 * waits for a retry as waiting keys (`partition <n>`, retrying with backoff).
 *
 * @example
 * ```ts
 * const runner = partitionedRunner({ backend, group: 'billing', topic: 'orders', handler });
 * await startDashboard({ backend, sources: [runnerSource('billing', { [runner.nodeName]: runner })] });
 * ```
 */
export function runnerSource(name: string, runners: Record<string, RunnerLike>): StatusSource {
  return {
    name,
    // A runner handles a partition in offset order: a failing batch holds the whole partition.
    keys: () => ({
      waiting: Object.entries(runners).flatMap(([id, r]) =>
        (r.stats().retrying ?? []).map((w) => ({
          pipeline: id,
          key: `partition ${w.partition}`,
          partition: w.partition,
          state: 'retrying' as const,
          reason: 'backoff' as const,
          since: w.since,
          until: w.until,
          attempts: w.attempt,
          blocked: 0,
          error: w.error,
        })),
      ),
      hot: [],
    }),
    supervision: () => {
      const children = Object.entries(runners).map(([id, r]) => {
        const s = r.stats();
        return {
          id,
          kind: 'runner',
          status: s.state,
          restarts: s.lost,
          node: s.nodeName,
          children: s.assigned.map((p) => ({
            id: `partition ${p}`,
            kind: 'partition',
            status: 'running',
            restarts: 0,
          })),
        };
      });
      const running = children.some((c) => c.status === 'running');
      return {
        id: name,
        kind: 'supervisor',
        strategy: 'partitioned',
        status: running ? 'running' : 'stopped',
        restarts: 0,
        children,
      };
    },
    pipelines: () =>
      Object.entries(runners).map(([id, r]) => {
        const s = r.stats();
        return {
          name: id,
          processed: s.handled,
          failed: 0,
          retries: 0,
          inFlight: 0,
          lowWatermark: 0,
          restarts: s.lost,
        };
      }),
  };
}
