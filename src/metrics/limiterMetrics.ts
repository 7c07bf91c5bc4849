// Prometheus metrics of rate and concurrency limiters: tokens granted/denied, waits, parks, holds.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Limiter } from '../flow/Limiter.ts';
import { metricOnce } from './registryMetrics.ts';

/** What {@link instrumentLimiter} reads from a limiter. */
export type InstrumentableLimiter = Pick<Limiter<never>, 'name' | 'kind' | 'scope' | 'stats' | 'on'>;

/** Options of {@link instrumentLimiter}. */
export interface LimiterMetricsOptions {
  /** The registry to register on. */
  registry: Registry;
  /** The `limiter` label; default the limiter's `name`. */
  name?: string;
  /** Buckets of the wait histogram, in seconds. */
  waitBuckets?: number[];
}

/** Counts already exported per limiter, so each scrape adds only what happened since the last. */
interface Tracked {
  readonly limiter: InstrumentableLimiter;
  granted: number;
  denied: number;
}

const byRegistry = new WeakMap<Registry, Map<string, Tracked>>();
const DEFAULT_WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Exports a limiter's activity in this process on `registry` (labels `limiter`, `kind` =
 * `rate|concurrency`, `scope` = `local|shared`):
 *
 * - `sluice_limiter_granted_total` (counter, tokens — slot weight for concurrency limiters):
 *   granted by `acquire` and `tryAcquire`.
 * - `sluice_limiter_denied_total` (counter, decisions): denials, each retry of a waiting acquire
 *   and each `tryAcquire` miss counting once.
 * - `sluice_limiter_wait_seconds` (histogram, seconds): time from `acquire` to its grant
 *   (0 for immediate grants; `tryAcquire` is not observed).
 * - `sluice_limiter_parked_keys` (gauge, keys): keys this process knows to be parked now; the
 *   whole limiter counts as one key.
 * - `sluice_limiter_waiting` (gauge, acquires) and `sluice_limiter_held` (gauge, slot weight held
 *   through this process).
 *
 * Counters are read from {@link Limiter.stats} at scrape time, so the fast path pays nothing.
 * Returns a function that stops following the limiter.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * const api = rateLimit({ rate: 100, name: 'crm-api' });
 * const stop = instrumentLimiter(api, { registry });
 * ```
 */
export function instrumentLimiter(
  limiter: InstrumentableLimiter,
  options: LimiterMetricsOptions,
): () => void {
  const { registry } = options;
  const name = options.name ?? limiter.name;
  let tracked = byRegistry.get(registry);
  if (tracked === undefined) byRegistry.set(registry, (tracked = new Map()));
  const all = tracked;
  const stats = limiter.stats();
  all.set(name, { limiter, granted: stats.granted, denied: stats.denied });
  const labels = (t: Tracked, label: string) => ({
    limiter: label,
    kind: t.limiter.kind,
    scope: t.limiter.scope,
  });
  const labelNames = ['limiter', 'kind', 'scope'] as const;
  metricOnce(
    registry,
    'sluice_limiter_granted_total',
    () =>
      new Counter({
        name: 'sluice_limiter_granted_total',
        help: 'Tokens (rate) or slot weight (concurrency) granted by the limiter in this process.',
        labelNames,
        registers: [registry],
        collect() {
          for (const [label, t] of all) {
            const now = t.limiter.stats().granted;
            if (now > t.granted) this.inc(labels(t, label), now - t.granted);
            else this.inc(labels(t, label), 0);
            t.granted = now;
          }
        },
      }),
  );
  metricOnce(
    registry,
    'sluice_limiter_denied_total',
    () =>
      new Counter({
        name: 'sluice_limiter_denied_total',
        help: 'Denied limiter decisions in this process (each retry of a waiting acquire counts once).',
        labelNames,
        registers: [registry],
        collect() {
          for (const [label, t] of all) {
            const now = t.limiter.stats().denied;
            this.inc(labels(t, label), Math.max(0, now - t.denied));
            t.denied = now;
          }
        },
      }),
  );
  const gauge = (metric: string, help: string, read: (t: Tracked) => number) =>
    metricOnce(
      registry,
      metric,
      () =>
        new Gauge({
          name: metric,
          help,
          labelNames,
          registers: [registry],
          collect() {
            this.reset();
            for (const [label, t] of all) this.set(labels(t, label), read(t));
          },
        }),
    );
  gauge(
    'sluice_limiter_parked_keys',
    'Keys of the limiter this process knows to be parked.',
    (t) => t.limiter.stats().parked,
  );
  gauge('sluice_limiter_waiting', 'Acquires of the limiter waiting now.', (t) => t.limiter.stats().waiting);
  gauge('sluice_limiter_held', 'Slot weight held now through this process.', (t) => t.limiter.stats().held);
  const waits = metricOnce(
    registry,
    'sluice_limiter_wait_seconds',
    () =>
      new Histogram({
        name: 'sluice_limiter_wait_seconds',
        help: 'Seconds from acquire to grant.',
        labelNames,
        buckets: options.waitBuckets ?? DEFAULT_WAIT_BUCKETS,
        registers: [registry],
      }),
  );
  const off = limiter.on('granted', (g) =>
    waits.observe({ limiter: name, kind: limiter.kind, scope: limiter.scope }, g.waitedMs / 1000),
  );
  return () => {
    off();
    if (all.get(name)?.limiter === limiter) all.delete(name);
  };
}
