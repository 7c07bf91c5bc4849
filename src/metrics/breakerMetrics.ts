// instrumentBreaker: Prometheus state gauge and event counter of circuit breakers on a registry.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CircuitBreaker, CircuitState } from '../resilience/CircuitBreaker.ts';
import { metricOnce } from './registryMetrics.ts';

const STATES: readonly CircuitState[] = ['closed', 'open', 'half-open'];

/** What {@link instrumentBreaker} reads from a breaker. */
export type InstrumentableBreaker = Pick<CircuitBreaker, 'name' | 'state' | 'on'>;

/** Options of {@link instrumentBreaker}. */
export interface BreakerMetricsOptions {
  /** The registry to register on. */
  registry: Registry;
  /** The `breaker` label; default the breaker's own `name`. */
  name?: string;
}

const breakersByRegistry = new WeakMap<Registry, Map<string, InstrumentableBreaker>>();

/**
 * Exports a circuit breaker's state on `registry`:
 * `sluice_circuit_breaker_state{breaker, state}` is 1 for the current state and 0 for the two
 * others (read at scrape time), and `sluice_circuit_breaker_events_total{breaker, event}` counts
 * `open`, `half_open`, `close`, `rejected`, `success` and `failure` events. Returns a function
 * that stops following the breaker.
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ name: 'payments' });
 * const stop = instrumentBreaker(breaker, { registry });
 * ```
 */
export function instrumentBreaker(
  breaker: InstrumentableBreaker,
  options: BreakerMetricsOptions,
): () => void {
  const { registry } = options;
  const name = options.name ?? breaker.name;
  let breakers = breakersByRegistry.get(registry);
  if (!breakers) breakersByRegistry.set(registry, (breakers = new Map()));
  const tracked = breakers;
  tracked.set(name, breaker);
  metricOnce(
    registry,
    'sluice_circuit_breaker_state',
    () =>
      new Gauge({
        name: 'sluice_circuit_breaker_state',
        help: 'Circuit breaker state: 1 for the current state, 0 for the others.',
        labelNames: ['breaker', 'state'],
        registers: [registry],
        collect() {
          for (const [label, b] of tracked) {
            const current = b.state;
            for (const s of STATES) this.set({ breaker: label, state: s }, s === current ? 1 : 0);
          }
        },
      }),
  );
  const events = metricOnce(
    registry,
    'sluice_circuit_breaker_events_total',
    () =>
      new Counter({
        name: 'sluice_circuit_breaker_events_total',
        help: 'Circuit breaker events by kind.',
        labelNames: ['breaker', 'event'],
        registers: [registry],
      }),
  );
  const kinds = ['open', 'half_open', 'close', 'rejected', 'success', 'failure'] as const;
  const offs = kinds.map((k) => breaker.on(k, () => events.inc({ breaker: name, event: k })));
  return () => {
    for (const off of offs) off();
    if (tracked.get(name) === breaker) tracked.delete(name);
  };
}
