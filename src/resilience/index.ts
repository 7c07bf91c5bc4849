/** @packageDocumentation */
export type { Backoff } from './Backoff.ts';
export * from './backoffFactories.ts';
export * from './CircuitBreaker.ts';
export * from './HealthCheck.ts';
export * from './retry.ts';
export * from './timeout.ts';
