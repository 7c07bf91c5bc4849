// The round-robin balancer: members in turn, in the order given.
import { parseMemberList } from '../members.ts';
import type { Balancer } from './Balancer.ts';

/**
 * Round robin: members in turn, in the order given.
 *
 * @example
 * ```ts
 * const lb = roundRobin(['a', 'b', 'c']);
 * [lb.pick(), lb.pick(), lb.pick(), lb.pick()]; // ['a', 'b', 'c', 'a']
 * ```
 */
export function roundRobin(members: readonly string[]): Balancer<unknown> {
  const list = parseMemberList(members, 'roundRobin.members');
  let next = 0;
  return {
    members: list,
    pick() {
      const m = list[next]!;
      next = next + 1 === list.length ? 0 : next + 1;
      return m;
    },
  };
}
