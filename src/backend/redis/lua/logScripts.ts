// Lua for the Redis event log: ensure topic, append with dense offsets and id index, read, commit with fence.
import { LEASE_HELD } from './leaseScripts.ts';

/**
 * Lua for the event log. Offsets are dense because only these scripts write a partition: the
 * counter (`HINCRBY next partition 1`), the event (`HSET log offset event`) and the id index
 * (`HSET ids id "partition:offset"`) change together in one script. Replies start with a
 * status: `0` ok, `-1` topic missing, `-2` partition count differs from the caller's
 * (followed by the real count).
 */

/** Shared Lua: topic check, batch append and the wake-up publish. */
export const APPEND_CORE = `
local function check_topic(topicsKey, topic, expected)
  local parts = redis.call('HGET', topicsKey, topic)
  if not parts then return {-1} end
  if parts ~= expected then return {-2, tonumber(parts)} end
  return nil
end

-- Appends n events read from ARGV starting at index a, 4 values each:
-- id, partition, index in KEYS of the partition's log hash, encoded event.
-- touched.fresh lists the events appended ({partition, offset, encoded}), touched.bytes their size.
local function append_events(idsKey, nextKey, a, n, touched, out)
  touched.fresh = touched.fresh or {}
  touched.bytes = touched.bytes or 0
  for i = 1, n do
    local id = ARGV[a]
    local seen = redis.call('HGET', idsKey, id)
    if seen then
      out[#out + 1] = seen
    else
      local p = ARGV[a + 1]
      local off = tostring(redis.call('HINCRBY', nextKey, p, 1) - 1)
      redis.call('HSET', KEYS[tonumber(ARGV[a + 2])], off, ARGV[a + 3])
      local pos = p .. ':' .. off
      redis.call('HSET', idsKey, id, pos)
      out[#out + 1] = pos
      touched[p] = true
      touched.fresh[#touched.fresh + 1] = {p, off, ARGV[a + 3]}
      touched.bytes = touched.bytes + #ARGV[a + 3]
    end
    a = a + 4
  end
end

-- Publishes the touched partitions ("2,5"). When the new events are small (8 KB in all at most)
-- a comma, a newline and a JSON list of {partition, offset, encoded} follow, so a waiting reader
-- can take them without reading (readers that only parse the partitions see extra non-numbers).
local function announce(channel, touched)
  local list = {}
  for p, v in pairs(touched) do
    if v == true then list[#list + 1] = p end
  end
  if #list == 0 then return end
  local msg = table.concat(list, ',')
  if touched.bytes ~= nil and touched.bytes <= 8192 then
    msg = msg .. ',\\n' .. cjson.encode(touched.fresh)
  end
  redis.call('PUBLISH', channel, msg)
end
`;

/**
 * KEYS: topics. ARGV: topic, partitions. Creates the topic unless it exists; returns the
 * partition count that is stored (the existing one wins).
 */
export const ENSURE_TOPIC = `
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
return tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
`;

/**
 * KEYS: topics, ids, next, log hashes of the touched partitions...
 * ARGV: topic, expected partition count, channel, n, then n × (id, partition, key index, event).
 * Reply: `{0, "p:offset"...}` in input order (a known id returns its original position).
 */
export const APPEND = `${APPEND_CORE}
local bad = check_topic(KEYS[1], ARGV[1], ARGV[2])
if bad then return bad end
local out, touched = {0}, {}
append_events(KEYS[2], KEYS[3], 5, tonumber(ARGV[4]), touched, out)
announce(ARGV[3], touched)
return out
`;

/**
 * KEYS: topics, next, log. ARGV: topic, partition, fromOffset, limit.
 * Reply: `{0, event...}` (offsets fromOffset.. in order).
 */
export const READ = `
local parts = redis.call('HGET', KEYS[1], ARGV[1])
if not parts then return {-1} end
if tonumber(ARGV[2]) >= tonumber(parts) then return {-2, tonumber(parts)} end
local nxt = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
local last = math.min(nxt, tonumber(ARGV[3]) + tonumber(ARGV[4])) - 1
local out = {0}
local o = tonumber(ARGV[3])
while o <= last do
  local hi = math.min(last, o + 499)
  local fields = {}
  for f = o, hi do fields[#fields + 1] = tostring(f) end
  local vals = redis.call('HMGET', KEYS[3], unpack(fields))
  for j = 1, #vals do out[#out + 1] = vals[j] end
  o = hi + 1
end
return out
`;

/** KEYS: topics, next. ARGV: topic, partition. Reply: `{0, nextOffset}`. */
export const END_OFFSET = `
local parts = redis.call('HGET', KEYS[1], ARGV[1])
if not parts then return {-1} end
if tonumber(ARGV[2]) >= tonumber(parts) then return {-2, tonumber(parts)} end
return {0, tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')}
`;

/**
 * KEYS: offsets hash, processed set, lease hash (of the fence, or any key when unfenced), and
 * with marker offsets also the marker ZSET of (group, topic, partition) and the topic's marker
 * index SET.
 * ARGV: offset field, offset ('' = keys only), fenced '1'|'0', token, now, then idempotency
 * keys...; with marker offsets: index member, n keys, then their n offsets.
 * Reply: 1 done, 0 fenced (nothing written).
 */
export const COMMIT = `${LEASE_HELD}
if ARGV[3] == '1' then
  local held, l = lease_held(KEYS[3], tonumber(ARGV[5]))
  if not held or l[2] ~= ARGV[4] then return 0 end
end
if ARGV[2] ~= '' then
  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
  if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
end
local from, last = 6, #ARGV
if #KEYS >= 5 then
  local n = (#ARGV - 6) / 2
  from, last = 7, 6 + n
  for i = 1, n do redis.call('ZADD', KEYS[4], ARGV[6 + n + i], ARGV[6 + i]) end
  if n > 0 then redis.call('SADD', KEYS[5], ARGV[6]) end
end
for i = from, last, 500 do
  redis.call('SADD', KEYS[2], unpack(ARGV, i, math.min(i + 499, last)))
end
return 1
`;
