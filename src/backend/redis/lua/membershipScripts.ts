// Lua for Redis membership: heartbeat (join on first), list live members, leave.
/** Lua for membership: a ZSET node → last heartbeat plus hashes of meta and join time. */

/**
 * KEYS: members, meta, joined. ARGV: node, now, hasMeta '1'|'0', meta JSON.
 * A first heartbeat (or the first after `leave`) joins with `joinedAt = now` and meta `{}`
 * unless meta is given.
 */
export const HEARTBEAT = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
  if ARGV[3] ~= '1' then redis.call('HSET', KEYS[2], ARGV[1], '{}') end
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if ARGV[3] == '1' then redis.call('HSET', KEYS[2], ARGV[1], ARGV[4]) end
return 1
`;

/**
 * KEYS: members, meta, joined. ARGV: oldest heartbeat still alive.
 * Reply: flat `{node, lastHeartbeat, meta, joinedAt, ...}`.
 */
export const MEMBERS = `
local rows = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf', 'WITHSCORES')
local out = {}
for i = 1, #rows, 2 do
  local node = rows[i]
  out[#out + 1] = node
  out[#out + 1] = rows[i + 1]
  out[#out + 1] = redis.call('HGET', KEYS[2], node) or '{}'
  out[#out + 1] = redis.call('HGET', KEYS[3], node) or rows[i + 1]
end
return out
`;

/** KEYS: members, meta, joined. ARGV: node. */
export const LEAVE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
`;
