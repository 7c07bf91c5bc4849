/**
 * Sluice: partitioned, supervised, parallel processing of jobs and event streams.
 * @packageDocumentation
 */
export * from './core/index.ts';
