/**
 * The web dashboard and the status model it shares with `sluice status`.
 * @packageDocumentation
 */
export { TOKEN_COOKIE } from './auth.ts';
export {
  type CollectStatusOptions,
  collectStatus,
  type GroupPartitionStatus,
  parsePartitionLease,
  type StatusSnapshot,
  type TopicPartitionStatus,
} from './collectStatus.ts';
export {
  type BreakerStatus,
  breakerSource,
  type PipelineLike,
  type PipelineStatus,
  pipelineSource,
  type RunnerLike,
  runnerSource,
  type StatusSource,
  type SupervisionNode,
  type SupervisorLike,
  supervisorSource,
} from './StatusSource.ts';
export { type Dashboard, type DashboardOptions, startDashboard } from './startDashboard.ts';
