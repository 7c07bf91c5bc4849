// Prometheus metrics of partitioned runners: owned partitions, rebalances, fenced commits, lease renewals, failovers.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Backend } from '../backend/Backend.ts';
import type { Runner } from '../cluster/runner/runnerTypes.ts';
import { observeLeases } from './leaseObserver.ts';
import { metricOnce } from './registryMetrics.ts';

/** Options of {@link runnerMetrics} (one call per runner). */
export interface RunnerMetricsOptions {
  /** The registry to register on. */
  registry: Registry;
  /** The `group` label. */
  group: string;
  /** The `topic` label. */
  topic: string;
  /** The `node` label: the runner's `nodeName`. */
  node: string;
  /** Buckets of the lease renewal histogram, in seconds. */
  renewBuckets?: number[];
}

/** Labels of every runner metric. */
type RunnerLabels = { group: string; topic: string; node: string };

/** What {@link runnerMetrics} returns: a backend to give the runner, and `instrument` for the runner itself. */
export interface RunnerMetrics {
  /**
   * Wraps the backend the runner will use, so lease renewals (latency, failures) and takeovers of
   * expired leases (failovers) are measured. Optional: without it those metrics stay at zero.
   */
  observe(backend: Backend): Backend;
  /** Follows the runner's events and state; returns a function that stops following it. */
  instrument(runner: Runner): () => void;
}

const DEFAULT_RENEW_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** A runner followed on a registry. */
type Tracked = { runner: Runner; labels: RunnerLabels };
const tracked = new WeakMap<Registry, Map<string, Tracked>>();

/** Every metric name {@link runnerMetrics} registers (the Grafana dashboard is checked against it). */
export const RUNNER_METRIC_NAMES = [
  'sluice_runner_owned_partitions',
  'sluice_runner_up',
  'sluice_runner_rebalances_total',
  'sluice_runner_partitions_acquired_total',
  'sluice_runner_partitions_released_total',
  'sluice_runner_partitions_lost_total',
  'sluice_runner_fenced_commits_total',
  'sluice_runner_commits_total',
  'sluice_runner_events_committed_total',
  'sluice_runner_errors_total',
  'sluice_runner_failovers_total',
  'sluice_lease_renew_seconds',
  'sluice_lease_renew_failures_total',
] as const;

function counter(registry: Registry, name: string, help: string, extra: string[] = []): Counter<string> {
  return metricOnce(
    registry,
    name,
    () =>
      new Counter({ name, help, labelNames: ['group', 'topic', 'node', ...extra], registers: [registry] }),
  );
}

/** The runner metrics on `registry`, created once per registry (gauges read `runners` at scrape). */
function runnerMetricSet(
  registry: Registry,
  runners: Map<string, Tracked>,
  renewBuckets: number[] | undefined,
) {
  const gauge = (name: string, help: string, read: (r: Runner) => number) =>
    metricOnce(
      registry,
      name,
      () =>
        new Gauge({
          name,
          help,
          labelNames: ['group', 'topic', 'node'],
          registers: [registry],
          collect() {
            this.reset();
            for (const t of runners.values()) this.set(t.labels, read(t.runner));
          },
        }),
    );
  gauge(
    'sluice_runner_owned_partitions',
    'Partitions owned and processed by the runner now.',
    (r) => r.assigned().length,
  );
  gauge('sluice_runner_up', '1 while the runner is running, else 0.', (r) => (r.state === 'running' ? 1 : 0));
  const rebalances = counter(
    registry,
    'sluice_runner_rebalances_total',
    "Changes of the live runners or of the runner's share.",
  );
  const acquired = counter(registry, 'sluice_runner_partitions_acquired_total', 'Partitions acquired.');
  const released = counter(
    registry,
    'sluice_runner_partitions_released_total',
    'Partitions handed over after committing.',
    ['reason'],
  );
  const lost = counter(
    registry,
    'sluice_runner_partitions_lost_total',
    'Partitions lost (fenced, lease_lost, error).',
    ['reason'],
  );
  const fenced = counter(registry, 'sluice_runner_fenced_commits_total', 'Commits refused with FENCED.');
  const commits = counter(registry, 'sluice_runner_commits_total', 'Commits of processed batches.');
  const committedEvents = counter(
    registry,
    'sluice_runner_events_committed_total',
    'Events covered by commits.',
  );
  const errors = counter(registry, 'sluice_runner_errors_total', 'Recoverable runner failures, by phase.', [
    'during',
  ]);
  const failovers = counter(
    registry,
    'sluice_runner_failovers_total',
    "Partitions taken over after the previous owner's lease ran out.",
  );
  const renewSeconds = metricOnce(
    registry,
    'sluice_lease_renew_seconds',
    () =>
      new Histogram({
        name: 'sluice_lease_renew_seconds',
        help: 'Duration of lease renewal calls, in seconds.',
        labelNames: ['group', 'topic', 'node'],
        buckets: renewBuckets ?? DEFAULT_RENEW_BUCKETS,
        registers: [registry],
      }),
  );
  const renewFailures = counter(
    registry,
    'sluice_lease_renew_failures_total',
    'Lease renewal calls that failed.',
  );
  return {
    rebalances,
    acquired,
    released,
    lost,
    fenced,
    commits,
    committedEvents,
    errors,
    failovers,
    renewSeconds,
    renewFailures,
  };
}

