// The curated root export of `sluice`: what users call, folder by folder.
/**
 * Sluice: partitioned, supervised, parallel processing of jobs and event streams.
 * @packageDocumentation
 */
export * from './backend/index.ts';
export * from './cluster/index.ts';
export * from './core/index.ts';
export {
  isRateLimited,
  RateLimitedError,
  type RateLimitedErrorOptions,
} from './core/rateLimited.ts';
export * from './dashboard/index.ts';
export * from './dlq/index.ts';
export * from './flow/index.ts';
export * from './metrics/index.ts';
export * from './partition/index.ts';
export * from './patterns/index.ts';
export * from './pipeline/index.ts';
export * from './pool/index.ts';
export * from './resilience/index.ts';
export * from './supervision/index.ts';
export * from './telemetry/index.ts';
export * from './time/index.ts';
