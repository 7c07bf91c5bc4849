// balancer(): a balancer from a strategy name (round_robin, least_loaded, broadcast, sticky) or a function.
import { configError } from '../../core/errors.ts';
import type { Balancer, BalancerFn } from './Balancer.ts';
import { broadcast } from './broadcast.ts';
import { customBalancer } from './customBalancer.ts';
import { leastLoaded } from './leastLoaded.ts';
import { roundRobin } from './roundRobin.ts';
import { sticky } from './sticky.ts';

/** Balancer strategy names accepted by {@link balancer} (`consistent_hash` is {@link sticky}). */
export type BalancerStrategyName =
  | 'round_robin'
  | 'least_loaded'
  | 'broadcast'
  | 'sticky'
  | 'consistent_hash';

/**
 * A balancer by strategy name, for configuration strings such as
 * `concurrent({ strategy: 'round_robin' })`, or from a custom function.
 * Unknown names give `CONFIG_INVALID`. (Weighted round robin needs weights: use
 * {@link weightedRoundRobin} directly.)
 *
 * @example
 * ```ts
 * const lb = balancer('least_loaded', ['w1', 'w2']);
 * ```
 */
export function balancer<T = unknown>(
  strategy: BalancerStrategyName | BalancerFn<T>,
  members: readonly string[],
): Balancer<T, string | readonly string[]> {
  if (typeof strategy === 'function') return customBalancer(strategy, members);
  switch (strategy) {
    case 'round_robin':
      return roundRobin(members);
    case 'least_loaded':
      return leastLoaded(members);
    case 'broadcast':
      return broadcast(members);
    case 'sticky':
    case 'consistent_hash':
      return sticky<T>(members);
    default:
      throw configError(
        'balancer.strategy',
        "one of 'round_robin', 'least_loaded', 'broadcast', 'sticky', 'consistent_hash' or a function",
        strategy,
      );
  }
}
