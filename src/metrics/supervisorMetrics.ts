// Prometheus metrics of a DistributedSupervisor node: leader, children per node, restarts, node failures, moves.
import { Gauge, type Registry } from 'prom-client';
import type { DistributedSupervisorStats } from '../cluster/supervisor/dsupTypes.ts';
import { metricOnce } from './registryMetrics.ts';

/** What {@link instrumentDistributedSupervisor} reads from a supervisor. */
export interface InstrumentableDistributedSupervisor {
  getStats(): DistributedSupervisorStats;
}

/** Options of {@link instrumentDistributedSupervisor}. */
export interface SupervisorMetricsOptions {
  /** The registry to register on. */
  registry: Registry;
  /** The `supervisor` label (its `name`). */
  name: string;
  /** This node's name (`cluster.nodeName`): the `node` label of the leader gauge. */
  node: string;
}

/** Every metric name {@link instrumentDistributedSupervisor} registers. */
export const SUPERVISOR_METRIC_NAMES = [
  'sluice_dsup_leader',
  'sluice_dsup_nodes',
  'sluice_dsup_children',
  'sluice_dsup_node_children',
  'sluice_dsup_local_children',
  'sluice_dsup_restarts',
  'sluice_dsup_node_failure_restarts',
  'sluice_dsup_migrations',
  'sluice_dsup_rebalances',
] as const;

const tracked = new WeakMap<
  Registry,
  Map<string, { sup: InstrumentableDistributedSupervisor; o: SupervisorMetricsOptions }>
>();

/**
 * Metrics of a {@link DistributedSupervisor} as this node sees it, read from `getStats()` at
 * scrape time (label `supervisor`; plus `node` where stated). Every node of a supervisor reads the
 * same control log, so the cluster-wide figures agree between nodes; scrape one or take `max`.
 *
 * - `sluice_dsup_leader` (gauge, 0/1; `node`): 1 on the node that holds the leader lease.
 * - `sluice_dsup_nodes` (gauge, nodes): live nodes running the supervisor.
 * - `sluice_dsup_children` (gauge, children): children known (not terminated).
 * - `sluice_dsup_node_children` (gauge, children; `node` = where they run): children per live node.
 * - `sluice_dsup_local_children` (gauge, children; `node`): children running on this node.
 * - `sluice_dsup_restarts` (gauge, restarts): restarts after an exit or crash since the supervisor started.
 * - `sluice_dsup_node_failure_restarts` (gauge, failures): node failures that restarted children elsewhere.
 * - `sluice_dsup_migrations` (gauge, children): children moved off failed or leaving nodes.
 * - `sluice_dsup_rebalances` (gauge, children): children moved to re-spread the load.
 *
 * The last four are gauges, not counters: they are the supervisor's totals (the same on every
 * node and kept by a new leader), so use `delta()`/`increase()` on them as on counters.
 * Returns a function that stops following the supervisor.
 *
 * @example
 * ```ts
 * instrumentDistributedSupervisor(sup, { registry, name: 'indexers', node: cluster.nodeName });
 * ```
 */
export function instrumentDistributedSupervisor(
  sup: InstrumentableDistributedSupervisor,
  options: SupervisorMetricsOptions,
): () => void {
  const { registry } = options;
  let all = tracked.get(registry);
  if (all === undefined) tracked.set(registry, (all = new Map()));
  const sups = all;
  const key = `${options.name}\u0000${options.node}`;
  sups.set(key, { sup, o: options });
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (g: Gauge<string>, s: DistributedSupervisorStats, o: SupervisorMetricsOptions) => void,
  ) =>
    metricOnce(
      registry,
      name,
      () =>
        new Gauge({
          name,
          help,
          labelNames,
          registers: [registry],
          collect() {
            this.reset();
            for (const t of sups.values()) fill(this, t.sup.getStats(), t.o);
          },
        }),
    );
  const sv = (o: SupervisorMetricsOptions) => ({ supervisor: o.name });
  gauge(
    'sluice_dsup_leader',
    "1 on the node holding the supervisor's leader lease, else 0.",
    ['supervisor', 'node'],
    (g, s, o) => g.set({ ...sv(o), node: o.node }, s.leader === o.node ? 1 : 0),
  );
  gauge('sluice_dsup_nodes', 'Live nodes running the supervisor.', ['supervisor'], (g, s, o) =>
    g.set(sv(o), s.nodes.length),
  );
  gauge('sluice_dsup_children', 'Children known (not terminated).', ['supervisor'], (g, s, o) =>
    g.set(sv(o), s.children),
  );
  gauge('sluice_dsup_node_children', 'Children placed per live node.', ['supervisor', 'node'], (g, s, o) => {
    for (const n of s.nodes) g.set({ ...sv(o), node: n }, s.childrenByNode[n]?.length ?? 0);
  });
  gauge('sluice_dsup_local_children', 'Children running on this node.', ['supervisor', 'node'], (g, s, o) =>
    g.set({ ...sv(o), node: o.node }, s.local.length),
  );
  gauge(
    'sluice_dsup_restarts',
    'Restarts after an exit or crash (supervisor total).',
    ['supervisor'],
    (g, s, o) => g.set(sv(o), s.totalRestarts),
  );
  gauge(
    'sluice_dsup_node_failure_restarts',
    'Node failures that restarted children elsewhere (supervisor total).',
    ['supervisor'],
    (g, s, o) => g.set(sv(o), s.nodeFailureRestarts),
  );
  gauge(
    'sluice_dsup_migrations',
    'Children moved off failed or leaving nodes (supervisor total).',
    ['supervisor'],
    (g, s, o) => g.set(sv(o), s.migrations),
  );
  gauge(
    'sluice_dsup_rebalances',
    'Children moved to re-spread the load (supervisor total).',
    ['supervisor'],
    (g, s, o) => g.set(sv(o), s.rebalances),
  );
  return () => {
    if (sups.get(key)?.sup === sup) sups.delete(key);
  };
}
