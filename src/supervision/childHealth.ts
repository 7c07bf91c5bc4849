// startHealthMonitor: probes one child instance with a HealthCheck and reports it unhealthy.
import type { Clock } from '../core/Clock.ts';
import { HealthCheck } from '../resilience/HealthCheck.ts';
import type { NormalizedHealthCheck } from './options.ts';
import type { ChildHandle } from './types.ts';

/**
 * Starts probing one child instance with a {@link HealthCheck}; `onUnhealthy` runs once the
 * threshold of consecutive failures is reached. Returns a function that stops probing.
 */
export function startHealthMonitor(
  options: NormalizedHealthCheck,
  handle: ChildHandle,
  clock: Clock,
  name: string,
  onUnhealthy: (reason: unknown) => void,
): () => void {
  const check = new HealthCheck({
    interval: options.intervalMs,
    timeout: options.timeoutMs,
    unhealthyThreshold: options.unhealthyThreshold,
    clock,
    name,
    check: (signal) => options.check(signal, handle),
  });
  check.start(onUnhealthy);
  return () => check.close();
}
