// Lua for the batched reads: readMany in one script.
/**
 * Lua for the batched reads: many partitions in one script. Same rules as the single-partition
 * read of `logScripts`. (The batched lease scripts are in `leaseScripts`.)
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
for lo = 1, n, 4000 do
  local fields = {}
  for i = lo, math.min(n, lo + 3999) do fields[#fields + 1] = ARGV[1 + 2 * i] end
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
