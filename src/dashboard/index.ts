// Public exports of the dashboard: startDashboard and the status model shared with `sluice status`.
/**
 * The web dashboard and the status model it shares with `sluice status`.
 * @packageDocumentation
 */
export {
  type CollectStatusOptions,
  collectStatus,
  type GroupPartitionStatus,
  type StatusSnapshot,
  type TopicPartitionStatus,
} from './collectStatus.ts';
export {
  type BreakerStatus,
  breakerSource,
  type HotKeyStatus,
  type KeyStatus,
  type PipelineLike,
  type PipelineStatus,
  pipelineSource,
  type RunnerLike,
  runnerSource,
  type ScheduledStatus,
  type StatusSource,
  type SupervisionNode,
  type SupervisorLike,
  supervisorSource,
} from './StatusSource.ts';
export { type Dashboard, type DashboardOptions, startDashboard } from './startDashboard.ts';
