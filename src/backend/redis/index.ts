/**
 * The Redis backend: `import { createRedisBackend } from 'sluice/redis'`.
 * @packageDocumentation
 */
export { type DeleteRedisPrefixOptions, deleteRedisPrefix } from './admin.ts';
export { createRedisBackend, RedisBackend, type RedisBackendOptions } from './RedisBackend.ts';
export { DEFAULT_REDIS_OPTIONS, type RedisBackendState } from './RedisConnection.ts';
export { isConnectionError } from './redisErrors.ts';
