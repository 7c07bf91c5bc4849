// The input and output types of the leader's planner: leases and live nodes in, actions out.
import type { AutoShutdown } from '../../supervision/types.ts';
import type { DsupModel } from './DsupModel.ts';
import type { DistributedStrategy, PlacementReason } from './dsupTypes.ts';
import type { NodeSelectorFn } from './nodeSelectors.ts';

/** A placement lease as the leader sees it. */
export interface PlacementLease {
  readonly node: string;
  readonly incarnation: string;
  readonly token: number;
  readonly expiresAt: number;
}

/** A live cluster node; `behaviors` is what it advertises for this supervisor (undefined: it does not run it). */
export interface LiveNode {
  readonly node: string;
  readonly incarnation: string;
  /** Its latest heartbeat (a node recorded as failed is eligible again only after a newer one). */
  readonly lastHeartbeat: number;
  readonly behaviors: readonly string[] | undefined;
  readonly meta: Record<string, unknown>;
}

/** Everything one planning round looks at. */
export interface PlanInput {
  readonly model: DsupModel;
  readonly strategy: DistributedStrategy;
  readonly autoShutdown: AutoShutdown;
  /** Placement leases by child id. */
  readonly leases: ReadonlyMap<string, PlacementLease>;
  /** Live nodes, sorted by name. */
  readonly nodes: readonly LiveNode[];
  readonly maxRestarts: number;
  readonly withinMs: number;
  readonly now: number;
  /** The leader's node name. */
  readonly self: string;
  readonly select: NodeSelectorFn;
  /** Static children are first placed once `minNodes` nodes run the supervisor and not before `settleUntil`. */
  readonly startup: { readonly minNodes: number; readonly settleUntil: number };
  /** Move one child at a time from the most to the least loaded node when they differ by 2 or more. */
  readonly respread: boolean;
}

/** One thing the leader does; the shell carries the actions out in order. */
export type PlanAction =
  | { readonly kind: 'terminated'; readonly id: string; readonly cause: 'request' | 'exit' }
  | { readonly kind: 'release'; readonly id: string }
  | { readonly kind: 'group_restart'; readonly ids: readonly string[]; readonly cause: string }
  | {
      readonly kind: 'node_failed';
      readonly node: string;
      readonly incarnation: string;
      readonly children: number;
    }
  | {
      readonly kind: 'place';
      readonly id: string;
      readonly node: string;
      readonly incarnation: string;
      readonly reason: PlacementReason;
      readonly from?: string;
    }
  | { readonly kind: 'unplaceable'; readonly id: string; readonly behavior: string }
  | { readonly kind: 'move'; readonly id: string; readonly from: string }
  | { readonly kind: 'shutdown'; readonly reason: 'max_restarts' | 'auto_shutdown' };

/** The actions of a round and when the leader should look again at the latest. */
export interface Plan {
  readonly actions: PlanAction[];
  readonly nextAt: number;
}
