// Public exports of the dead-letter queue layer.
/** @packageDocumentation */
export * from './DeadLetterQueue.ts';
