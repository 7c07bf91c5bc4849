/** @packageDocumentation */
export * from './Backend.ts';
