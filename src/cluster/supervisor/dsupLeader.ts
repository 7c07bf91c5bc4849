// The leader shell of a DistributedSupervisor: holds the leader lease, asks the planner, carries its actions out.
import type { Lease } from '../../backend/Backend.ts';
import type { Cluster } from './Cluster.ts';
import type { DsupModel } from './DsupModel.ts';
import type { ResolvedDsupOptions } from './dsupOptions.ts';
import { type LiveNode, type PlacementLease, type PlanAction, planRound } from './dsupPlanner.ts';
import type { DsupRecord } from './dsupTypes.ts';
import type { NodeSelectorFn } from './nodeSelectors.ts';

/** `<node>#<incarnation>`: the owner of a placement lease. */
export const owner = (node: string, incarnation: string): string => `${node}#${incarnation}`;

/** Splits a lease owner into node and incarnation. */
export const parseOwner = (o: string): { node: string; incarnation: string } => {
  const i = o.lastIndexOf('#');
  return i < 0 ? { node: o, incarnation: '' } : { node: o.slice(0, i), incarnation: o.slice(i + 1) };
};

/**
 * TTL of placement (and leader) leases: children must be running elsewhere within
 * `failureTimeout` of their node's last renewal, so the lease expires one heartbeat early and the
 * new node starts the child on its next round.
 */
export function placementTtl(heartbeatMs: number, failureTimeoutMs: number): number {
  const early = failureTimeoutMs - heartbeatMs;
  return Math.round(early >= heartbeatMs ? early : failureTimeoutMs);
}

/** What the leader needs from its supervisor. @internal */
export interface LeaderHost {
  readonly cluster: Cluster;
  readonly opts: ResolvedDsupOptions;
  readonly me: string;
  readonly leaseTtlMs: number;
  readonly leaderLeaseName: string;
  readonly childPrefix: string;
  /** Placement leases by child id (the leader updates it as it places and releases). */
  readonly leases: Map<string, Lease>;
  model(): DsupModel;
  liveNodes(): LiveNode[];
  append(rec: DsupRecord): Promise<void>;
  running(): boolean;
}

/** Leader duties of one node. @internal */
export class DsupLeader {
  private lease: Lease | undefined;
  /** When this node became leader (the settle delay of the first placement counts from it). */
  private since = 0;
  /** The leader as last seen (this node or another). */
  lastLeader: string | undefined;

  constructor(
    private readonly host: LeaderHost,
    private readonly select: NodeSelectorFn,
  ) {}

  /** Whether this node holds an unexpired leader lease. */
  holds(): boolean {
    return this.lease !== undefined && this.host.cluster.clock.now() < this.lease.expiresAt;
  }

  /** Gives the leadership up. */
  async release(): Promise<void> {
    if (this.lease === undefined) return;
    await this.host.cluster.backend.leases.release(this.lease).catch(() => false);
    this.lease = undefined;
  }

  /** Renews or takes the leader lease and, when held, plans and acts. Returns the next round time. */
  async round(): Promise<number> {
    const { host } = this;
    const { backend, clock } = host.cluster;
    if (this.lease !== undefined)
      this.lease = (await backend.leases.renew(this.lease, host.leaseTtlMs)) ?? undefined;
    if (this.lease === undefined) {
      this.lease =
        (await backend.leases.acquire(host.leaderLeaseName, host.me, host.leaseTtlMs)) ?? undefined;
      if (this.lease !== undefined) this.since = clock.now();
    }
    if (this.lease === undefined) {
      const current = await backend.leases.get(host.leaderLeaseName);
      this.lastLeader = current === undefined ? undefined : parseOwner(current.owner).node;
      // Take over as soon as the leader's lease expires.
      return current === undefined ? Number.POSITIVE_INFINITY : current.expiresAt + 1;
    }
    this.lastLeader = host.cluster.nodeName;
    const plan = planRound({
      model: host.model(),
      strategy: host.opts.strategy,
      autoShutdown: host.opts.autoShutdown,
      leases: this.placements(),
      nodes: host.liveNodes(),
      maxRestarts: host.opts.maxRestarts,
      withinMs: host.opts.withinMs,
      now: clock.now(),
      self: host.cluster.nodeName,
      select: this.select,
      startup: { minNodes: host.opts.minNodes, settleUntil: this.since + host.opts.settleMs },
      respread: host.opts.respread,
    });
    for (const action of plan.actions) {
      if (!this.holds() || !host.running()) break;
      if (!(await this.act(action))) break;
    }
    return plan.nextAt;
  }

  private placements(): Map<string, PlacementLease> {
    const out = new Map<string, PlacementLease>();
    for (const [id, l] of this.host.leases) {
      out.set(id, { ...parseOwner(l.owner), token: l.fencingToken, expiresAt: l.expiresAt });
    }
    return out;
  }

  /** Carries one action out; false after a shutdown (nothing more to do). */
  private async act(a: PlanAction): Promise<boolean> {
    const { host } = this;
    const at = host.cluster.clock.now();
    switch (a.kind) {
      case 'terminated':
        await host.append({ t: 'terminated', id: a.id, cause: a.cause, at });
        return true;
      case 'release':
        await this.releasePlacement(a.id);
        return true;
      case 'group_restart':
        await host.append({ t: 'group_restart', ids: [...a.ids], cause: a.cause, at });
        return true;
      case 'node_failed':
        await host.append({
          t: 'node_failed',
          node: a.node,
          incarnation: a.incarnation,
          children: a.children,
          at,
        });
        return true;
      case 'unplaceable':
        await host.append({ t: 'unplaceable', id: a.id, behavior: a.behavior, at });
        return true;
      case 'move':
        // Recorded first: its node reads why the lease went and stops it with reason `rebalance`.
        await host.append({ t: 'move', id: a.id, from: a.from, at });
        await this.releasePlacement(a.id);
        return true;
      case 'place':
        await this.place(a);
        return true;
      case 'shutdown':
        await host.append({ t: 'shutdown', reason: a.reason, at });
        return false;
    }
  }

  /** Frees a placement held by any node: the node sees the lease gone and stops the child. */
  private async releasePlacement(id: string): Promise<void> {
    const lease = this.host.leases.get(id);
    if (lease === undefined) return;
    await this.host.cluster.backend.leases.release(lease);
    this.host.leases.delete(id);
  }

  private async place(a: Extract<PlanAction, { kind: 'place' }>): Promise<void> {
    const { host } = this;
    const lease = await host.cluster.backend.leases.acquire(
      host.childPrefix + a.id,
      owner(a.node, a.incarnation),
      host.leaseTtlMs,
    );
    if (lease === null) return; // the previous placement has not expired yet
    host.leases.set(a.id, lease);
    await host.append({
      t: 'placed',
      id: a.id,
      node: a.node,
      incarnation: a.incarnation,
      token: lease.fencingToken,
      reason: a.reason,
      ...(a.from === undefined ? {} : { from: a.from }),
      at: host.cluster.clock.now(),
    });
  }
}
