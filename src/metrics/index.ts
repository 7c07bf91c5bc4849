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
export {
  type CreateLoggerOptions,
  createLogger,
  logPipelineEvents,
  logSupervisorEvents,
  type SupervisorEventSource,
} from './logger.ts';
export { metricsHandler } from './metricsHandler.ts';
export {
  type InstrumentablePipeline,
  instrumentPipeline,
  type PipelineMetrics,
  type PipelineMetricsOptions,
  pipelineMetrics,
} from './pipelineMetrics.ts';
