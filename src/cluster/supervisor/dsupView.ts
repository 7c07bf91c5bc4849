// What a DistributedSupervisor reports about its children and counters, computed from the model, the leases and the live nodes.
import type { Lease } from '../../backend/Backend.ts';
import type { ClusterMember } from './Cluster.ts';
import type { DsupModel } from './DsupModel.ts';
import { parseOwner } from './dsupLeader.ts';
import type { LiveNode } from './dsupPlanner.ts';
import type { DistributedSupervisorState, DistributedSupervisorStats } from './dsupTypes.ts';

/** One row of {@link DistributedSupervisor.whichChildren}. */
export interface DistributedChildInfo {
  readonly id: string;
  readonly behavior: string;
  readonly restart: string;
  /** `running` (placed on a live node), `pending` (waiting for a placement) or `terminated`. */
  readonly status: 'running' | 'pending' | 'terminated';
  readonly node: string | undefined;
  readonly fencingToken: number | undefined;
  readonly restarts: number;
}

/** The children with their placement, in start order. `live`: node → incarnation. */
export function childrenInfo(
  model: DsupModel,
  leases: ReadonlyMap<string, Lease>,
  live: ReadonlyMap<string, string>,
): DistributedChildInfo[] {
  return model.order.map((id) => {
    const c = model.children.get(id)!;
    const lease = leases.get(id);
    const o = lease === undefined ? undefined : parseOwner(lease.owner);
    const running = o !== undefined && live.get(o.node) === o.incarnation;
    return {
      id,
      behavior: c.spec.behavior,
      restart: c.spec.restart,
      status: c.phase.phase === 'terminated' ? 'terminated' : running ? 'running' : 'pending',
      node: o?.node,
      fencingToken: lease?.fencingToken,
      restarts: c.restarts,
    };
  });
}

/** Counters and placement; `live`: node → incarnation. */
export function statsOf(
  model: DsupModel,
  leases: ReadonlyMap<string, Lease>,
  live: ReadonlyMap<string, string>,
  extra: { state: DistributedSupervisorState; leader: string | undefined; local: readonly string[] },
): DistributedSupervisorStats {
  const childrenByNode: Record<string, string[]> = {};
  for (const node of live.keys()) childrenByNode[node] = [];
  for (const [id, lease] of leases) {
    const o = parseOwner(lease.owner);
    if (live.get(o.node) === o.incarnation) childrenByNode[o.node]!.push(id);
  }
  return {
    ...extra,
    nodes: [...live.keys()].sort(),
    children: model.activeIds().length,
    childrenByNode,
    totalRestarts: model.totalRestarts,
    nodeFailureRestarts: model.nodeFailureRestarts,
    migrations: model.migrations,
    rebalances: model.rebalances,
    nodeFailures: model.nodeFailures,
  };
}

/** Live nodes with the behaviors each advertises under `key` (undefined: it does not run the supervisor). */
export function liveNodesOf(members: readonly ClusterMember[], key: string): LiveNode[] {
  return members.map((m) => {
    const ad = m.meta[key] as { behaviors?: unknown } | undefined;
    const behaviors = Array.isArray(ad?.behaviors) ? (ad.behaviors as string[]) : undefined;
    const { node, incarnation, lastHeartbeat, meta } = m;
    return { node, incarnation, lastHeartbeat, behaviors, meta };
  });
}
