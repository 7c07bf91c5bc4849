// deleteRedisPrefix: removes every key of one backend prefix (test teardown, deleting an application's data).
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { configError } from '../../core/errors.ts';
import { checkName } from '../common/args.ts';
import { globEscape } from './keys.ts';
import type { RedisClusterNode } from './RedisConnection.ts';

/** Options of {@link deleteRedisPrefix}. */
export interface DeleteRedisPrefixOptions {
  /** Connection URL; or pass `redis`, `cluster` or `client`. */
  url?: string;
  /** ioredis options. */
  redis?: RedisOptions;
  /** Startup nodes of a Redis Cluster: the keys are deleted on every master. */
  cluster?: readonly RedisClusterNode[];
  /** An existing connection (one server or a cluster) to use (not closed). */
  client?: Redis | Cluster;
  /** The backend prefix whose keys are deleted. */
  prefix: string;
}

/**
 * Deletes every key a backend with `prefix` stored (`SCAN MATCH prefix:*` then `UNLINK`, on
 * every master of a cluster), and nothing else — never `FLUSHDB`. For test teardown and for
 * removing an application's data. Returns the number of keys deleted.
 *
 * @example
 * ```ts
 * await deleteRedisPrefix({ url: 'redis://127.0.0.1:6379', prefix: 'test-run-42' });
 * ```
 */
export async function deleteRedisPrefix(options: DeleteRedisPrefixOptions): Promise<number> {
  const prefix = checkName('prefix', options.prefix);
  if (options.url !== undefined && options.cluster !== undefined) {
    throw configError('deleteRedisPrefix.cluster', 'absent when `url` is given', options.cluster);
  }
  const client = options.client ?? open(options);
  try {
    const nodes = client instanceof Cluster ? await masters(client) : [client];
    let deleted = 0;
    for (const node of nodes) deleted += await deleteOn(node, prefix, client instanceof Cluster);
    return deleted;
  } finally {
    if (options.client === undefined) client.disconnect();
  }
}

function open(options: DeleteRedisPrefixOptions): Redis | Cluster {
  if (options.cluster !== undefined) {
    return new Cluster(
      options.cluster.map((n) => ({ host: n.host, port: n.port })),
      { redisOptions: { maxRetriesPerRequest: 1, ...options.redis } },
    );
  }
  return options.url === undefined
    ? new Redis({ maxRetriesPerRequest: 1, ...options.redis })
    : new Redis(options.url, { maxRetriesPerRequest: 1, ...options.redis });
}

/** The master connections of a cluster, once its slot map is known. */
async function masters(cluster: Cluster): Promise<Redis[]> {
  if (cluster.status !== 'ready') await cluster.ping();
  return cluster.nodes('master');
}

/** Deletes the prefix's keys held by one server. On a cluster node, one key per UNLINK (each its own slot). */
async function deleteOn(node: Redis, prefix: string, perKey: boolean): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', `${globEscape(prefix)}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    if (!perKey) {
      deleted += await node.unlink(...keys);
      continue;
    }
    const counts = await Promise.all(keys.map((key) => node.unlink(key)));
    deleted += counts.reduce((a, b) => a + b, 0);
  } while (cursor !== '0');
  return deleted;
}
