// Lua for the shared limiters: GCRA rate decisions, parks, and concurrency slots with expiry.
/**
 * Lua for limiters. Numbers travel as strings formatted with `%.17g` (Lua's `tostring` keeps only
 * 14 digits, too few for fractional milliseconds since the epoch; integer replies would truncate).
 * `now` always comes from the caller's clock. Key expiries (`PX`) only collect garbage: they are set
 * a minute past the moment the state stops mattering.
 */

/** Reads the park in force from the key's own park and the limiter's park (KEYS[i], KEYS[j]). */
const PARK_END = (i: number, j: number) => `
local park = tonumber(redis.call('GET', KEYS[${i}]) or '0')
local whole = tonumber(redis.call('GET', KEYS[${j}]) or '0')
if whole > park then park = whole end
`;

/**
 * GCRA take. KEYS: bucket, own park, limiter park. ARGV: now, weight × interval,
 * burst × interval, tolerance, lateness kept on schedule. Reply: `{granted 0|1, wait, parked 0|1}`.
 */
export const LIMIT_TAKE = `
local now = tonumber(ARGV[1])
${PARK_END(2, 3)}
if park > now then return {0, string.format('%.17g', park - now), 1} end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat <= now - tonumber(ARGV[5]) then tat = now end
local nxt = tat + tonumber(ARGV[2])
local wait = nxt - now - tonumber(ARGV[3])
if wait <= tonumber(ARGV[4]) then
  redis.call('SET', KEYS[1], string.format('%.17g', nxt), 'PX', string.format('%d', math.ceil(nxt - now) + 60000))
  return {1, '0', 0}
end
return {0, string.format('%.17g', wait), 0}
`;

/** Park. KEYS: park. ARGV: until, now. Reply: the park end in force. */
export const LIMIT_PARK = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local untl = tonumber(ARGV[1])
if cur > untl then untl = cur end
local ttl = math.ceil(untl - tonumber(ARGV[2])) + 60000
if ttl < 60000 then ttl = 60000 end
redis.call('SET', KEYS[1], string.format('%.17g', untl), 'PX', string.format('%d', ttl))
return string.format('%.17g', untl)
`;

/** Drops the expired slots of a semaphore (ZSET KEYS[1] holder → expiry, HASH KEYS[2] holder → weight). */
const DROP_EXPIRED = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[5])
for _, h in ipairs(expired) do redis.call('HDEL', KEYS[2], h) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[5])
`;

/**
 * Slot acquire. KEYS: slots ZSET, weights HASH, own park, limiter park. ARGV: holder, weight,
 * max, ttl, now. Reply: `{granted 0|1, expiresAt | wait, parked 0|1}`.
 */
export const LIMIT_ACQUIRE_SLOT = `
local now = tonumber(ARGV[5])
${PARK_END(3, 4)}
if park > now then return {0, string.format('%.17g', park - now), 1} end
${DROP_EXPIRED}
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local held = 0
for _, w in ipairs(redis.call('HVALS', KEYS[2])) do held = held + tonumber(w) end
if held + tonumber(ARGV[2]) > tonumber(ARGV[3]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = 1
  if first[2] then wait = tonumber(first[2]) - now end
  return {0, string.format('%.17g', wait), 0}
end
local exp = now + tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], string.format('%.17g', exp), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return {1, string.format('%.17g', exp), 0}
`;

/** Slot renew. KEYS: slots, weights. ARGV: holder, now, new expiry. Reply: the expiry, or false when lost. */
export const LIMIT_RENEW_SLOT = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return false end
if tonumber(score) <= tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return false
end
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return ARGV[3]
`;

/** Slot release. KEYS: slots, weights. ARGV: holder. Reply: 1 released, 0 not held. */
export const LIMIT_RELEASE_SLOT = `
local n = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return n
`;

/** Held weight. KEYS: slots, weights. ARGV: now. Reply: the total weight of unexpired slots. */
export const LIMIT_HELD_SLOTS = `
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')
local held = 0
for _, h in ipairs(live) do held = held + tonumber(redis.call('HGET', KEYS[2], h) or '0') end
return string.format('%.17g', held)
`;
