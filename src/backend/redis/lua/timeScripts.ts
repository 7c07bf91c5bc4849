// Lua for delayed events and schedules. Times always come from the caller's clock as arguments.

/**
 * Adds delayed events. KEYS: due ZSET, data HASH, ids HASH, seq counter, counts HASH.
 * ARGV: topic, then triples (id, deliverAt, encoded entry). A member is the zero-padded add
 * sequence, so members of equal due time sort in add order. Ids already waiting are skipped.
 */
export const DELAYED_ADD = `
local topic = ARGV[1]
for i = 2, #ARGV, 3 do
  local ref = topic .. '\\0' .. ARGV[i]
  if redis.call('HEXISTS', KEYS[3], ref) == 0 then
    local seq = redis.call('INCR', KEYS[4])
    local member = string.format('%016d', seq)
    redis.call('ZADD', KEYS[1], ARGV[i + 1], member)
    redis.call('HSET', KEYS[2], member, ARGV[i + 2])
    redis.call('HSET', KEYS[3], ref, member)
    redis.call('HINCRBY', KEYS[5], topic, 1)
  end
end
return 1
`;

/**
 * Lists due events. KEYS: due ZSET, data HASH. ARGV: now, limit. Reply: encoded entries in due
 * order (then add order).
 */
export const DELAYED_DUE = `
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #members == 0 then return {} end
return redis.call('HMGET', KEYS[2], unpack(members))
`;

/**
 * Removes events. KEYS: due ZSET, data HASH, ids HASH, counts HASH. ARGV: pairs (topic, id).
 * Reply: how many were removed.
 */
export const DELAYED_REMOVE = `
local n = 0
for i = 1, #ARGV, 2 do
  local ref = ARGV[i] .. '\\0' .. ARGV[i + 1]
  local member = redis.call('HGET', KEYS[3], ref)
  if member then
    redis.call('ZREM', KEYS[1], member)
    redis.call('HDEL', KEYS[2], member)
    redis.call('HDEL', KEYS[3], ref)
    if redis.call('HINCRBY', KEYS[4], ARGV[i], -1) <= 0 then redis.call('HDEL', KEYS[4], ARGV[i]) end
    n = n + 1
  end
end
return n
`;

/**
 * Stores a schedule. KEYS: spec, topic, created HASHes. ARGV: name, spec JSON, topic, now.
 * Reply: {created at, paused, last tick} (the last two as stored, '' when absent).
 * KEYS[4], KEYS[5]: paused and last HASHes.
 */
export const SCHEDULE_PUT = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('HSETNX', KEYS[3], ARGV[1], ARGV[4])
return {redis.call('HGET', KEYS[3], ARGV[1]), redis.call('HGET', KEYS[4], ARGV[1]) or '', redis.call('HGET', KEYS[5], ARGV[1]) or ''}
`;

/** Sets a field of an existing schedule. KEYS: spec HASH, target HASH. ARGV: name, value, mode ('set' | 'max' | 'del'). */
export const SCHEDULE_SET = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if ARGV[3] == 'del' then
  redis.call('HDEL', KEYS[2], ARGV[1])
elseif ARGV[3] == 'max' then
  local old = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '-1')
  if tonumber(ARGV[2]) > old then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
else
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
return 1
`;

/** Removes a schedule. KEYS: spec, topic, created, paused, last HASHes. ARGV: name. Reply: 1 when it existed. */
export const SCHEDULE_REMOVE = `
local n = redis.call('HDEL', KEYS[1], ARGV[1])
for i = 2, #KEYS do redis.call('HDEL', KEYS[i], ARGV[1]) end
return n
`;
