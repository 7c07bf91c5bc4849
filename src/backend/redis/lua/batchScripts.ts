// Lua for the batched calls: readMany, acquireMany and renewMany in one script each.
/**
 * Lua for the batched calls: reading many partitions, acquiring and renewing many leases, each
 * in one script. Same rules as the single-item scripts (`logScripts`, `leaseScripts`).
 */

/**
 * KEYS: topics, next, then the log of each requested partition. ARGV: topic, limit, then
 * partition and fromOffset of each request. Reply: `{-1}` (no topic), `{-2, partitions}` (a
 * partition out of range) or `{0, events of request 1, events of request 2, ...}`.
 */
export const READ_MANY = `
local parts = redis.call('HGET', KEYS[1], ARGV[1])
if not parts then return {-1} end
parts = tonumber(parts)
local n = #KEYS - 2
local limit = tonumber(ARGV[2])
for i = 1, n do
  if tonumber(ARGV[1 + 2 * i]) >= parts then return {-2, parts} end
end
local nexts = {}
for lo = 1, n, 1000 do
  local fields = {}
  for i = lo, math.min(n, lo + 999) do fields[#fields + 1] = ARGV[1 + 2 * i] end
  local vals = redis.call('HMGET', KEYS[2], unpack(fields))
  for j = 1, #fields do nexts[lo + j - 1] = tonumber(vals[j] or '0') end
end
local out = {0}
for i = 1, n do
  local events = {}
  local o = tonumber(ARGV[2 + 2 * i])
  local last = math.min(nexts[i], o + limit) - 1
  while o <= last do
    local hi = math.min(last, o + 499)
    local fields = {}
    for f = o, hi do fields[#fields + 1] = tostring(f) end
    local vals = redis.call('HMGET', KEYS[2 + i], unpack(fields))
    for j = 1, #vals do events[#events + 1] = vals[j] end
    o = hi + 1
  end
  out[#out + 1] = events
end
return out
`;

/**
 * KEYS: lease index, then lease and fence counter of each name. ARGV: now, exp, then owner and
 * name of each request. Reply: per request the token (a string) or 0 when another owner holds it.
 */
export const LEASE_ACQUIRE_MANY = `
local out = {}
for i = 1, (#KEYS - 1) / 2 do
  local lk, fk = KEYS[2 * i], KEYS[2 * i + 1]
  local owner, name = ARGV[2 * i + 1], ARGV[2 * i + 2]
  local l = redis.call('HMGET', lk, 'owner', 'token', 'exp')
  if l[2] and l[1] == owner then
    redis.call('HSET', lk, 'exp', ARGV[2])
    out[i] = l[2]
  elseif l[2] and l[1] ~= '' and tonumber(ARGV[1]) < tonumber(l[3]) then
    out[i] = 0
  else
    local t = tostring(redis.call('INCR', fk))
    redis.call('HSET', lk, 'owner', owner, 'token', t, 'exp', ARGV[2])
    redis.call('ZADD', KEYS[1], 0, name)
    out[i] = t
  end
end
return out
`;

/** KEYS: the leases. ARGV: exp, then owner and token of each. Reply: per lease 1 renewed, 0 lost. */
export const LEASE_RENEW_MANY = `
local out = {}
for i = 1, #KEYS do
  local l = redis.call('HMGET', KEYS[i], 'owner', 'token')
  if not l[1] or l[1] == '' or l[1] ~= ARGV[2 * i] or l[2] ~= ARGV[2 * i + 1] then
    out[i] = 0
  else
    redis.call('HSET', KEYS[i], 'exp', ARGV[1])
    out[i] = 1
  end
end
return out
`;
