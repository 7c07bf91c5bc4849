import { Redis, type RedisOptions } from 'ioredis';
import { checkName } from '../common/args.ts';
import { globEscape } from './keys.ts';

/** Options of {@link deleteRedisPrefix}. */
export interface DeleteRedisPrefixOptions {
  /** Connection URL; or pass `redis`. */
  url?: string;
  /** ioredis options. */
  redis?: RedisOptions;
  /** An existing connection to use (not closed). */
  client?: Redis;
  /** The backend prefix whose keys are deleted. */
  prefix: string;
}

/**
 * Deletes every key a backend with `prefix` stored (`SCAN MATCH prefix:*` then `UNLINK`), and
 * nothing else — never `FLUSHDB`. For test teardown and for removing an application's data.
 * Returns the number of keys deleted.
 *
 * @example
 * ```ts
 * await deleteRedisPrefix({ url: 'redis://127.0.0.1:6379', prefix: 'test-run-42' });
 * ```
 */
export async function deleteRedisPrefix(options: DeleteRedisPrefixOptions): Promise<number> {
  const prefix = checkName('prefix', options.prefix);
  const client =
    options.client ??
    (options.url === undefined
      ? new Redis({ maxRetriesPerRequest: 1, ...options.redis })
      : new Redis(options.url, { maxRetriesPerRequest: 1, ...options.redis }));
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${globEscape(prefix)}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await client.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    if (options.client === undefined) client.disconnect();
  }
}
