/**
 * Cluster: partitioned runners sharing a topic through backend leases and membership.
 * @packageDocumentation
 */
export * from './balancedStickyAssignment.ts';
export { defineRunner, type RunnerDefinition } from './defineRunner.ts';
export {
  DesiredReplicasReader,
  type DesiredReplicasRecord,
  fleetName,
  SCALE_TOPIC,
  setDesiredReplicas,
} from './desiredReplicas.ts';
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
