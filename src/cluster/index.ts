/**
 * Cluster: partitioned runners sharing a topic through backend leases and membership.
 * @packageDocumentation
 */
export * from './balancedStickyAssignment.ts';
export {
  PartitionedRunner,
  partitionedRunner,
  partitionLeaseName,
  type Runner,
  type RunnerStats,
  runnerMemberPrefix,
} from './PartitionedRunner.ts';
export type { PartitionLossReason, PartitionWorkerState } from './PartitionWorker.ts';
export type * from './runnerEvents.ts';
export type {
  FixedPartitioning,
  PartitionedRunnerOptions,
  RunnerBatchHandler,
  RunnerEventContext,
  RunnerEventHandler,
  RunnerHandlerContext,
} from './runnerOptions.ts';
