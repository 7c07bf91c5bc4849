// Public exports of observability: prom-client metrics on your registry and pino logging.
/**
 * Observability: Prometheus metrics (prom-client, on a registry you own) and structured logs (pino).
 * @packageDocumentation
 */
export {
  type BackendMetricsOptions,
  collectBackendMetrics,
  type GroupTopics,
  type PartitionLag,
  partitionLags,
} from './backendMetrics.ts';
export {
  type BreakerMetricsOptions,
  type InstrumentableBreaker,
  instrumentBreaker,
} from './breakerMetrics.ts';
export { type LeaseObserver, type ObserveLeasesOptions, observeLeases } from './leaseObserver.ts';
export {
  type InstrumentableLimiter,
  instrumentLimiter,
  type LimiterMetricsOptions,
} from './limiterMetrics.ts';
export {
  type CreateLoggerOptions,
  createLogger,
  logPipelineEvents,
  logSupervisorEvents,
  type SupervisorEventSource,
} from './logger.ts';
export { metricsHandler } from './metricsHandler.ts';
export { type OpsServer, type OpsServerOptions, type Readiness, startOpsServer } from './opsServer.ts';
export {
  type InstrumentablePipeline,
  instrumentPipeline,
  type PipelineMetrics,
  type PipelineMetricsOptions,
  pipelineMetrics,
} from './pipelineMetrics.ts';
export {
  RUNNER_METRIC_NAMES,
  type RunnerMetrics,
  type RunnerMetricsOptions,
  runnerMetrics,
} from './runnerMetrics.ts';
export {
  type InstrumentableDistributedSupervisor,
  instrumentDistributedSupervisor,
  SUPERVISOR_METRIC_NAMES,
  type SupervisorMetricsOptions,
} from './supervisorMetrics.ts';
