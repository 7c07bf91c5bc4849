// The Partitioner type: routes a key to the member that owns it, stable while membership is unchanged.
/**
 * A partitioner routes a key to the member (worker, node, shard) that owns it. The same key
 * always routes to the same member while the membership does not change.
 *
 * Implementations: {@link consistentHash}, {@link jumpHash}, {@link rendezvous},
 * {@link moduloMd5}, {@link PartitionAssignment}; or any object with a `route` method.
 *
 * @example
 * ```ts
 * const byFirstLetter: Partitioner<string> = { route: (k) => (k < 'm' ? 'a-l' : 'm-z') };
 * ```
 */
export interface Partitioner<K = string> {
  /** The member that owns `key`. */
  route(key: K): string;
}

/** A partitioner whose membership can change: members join with `add` and leave with `remove`. */
export interface MembershipPartitioner<K = string> extends Partitioner<K> {
  /** The current members, in the order they were added. */
  readonly members: readonly string[];
  /**
   * Adds a member. Throws `CONFIG_INVALID` if it is already a member.
   * @param weight - relative capacity (default 1), where the strategy supports weights.
   */
  add(member: string, weight?: number): this;
  /** Removes a member. Throws `NOT_FOUND` if it is not a member, `INVALID_STATE` if it is the last one. */
  remove(member: string): this;
}

/** One key (or partition) that changed owner. `from`/`to` are `undefined` when it had/has none. */
export interface Move<K = string> {
  readonly key: K;
  readonly from: string | undefined;
  readonly to: string | undefined;
}

/**
 * The keys whose owner differs between two owner maps (for instance two snapshots of
 * `BoundedLoadConsistentHash.assignments()`), in the iteration order of `next` then `prev`.
 *
 * @example
 * ```ts
 * const before = ring.assignments();
 * ring.remove('b');
 * const moved = diffOwners(before, ring.assignments()); // [{key, from: 'b', to: ...}, ...]
 * ```
 */
export function diffOwners<K>(prev: ReadonlyMap<K, string>, next: ReadonlyMap<K, string>): Move<K>[] {
  const moves: Move<K>[] = [];
  for (const [key, to] of next) {
    const from = prev.get(key);
    if (from !== to) moves.push({ key, from, to });
  }
  for (const [key, from] of prev) {
    if (!next.has(key)) moves.push({ key, from, to: undefined });
  }
  return moves;
}