/**
 * Cluster metrics of partitioned runners in this process, on `registry` (labels `group`,
 * `topic`, `node`):
 *
 * - `sluice_runner_owned_partitions` (gauge, partitions): partitions owned and processed now.
 * - `sluice_runner_up` (gauge, 0/1): 1 while the runner is `running`.
 * - `sluice_runner_rebalances_total` (counter, rebalances): changes of the live runners or of this runner's share.
 * - `sluice_runner_partitions_acquired_total` / `_released_total` (`reason` = `rebalance|stop`) /
 *   `_lost_total` (`reason` = `fenced|lease_lost|error`) (counters, partitions).
 * - `sluice_runner_fenced_commits_total` (counter, commits): commits refused with `FENCED`
 *   (another runner holds the partition's lease now).
 * - `sluice_runner_commits_total` (counter, commits) and `sluice_runner_events_committed_total` (counter, events).
 * - `sluice_runner_errors_total` (counter, errors; `during` = `tick|read|handler|commit|release|leave`): recoverable failures.
 * - `sluice_runner_failovers_total` (counter, partitions): partitions taken over after their
 *   previous owner's lease ran out (it died or paused) rather than being released.
 * - `sluice_lease_renew_seconds` (histogram, seconds): duration of each renewal call (one call, of the runner's holder lease, keeps all its partition leases).
 * - `sluice_lease_renew_failures_total` (counter, calls): renewal calls that failed (backend error).
 *
 * @example
 * ```ts
 * const metrics = runnerMetrics({ registry, group: 'billing', topic: 'payments', node: 'billing-1' });
 * const runner = partitionedRunner({ ...options, nodeName: 'billing-1', backend: metrics.observe(backend) });
 * metrics.instrument(runner);
 * ```
 */
export function runnerMetrics(options: RunnerMetricsOptions): RunnerMetrics {
  const { registry, group, topic } = options;
  let all = tracked.get(registry);
  if (all === undefined) tracked.set(registry, (all = new Map()));
  const runners = all;
  const {
    rebalances,
    acquired,
    released,
    lost,
    fenced,
    commits,
    committedEvents,
    errors,
    failovers,
    renewSeconds,
    renewFailures,
  } = runnerMetricSet(registry, runners, options.renewBuckets);
  const l: RunnerLabels = { group, topic, node: options.node };
  return {
    observe: (backend) =>
      observeLeases(backend, {
        renewed: (e) => {
          renewSeconds.observe(l, e.seconds);
          if (e.failed) renewFailures.inc(l);
        },
        tookOver: () => failovers.inc(l),
      }),
    instrument(runner) {
      for (const c of [rebalances, acquired, fenced, commits, committedEvents, failovers, renewFailures])
        c.inc(l, 0);
      const key = `${group}\u0000${topic}\u0000${options.node}`;
      runners.set(key, { runner, labels: l });
      const offs = [
        runner.on('rebalance', () => rebalances.inc(l)),
        runner.on('partition_acquired', () => acquired.inc(l)),
        runner.on('partition_released', (e) => released.inc({ ...l, reason: e.reason })),
        runner.on('partition_lost', (e) => {
          lost.inc({ ...l, reason: e.reason });
          if (e.reason === 'fenced') fenced.inc(l);
        }),
        runner.on('committed', (e) => {
          commits.inc(l);
          committedEvents.inc(l, e.count);
        }),
        runner.on('error', (e) => errors.inc({ ...l, during: e.during })),
      ];
      return () => {
        for (const off of offs) off();
        if (runners.get(key)?.runner === runner) runners.delete(key);
      };
    },
  };
}
