/**
 * Sluice: partitioned, supervised, parallel processing of jobs and event streams.
 * @packageDocumentation
 */
export * from './backend/index.ts';
export * from './cluster/index.ts';
export * from './core/index.ts';
export * from './dashboard/index.ts';
export * from './dlq/index.ts';
export * from './metrics/index.ts';
export * from './partition/index.ts';
export * from './patterns/index.ts';
export * from './pipeline/index.ts';
export * from './pool/index.ts';
export * from './resilience/index.ts';
export * from './supervision/index.ts';
