// Public exports of the core layer: Clock, durations, errors and the partition hash.
/**
 * Core: time (`Clock`), durations, errors and the partition hash — the public part of the
 * lowest layer. Helpers such as `Deque`, `validate` or `TypedEmitter` stay internal.
 * @packageDocumentation
 */
export { type Clock, systemClock, type Timer } from './Clock.ts';
export { type Duration, type DurationUnit, parseDuration } from './duration.ts';
export {
  deserializeError,
  isSluiceError,
  isUnrecoverable,
  type SerializedError,
  SluiceError,
  type SluiceErrorCode,
  type SluiceErrorOptions,
  serializeError,
  UnrecoverableError,
} from './errors.ts';
export { DEFAULT_PARTITIONS, murmur3, partitionForKey } from './hash.ts';
