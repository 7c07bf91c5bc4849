// Public exports of supervision: Supervisor, child factories and supervision config.
/**
 * Erlang/OTP-style supervision of local children (async functions, worker threads, processes,
 * nested supervisors).
 * @packageDocumentation
 */
export { type AsyncChildContext, childFromAsync } from './childFromAsync.ts';
export { childFromProcess, type ProcessChildOptions } from './childFromProcess.ts';
export { childFromWorker, type WorkerChildOptions } from './childFromWorker.ts';
export {
  type CircuitBreakerConfigInput,
  type HealthCheckConfigInput,
  loadSupervisionConfig,
  parseSupervisionConfig,
  type SupervisionConfig,
  type SupervisionConfigInput,
  toSupervisorOptions,
} from './config.ts';
export { Supervisor, type SupervisorListeners, type SupervisorStartOptions } from './Supervisor.ts';
export { type SupervisorChildOptions, supervisorChild } from './supervisorChild.ts';
export type * from './types.ts';
