// Where a DistributedSupervisor places a child: local_first, round_robin, least_loaded, random, a fixed node or a function.
import { configError } from '../../core/errors.ts';
import type { DistributedChildSpec } from './dsupTypes.ts';

/** A live node and how many children are placed on it. */
export interface NodeLoad {
  readonly node: string;
  /** Children currently placed on the node (from the placement leases). */
  readonly children: number;
  readonly meta: Record<string, unknown>;
}

/** What a node selector is given. */
export interface NodeSelectorContext {
  /** The child being placed. */
  readonly child: DistributedChildSpec;
  /** Live nodes, sorted by name, with their load. Never empty. */
  readonly nodes: readonly NodeLoad[];
  /** The node that asked for the start (`startChild` caller), or where the child ran before when it is restarted after a crash. */
  readonly preferred?: string;
  /** The node placing it (the supervisor's leader). */
  readonly self: string;
}

/** Picks the node for a child; must return the name of one of `ctx.nodes`. */
export type NodeSelectorFn = (ctx: NodeSelectorContext) => string;

/**
 * Where children are placed:
 * - `local_first`: the preferred node (the `startChild` caller, or the node the child crashed on)
 *   when live, else the least loaded;
 * - `round_robin`: live nodes in turn (by name);
 * - `least_loaded`: the node with the fewest placed children (ties: by name);
 * - `random`: any live node;
 * - `{node}`: only that node (the child waits while it is not live);
 * - a function.
 */
export type NodeSelector =
  | 'local_first'
  | 'round_robin'
  | 'least_loaded'
  | 'random'
  | { node: string }
  | NodeSelectorFn;

const leastLoaded: NodeSelectorFn = ({ nodes }) => {
  let best = nodes[0]!;
  for (const n of nodes) if (n.children < best.children) best = n;
  return best.node;
};

/** Turns a {@link NodeSelector} into a function (`CONFIG_INVALID` for an unknown name). */
export function toNodeSelector(selector: NodeSelector | undefined): NodeSelectorFn {
  if (selector === undefined || selector === 'local_first') {
    return (ctx) =>
      ctx.preferred !== undefined && ctx.nodes.some((n) => n.node === ctx.preferred)
        ? ctx.preferred
        : leastLoaded(ctx);
  }
  if (selector === 'least_loaded') return leastLoaded;
  if (selector === 'random') return ({ nodes }) => nodes[Math.floor(Math.random() * nodes.length)]!.node;
  if (selector === 'round_robin') {
    let next = 0;
    return ({ nodes }) => nodes[next++ % nodes.length]!.node;
  }
  if (typeof selector === 'function') return selector;
  if (typeof selector === 'object' && selector !== null && typeof selector.node === 'string') {
    const node = selector.node;
    return () => node;
  }
  throw configError(
    'distributedSupervisor.nodeSelector',
    "'local_first', 'round_robin', 'least_loaded', 'random', {node} or a function",
    selector,
  );
}
