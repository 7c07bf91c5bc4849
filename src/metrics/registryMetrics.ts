// metricOnce: gets or creates a named metric on a registry, so instrumented objects share one metric.
import type { Metric, Registry } from 'prom-client';

/**
 * Returns the metric named `name` on `registry`, creating it with `create` the first time, so
 * several instrumented objects can share one metric (told apart by labels).
 * @internal
 */
export function metricOnce<M extends Metric<string>>(registry: Registry, name: string, create: () => M): M {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as M;
  return create();
}
