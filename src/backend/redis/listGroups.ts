// Lists the consumer groups of a Redis backend: one offsets hash per group, found with SCAN (on every master of a cluster).
import type { GroupTopic } from '../Backend.ts';
import { sortGroups } from '../common/listing.ts';
import { globEscape } from './keys.ts';
import type { RedisConnection } from './RedisConnection.ts';

/** Every (group, topic) with a committed offset: SCAN for the offsets hashes, HKEYS of each. */
export async function listRedisGroups(conn: RedisConnection): Promise<GroupTopic[]> {
  const head = conn.keys.offsets('');
  const pairs = new Map<string, GroupTopic>();
  for (const key of await conn.scanKeys(`${globEscape(head)}*`)) {
    const group = key.slice(head.length);
    for (const field of await conn.client.hkeys(key)) {
      const topic = field.slice(0, field.lastIndexOf('\u0000'));
      pairs.set(`${group}\u0000${topic}`, { group, topic });
    }
  }
  return sortGroups(pairs.values());
}
