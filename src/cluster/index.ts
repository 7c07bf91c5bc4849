// Public exports of the cluster layer: partitioned runners and their fleet, membership, the DistributedSupervisor.
/**
 * Cluster: membership, partitioned runners sharing a topic through backend leases, and the
 * DistributedSupervisor.
 * @packageDocumentation
 */

export * from './runner/balancedStickyAssignment.ts';
export { defineRunner, type RunnerDefinition } from './runner/defineRunner.ts';
export { type DesiredReplicasRecord, setDesiredReplicas } from './runner/desiredReplicas.ts';
export {
  FLEET_PRESENCE_TIMEOUT_MS,
  type FleetPresenceMeta,
  fleetMemberPrefix,
  servingFleets,
} from './runner/fleetPresence.ts';
export type { RunnerFence } from './runner/LeaseGuard.ts';
export {
  PartitionedRunner,
  partitionedRunner,
  type Runner,
  type RunnerStats,
} from './runner/PartitionedRunner.ts';
export type { PartitionLossReason, PartitionWorkerState } from './runner/PartitionWorker.ts';
export { RunnerFleet, type RunnerFleetEvents, type RunnerFleetOptions } from './runner/RunnerFleet.ts';
export type * from './runner/runnerEvents.ts';
export type { RunnerLimitOptions } from './runner/runnerGate.ts';
export type {
  FixedPartitioning,
  PartitionedRunnerOptions,
  RunnerBatchHandler,
  RunnerEventContext,
  RunnerEventHandler,
  RunnerHandlerContext,
} from './runner/runnerOptions.ts';
export { type RunnerReadiness, runnerReadiness } from './runner/runnerReadiness.ts';
export * from './supervisor/BehaviorRegistry.ts';
export {
  Cluster,
  type ClusterEvents,
  type ClusterMember,
  type ClusterOptions,
  type ClusterState,
} from './supervisor/Cluster.ts';
export { type DistributedChildInfo, DistributedSupervisor } from './supervisor/DistributedSupervisor.ts';
export { defineSupervisorNode, type SupervisorNodeDefinition } from './supervisor/defineSupervisorNode.ts';
export type { DistributedSupervisorOptions } from './supervisor/dsupOptions.ts';
export type {
  DistributedChildSpec,
  DistributedLifecycleEvent,
  DistributedStrategy,
  DistributedSupervisorState,
  DistributedSupervisorStats,
  PlacementReason,
  StopReason,
} from './supervisor/dsupTypes.ts';
export type {
  NodeLoad,
  NodeSelector,
  NodeSelectorContext,
  NodeSelectorFn,
} from './supervisor/nodeSelectors.ts';
export {
  type ReadinessSource,
  type SupervisorReadiness,
  supervisorReadiness,
} from './supervisor/supervisorReadiness.ts';
