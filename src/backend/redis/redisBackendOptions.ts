// Options of the Redis backend (one server or a Redis Cluster) and their validation.
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { z } from 'zod';
import type { Clock } from '../../core/Clock.ts';
import { configError } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import type { RedisClusterNode, RedisConnectionOptions } from './RedisConnection.ts';

/** Options of {@link RedisBackend}. */
export interface RedisBackendOptions {
  /** Connection URL, e.g. `redis://127.0.0.1:6379/0` (`rediss://` for TLS). Not with `cluster`. */
  url?: string;
  /**
   * ioredis options (host, port, password, db, tls, ...), applied over the backend's defaults
   * ({@link DEFAULT_REDIS_OPTIONS}); with `url`, the URL's settings win. With `cluster`, the
   * options of every node connection.
   */
  redis?: RedisOptions;
  /**
   * Startup nodes of a Redis Cluster (any few of its nodes; the rest are discovered). The
   * backend then uses the cluster key layout (hash tags: one slot per topic plus one for the
   * control keys), see `docs/redis.md`.
   */
  cluster?: readonly RedisClusterNode[];
  /** ioredis cluster options over {@link DEFAULT_CLUSTER_OPTIONS} (only with `cluster`). */
  clusterOptions?: ClusterOptions;
  /** Prefix of every key (`${prefix}:...`). Default `"sluice"`. Use one prefix per application. */
  prefix?: string;
  /** The time source for timestamps, lease expiry and heartbeats. Default `systemClock`. */
  clock?: Clock;
  /**
   * Deadline of every backend call in ms: the call (all its commands, a wait while reconnecting)
   * answers or rejects with `BACKEND_UNAVAILABLE` within it. Also ioredis' `commandTimeout`
   * unless `redis.commandTimeout` is given. Default 10000.
   */
  callTimeoutMs?: number;
}

const nodeSchema = z.object({
  host: z.string().min(1, 'a non-empty host name'),
  port: z
    .number()
    .int('an integer port')
    .min(1, 'a port from 1 to 65535')
    .max(65535, 'a port from 1 to 65535'),
});

const optionsSchema = z.object({
  url: z.string().min(1, 'a non-empty Redis URL').optional(),
  redis: z.record(z.string(), z.unknown(), 'an object of ioredis options').optional(),
  cluster: z.array(nodeSchema, 'an array of {host, port}').min(1, 'at least one node').optional(),
  clusterOptions: z.record(z.string(), z.unknown(), 'an object of ioredis cluster options').optional(),
  prefix: z.string().min(1, 'a non-empty string').optional(),
  callTimeoutMs: z.number('an integer >= 1').int('an integer >= 1').min(1, 'an integer >= 1').optional(),
  clock: z
    .custom<Clock>(
      (v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function',
      'a Clock (an object with now())',
    )
    .optional(),
});

/** Validated options: the connection settings, the clock (if given) and the prefix. */
export interface ParsedRedisOptions {
  readonly connection: RedisConnectionOptions;
  readonly clock: Clock | undefined;
  readonly prefix: string;
}

/** Validates {@link RedisBackendOptions}; `CONFIG_INVALID` naming the field otherwise. */
export function parseRedisOptions(options: RedisBackendOptions): ParsedRedisOptions {
  const opts = validate(optionsSchema, options, 'RedisBackend');
  if (opts.url !== undefined && opts.cluster !== undefined) {
    throw configError('RedisBackend.cluster', 'absent when `url` is given (one or the other)', opts.cluster);
  }
  if (opts.clusterOptions !== undefined && opts.cluster === undefined) {
    throw configError('RedisBackend.clusterOptions', 'given only with `cluster`', opts.clusterOptions);
  }
  const prefix = opts.prefix ?? 'sluice';
  return {
    prefix,
    clock: opts.clock,
    connection: {
      url: opts.url,
      redis: opts.redis as RedisOptions | undefined,
      cluster: opts.cluster,
      clusterOptions: opts.clusterOptions as ClusterOptions | undefined,
      callTimeoutMs: opts.callTimeoutMs,
      prefix,
    },
  };
}
