/** @packageDocumentation */
export * from './DeadLetterQueue.ts';
