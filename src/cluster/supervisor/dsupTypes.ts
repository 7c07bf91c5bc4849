// Public and log types of the DistributedSupervisor: child specs, control-log records, lifecycle events, stats.
import type { Duration } from '../../core/duration.ts';
import type { SerializedError } from '../../core/errors.ts';
import type {
  AutoShutdown,
  RestartIntensity,
  RestartType,
  SeedRestartType,
} from '../../supervision/types.ts';

/**
 * A child of a {@link DistributedSupervisor}: a registered behavior and its JSON `args`, so any
 * node can start it.
 */
export interface DistributedChildSpec<A = unknown> {
  /** Unique among the supervisor's children. */
  id: string;
  /** Name of a behavior registered in the {@link BehaviorRegistry} of every node. */
  behavior: string;
  /** Arguments given to the behavior (stored in the backend as JSON). */
  args?: A;
  /** `permanent` (default), `transient` or `temporary`; the seed names are accepted too. */
  restart?: RestartType | SeedRestartType;
  /** Whether its exit can trigger `autoShutdown`. Forbidden on permanent children. */
  significant?: boolean;
  /** How long its node waits for it to stop before giving up on it (default `5s`). */
  shutdownTimeout?: Duration;
}

/** A child spec after validation. */
export interface NormalizedDistributedChild {
  readonly id: string;
  readonly behavior: string;
  readonly args: unknown;
  readonly restart: RestartType;
  readonly significant: boolean;
  readonly shutdownTimeoutMs: number;
}

/** Restart strategy of a {@link DistributedSupervisor} (as the local Supervisor's). */
export type DistributedStrategy = 'one_for_one' | 'one_for_all' | 'rest_for_one' | 'simple_one_for_one';

/** Lifecycle of a distributed supervisor, as seen by one node. */
export type DistributedSupervisorState = 'running' | 'leaving' | 'stopped' | 'failed';

/**
 * A record of a supervisor's control log (the topic `sluice.dsup.<name>`). Every node reads the
 * whole log: it is the shared history of the supervisor (children added, placements, exits,
 * terminations, node failures, shutdown). Placements themselves are leases.
 * @internal
 */
export type DsupRecord =
  | { t: 'add'; spec: NormalizedDistributedChild; by: string; at: number }
  | { t: 'terminate'; id: string; by: string; at: number }
  | { t: 'restart'; id: string; by: string; at: number }
  | { t: 'move'; id: string; from: string; at: number }
  | { t: 'unplaceable'; id: string; behavior: string; at: number }
  | {
      t: 'placed';
      id: string;
      node: string;
      incarnation: string;
      token: number;
      reason: PlacementReason;
      from?: string;
      at: number;
    }
  | { t: 'started'; id: string; node: string; token: number; at: number }
  | {
      t: 'exit';
      id: string;
      node: string;
      token: number;
      normal: boolean;
      error?: SerializedError;
      at: number;
    }
  | { t: 'stopped'; id: string; node: string; token: number; reason: StopReason; at: number }
  | { t: 'node_failed'; node: string; incarnation: string; children: number; at: number }
  | { t: 'group_restart'; ids: string[]; cause: string; at: number }
  | { t: 'terminated'; id: string; cause: 'request' | 'exit'; at: number }
  | { t: 'shutdown'; reason: 'stop' | 'max_restarts' | 'auto_shutdown'; at: number }
  | { t: 'generation'; n: number; at: number };

/**
 * Why a child was placed: `start` (first start), `restart` (after it exited or crashed),
 * `migrate` (its node failed), `handover` (its node left gracefully), `group` (restarted with its
 * siblings under `one_for_all`/`rest_for_one`), `request` (`restartChild`), `rebalance` (moved to
 * a node that joined, to spread the load).
 */
export type PlacementReason =
  | 'start'
  | 'restart'
  | 'migrate'
  | 'handover'
  | 'group'
  | 'request'
  | 'rebalance';

/**
 * Why a node stopped a child it was told to stop: its lease was lost or expired (`lease_lost`),
 * the node is leaving, the supervisor shut down, or the leader released the placement on purpose:
 * `restart_requested` (`restartChild`), `rebalance` (moved to another node), `group_restart`
 * (restarted with its siblings), `terminated` (`terminateChild`).
 */
export type StopReason =
  | 'lease_lost'
  | 'node_leaving'
  | 'shutdown'
  | 'restart_requested'
  | 'rebalance'
  | 'group_restart'
  | 'terminated';

/** Lifecycle events of a {@link DistributedSupervisor}, seen on every node (from the control log). */
export type DistributedLifecycleEvent =
  | { type: 'child_started'; id: string; node: string; fencingToken: number; at: number }
  | {
      type: 'child_stopped';
      id: string;
      node: string;
      normal: boolean;
      reason: string;
      error?: SerializedError;
      at: number;
    }
  | { type: 'child_restarted'; id: string; node: string; restarts: number; at: number }
  | { type: 'child_migrated'; id: string; from: string; to: string; at: number }
  | { type: 'child_terminated'; id: string; cause: 'request' | 'exit'; at: number }
  | { type: 'node_failure_detected'; node: string; at: number }
  /** No live node offers the child's behavior: it waits (reported once) until one joins. */
  | { type: 'child_unplaceable'; id: string; behavior: string; code: 'NO_ELIGIBLE_NODE'; at: number }
  | { type: 'max_restarts_exceeded'; at: number }
  | { type: 'supervisor_stopped'; reason: 'stop' | 'max_restarts' | 'auto_shutdown'; at: number }
  | { type: 'error'; during: string; error: unknown; at: number };

/** Counters and placement of a {@link DistributedSupervisor}. */
export interface DistributedSupervisorStats {
  readonly state: DistributedSupervisorState;
  /** The node currently deciding placements (holder of the leader lease), if known. */
  readonly leader: string | undefined;
  /** Live nodes. */
  readonly nodes: readonly string[];
  /** Children known (not terminated). */
  readonly children: number;
  /** Child ids per live node, from the placement leases. */
  readonly childrenByNode: Record<string, string[]>;
  /** Children running on this node. */
  readonly local: readonly string[];
  /** Restarts after an exit or crash. */
  readonly totalRestarts: number;
  /**
   * Node failures that restarted children on other nodes: one per failed node, however many
   * children it carried (as the restart intensity counts it). `migrations` counts the children.
   */
  readonly nodeFailureRestarts: number;
  /** Children moved to another node because theirs failed or left. */
  readonly migrations: number;
  /** Children moved to a less loaded node (re-spreading after nodes joined). */
  readonly rebalances: number;
  /** Node failures detected. */
  readonly nodeFailures: number;
}

/** Re-exported for option types. */
export type { AutoShutdown, RestartIntensity };
