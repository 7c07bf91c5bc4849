// Public exports of the memory backend.
/** @packageDocumentation */
export {
  createMemoryBackend,
  MemoryBackend,
  type MemoryBackendOptions,
  type MemoryBackendState,
} from './MemoryBackend.ts';
