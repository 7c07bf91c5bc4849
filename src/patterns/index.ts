// Public exports of the distributed patterns: locks, sagas, projections, graceful shutdown, health server.
/**
 * Distributed patterns built only on the backend contract, so they run on every backend:
 * locks, sagas, projections, graceful shutdown and health endpoints.
 * @packageDocumentation
 */

export {
  type CheckResult,
  type HealthServer,
  type HealthServerOptions,
  type ReadinessCheck,
  startHealthServer,
} from './health/startHealthServer.ts';
export { type AcquireOptions, DistributedLock, type DistributedLockOptions } from './lock/DistributedLock.ts';
export { LockHandle, type LockState } from './lock/LockHandle.ts';
export { defineProjection, Projection, type ProjectionDefinition } from './projection/Projection.ts';
export {
  defineSaga,
  type ExecuteOptions,
  type RecoverOptions,
  type RecoveryResult,
  Saga,
  type SagaCompensationContext,
  type SagaDefinition,
  type SagaOutcome,
  type SagaRecoveryProgress,
  type SagaStep,
  type SagaStepContext,
} from './saga/Saga.ts';
export type { SagaEvent, SagaState, SagaStatus } from './saga/sagaState.ts';
export {
  type Closeable,
  onShutdown,
  type ShutdownHandle,
  type ShutdownOptions,
  type ShutdownState,
} from './shutdown/onShutdown.ts';
