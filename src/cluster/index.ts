/**
 * Cluster: membership, partitioned runners sharing a topic through backend leases, and the
 * DistributedSupervisor.
 * @packageDocumentation
 */

export * from './BehaviorRegistry.ts';
export * from './balancedStickyAssignment.ts';
export * from './Cluster.ts';
export { type DistributedChildInfo, DistributedSupervisor } from './DistributedSupervisor.ts';
export { defineRunner, type RunnerDefinition } from './defineRunner.ts';
export {
  DesiredReplicasReader,
  type DesiredReplicasRecord,
  fleetName,
  SCALE_TOPIC,
  setDesiredReplicas,
} from './desiredReplicas.ts';
export type { DistributedSupervisorOptions } from './dsupOptions.ts';
export type {
  DistributedChildSpec,
  DistributedLifecycleEvent,
  DistributedStrategy,
  DistributedSupervisorState,
  DistributedSupervisorStats,
  PlacementReason,
  StopReason,
} from './dsupTypes.ts';
export * from './nodeSelectors.ts';
export {
  PartitionedRunner,
  partitionedRunner,
  partitionLeaseName,
  type Runner,
  type RunnerStats,
  runnerMemberPrefix,
} from './PartitionedRunner.ts';
export type { PartitionLossReason, PartitionWorkerState } from './PartitionWorker.ts';
export { RunnerFleet, type RunnerFleetEvents, type RunnerFleetOptions } from './RunnerFleet.ts';
export type * from './runnerEvents.ts';
export type {
  FixedPartitioning,
  PartitionedRunnerOptions,
  RunnerBatchHandler,
  RunnerEventContext,
  RunnerEventHandler,
  RunnerHandlerContext,
} from './runnerOptions.ts';
