// Public exports of the backend layer: the contract, the retention trimmer and the memory backend.
/** @packageDocumentation */
export * from './Backend.ts';
export {
  createTrimmer,
  RetentionTrimmer,
  type TrimmerOptions,
  type TrimmerState,
} from './common/RetentionTrimmer.ts';
export * from './memory/index.ts';
