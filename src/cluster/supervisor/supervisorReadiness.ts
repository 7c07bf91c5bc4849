// supervisorReadiness: whether a DistributedSupervisor node has joined and settled (for /readyz).

import type { DistributedSupervisorStats } from './dsupTypes.ts';
import type { DistributedChildInfo } from './dsupView.ts';

/** What {@link supervisorReadiness} reads from a supervisor. */
export interface ReadinessSource {
  getStats(): DistributedSupervisorStats;
  whichChildren(): DistributedChildInfo[];
}

/** A readiness answer: `ready`, a one-line `reason` and details. */
export interface SupervisorReadiness {
  readonly ready: boolean;
  readonly reason: string;
  readonly state: string;
  readonly leader: string | undefined;
  /** Children running on this node. */
  readonly local: readonly string[];
  /** Children of the supervisor waiting for a placement (anywhere). */
  readonly pending: readonly string[];
}

/**
 * Readiness of one DistributedSupervisor node: ready once the supervisor is `running`, this node
 * is among its live nodes and a leader holds the leader lease. Children waiting for a placement
 * (`minNodes` not reached yet, or no node with their behavior) are reported but do not make the
 * node unready: it is settled, and marking it unready would hold back the very nodes they wait for.
 *
 * @example
 * ```ts
 * const ready = supervisorReadiness(sup, cluster.nodeName);
 * ready(); // { ready: true, reason: 'joined; leader node-a', ... }
 * ```
 */
export function supervisorReadiness(sup: ReadinessSource, node: string): () => SupervisorReadiness {
  return () => {
    const stats = sup.getStats();
    const pending = sup
      .whichChildren()
      .filter((c) => c.status === 'pending')
      .map((c) => c.id);
    const base = { state: stats.state, leader: stats.leader, local: stats.local, pending };
    if (stats.state !== 'running') return { ...base, ready: false, reason: `supervisor is ${stats.state}` };
    if (!stats.nodes.includes(node))
      return { ...base, ready: false, reason: 'joining: this node is not among the live nodes yet' };
    if (stats.leader === undefined) return { ...base, ready: false, reason: 'no leader yet' };
    const waiting = pending.length === 0 ? '' : `; ${pending.length} children waiting for a placement`;
    return { ...base, ready: true, reason: `joined; leader ${stats.leader}${waiting}` };
  };
}
