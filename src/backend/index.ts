/** @packageDocumentation */
export * from './Backend.ts';
export * from './memory/index.ts';
