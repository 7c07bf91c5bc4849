// The Balancer type: picks the member (or members, for broadcast) for stateless work.
/**
 * A balancer spreads stateless work over members: `pick(item)` says which member (or, for
 * {@link broadcast}, which members) should handle `item`. Unlike a {@link Partitioner}, a
 * balancer may answer differently for the same item each time.
 *
 * The second type parameter is what `pick` returns: one member (`string`, the default) or
 * several (`readonly string[]`, broadcast).
 *
 * @example
 * ```ts
 * const lb: Balancer = roundRobin(['w1', 'w2']);
 * lb.pick(); // 'w1', then 'w2', 'w1', ...
 * ```
 */
export interface Balancer<T = unknown, R extends string | readonly string[] = string> {
  /** The members work is spread over. */
  readonly members: readonly string[];
  /** The member(s) that should handle `item`. */
  pick(item?: T): R;
}

/** A custom balancing function: returns one of `members` for `item`. */
export type BalancerFn<T = unknown> = (item: T, members: readonly string[]) => string;
