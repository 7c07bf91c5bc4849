/** @packageDocumentation */
export type { Backoff } from './Backoff.ts';
