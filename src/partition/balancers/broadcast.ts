// The broadcast balancer: every pick returns the same frozen list of all members.
import { parseMemberList } from '../members.ts';
import type { Balancer } from './Balancer.ts';

/**
 * Broadcast: every item goes to every member. `pick` returns the same frozen array of all
 * members each time.
 *
 * @example
 * ```ts
 * broadcast(['a', 'b']).pick(); // ['a', 'b']
 * ```
 */
export function broadcast(members: readonly string[]): Balancer<unknown, readonly string[]> {
  const list = Object.freeze(parseMemberList(members, 'broadcast.members'));
  return { members: list, pick: () => list };
}
