// The sticky balancer: an item's key picks its member on a consistent-hash ring.
import { configError } from '../../core/errors.ts';
import { ConsistentHash, DEFAULT_VNODES, defaultRingHash } from '../ConsistentHash.ts';
import { parseMemberList } from '../members.ts';
import type { Balancer } from './Balancer.ts';

/** Options of {@link sticky}. */
export interface StickyOptions<T> {
  /** The key of an item (default: the item itself if it is a string, else `String(item)`). */
  key?: (item: T) => string;
}

/**
 * Sticky balancing: an item goes to the member its key hashes to on a consistent-hash ring,
 * so the same key always lands on the same member (warm caches, per-key order).
 * `pick` requires an item.
 *
 * @example
 * ```ts
 * const lb = sticky(['w1', 'w2'], { key: (o: Order) => o.customerId });
 * lb.pick(order); // always the same worker for this customer
 * ```
 */
export function sticky<T = string>(members: readonly string[], options: StickyOptions<T> = {}): Balancer<T> {
  const list = parseMemberList(members, 'sticky.members');
  if (options.key !== undefined && typeof options.key !== 'function') {
    throw configError('sticky.key', 'a function (item) => string', options.key);
  }
  const keyOf = options.key ?? ((item: T) => (typeof item === 'string' ? item : String(item)));
  const ring = new ConsistentHash(
    list,
    list.map(() => 1),
    DEFAULT_VNODES,
    defaultRingHash,
  );
  return {
    members: list,
    pick(item?: T) {
      if (item === undefined) throw configError('sticky.pick.item', 'an item to hash', item);
      return ring.route(keyOf(item));
    },
  };
}
