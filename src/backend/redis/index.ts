// Public exports of the Redis backend (`sluice/redis`).
/**
 * The Redis backend (one server or a Redis Cluster): `import { createRedisBackend } from 'sluice/redis'`.
 * @packageDocumentation
 */
export { type DeleteRedisPrefixOptions, deleteRedisPrefix } from './admin.ts';
export { createRedisBackend, RedisBackend, type RedisBackendOptions } from './RedisBackend.ts';
export {
  DEFAULT_CLUSTER_OPTIONS,
  DEFAULT_REDIS_OPTIONS,
  type RedisBackendState,
  type RedisClusterNode,
} from './RedisConnection.ts';
export { isConnectionError } from './redisErrors.ts';
