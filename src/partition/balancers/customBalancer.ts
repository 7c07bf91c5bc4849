// customBalancer: a balancer from an (item, members) => member function, checking the member returned.
import { configError, SluiceError } from '../../core/errors.ts';
import { parseMemberList } from '../members.ts';
import type { Balancer, BalancerFn } from './Balancer.ts';

/**
 * A balancer from a function `(item, members) => member`. A returned value that is not one of
 * the members throws `INVALID_STATE`.
 *
 * @example
 * ```ts
 * const bySize = customBalancer((job: Job, ms) => (job.bytes > 1e6 ? ms[0]! : ms[1]!), ['big', 'small']);
 * ```
 */
export function customBalancer<T = unknown>(fn: BalancerFn<T>, members: readonly string[]): Balancer<T> {
  if (typeof fn !== 'function')
    throw configError('customBalancer.fn', 'a function (item, members) => member', fn);
  const list = Object.freeze(parseMemberList(members, 'customBalancer.members'));
  const set = new Set(list);
  return {
    members: list,
    pick(item?: T) {
      const m = fn(item as T, list);
      if (!set.has(m)) {
        throw new SluiceError(
          'INVALID_STATE',
          `customBalancer: the function returned ${JSON.stringify(m)}, not a member`,
          {
            context: { returned: m },
          },
        );
      }
      return m;
    },
  };
}
