// Lua for the Redis dead-letter queue: put, get, list, replay and purge over its nine keys.
import { APPEND_CORE } from './logScripts.ts';

/**
 * Lua for the dead-letter queue. KEYS always start with the nine DLQ keys in this order:
 * index (ZSET id → first failure; ties by id bytes = list order), source, topic, meta, payload,
 * error, attempts, count, last (HASHes id → value). A row in replies is 10 values:
 * id, source, topic (integer 0 when absent), meta JSON, payload, error, attempts, count,
 * first failure, last failure.
 */
const DLQ_COMMON = `
local function dlq_row(k, id)
  local topic = redis.call('HGET', KEYS[k + 2], id)
  return {
    id, redis.call('HGET', KEYS[k + 1], id), topic or 0, redis.call('HGET', KEYS[k + 3], id),
    redis.call('HGET', KEYS[k + 4], id), redis.call('HGET', KEYS[k + 5], id),
    redis.call('HGET', KEYS[k + 6], id), redis.call('HGET', KEYS[k + 7], id),
    redis.call('ZSCORE', KEYS[k], id), redis.call('HGET', KEYS[k + 8], id)
  }
end

local function dlq_delete(k, id)
  redis.call('ZREM', KEYS[k], id)
  for j = 1, 8 do redis.call('HDEL', KEYS[k + j], id) end
end
`;

/**
 * KEYS: dlq keys. ARGV: id, now, error, attempts, source, payload, hasTopic, topic, meta.
 * A new id is stored with count 1; a known id gets the new error/attempts/last failure and
 * count + 1, its other fields kept. Reply: the row.
 */
export const DLQ_PUT = `${DLQ_COMMON}
local id = ARGV[1]
if redis.call('HEXISTS', KEYS[2], id) == 1 then
  redis.call('HINCRBY', KEYS[8], id, 1)
else
  redis.call('ZADD', KEYS[1], ARGV[2], id)
  redis.call('HSET', KEYS[2], id, ARGV[5])
  if ARGV[7] == '1' then redis.call('HSET', KEYS[3], id, ARGV[8]) end
  redis.call('HSET', KEYS[4], id, ARGV[9])
  redis.call('HSET', KEYS[5], id, ARGV[6])
  redis.call('HSET', KEYS[8], id, '1')
end
redis.call('HSET', KEYS[6], id, ARGV[3])
redis.call('HSET', KEYS[7], id, ARGV[4])
redis.call('HSET', KEYS[9], id, ARGV[2])
return dlq_row(1, id)
`;

/** KEYS: dlq keys. ARGV: id. Reply: the row or nil. */
export const DLQ_GET = `${DLQ_COMMON}
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return false end
return dlq_row(1, ARGV[1])
`;

/**
 * KEYS: dlq keys. ARGV: mode ('list'|'count'|'purge'), hasSource, source, hasTopic, topic,
 * after ('' = none), limit (0 = none), number of ids (-1 = no ids filter), ids...
 * Without ids, walks the index in list order from the entry after \`after\` (or the start when
 * it no longer exists) and stops at \`limit\` matches. Reply: rows, a count, or the number purged.
 */
export const DLQ_SCAN = `${DLQ_COMMON}
local function matches(id)
  local s = redis.call('HGET', KEYS[2], id)
  if not s then return false end
  if ARGV[2] == '1' and s ~= ARGV[3] then return false end
  if ARGV[4] == '1' and redis.call('HGET', KEYS[3], id) ~= ARGV[5] then return false end
  return true
end

local mode = ARGV[1]
local limit = tonumber(ARGV[7])
local nIds = tonumber(ARGV[8])
local hits = {}
if nIds >= 0 then
  for i = 1, nIds do
    if matches(ARGV[8 + i]) then hits[#hits + 1] = ARGV[8 + i] end
  end
else
  local start = 0
  if ARGV[6] ~= '' then
    local r = redis.call('ZRANK', KEYS[1], ARGV[6])
    if r then start = r + 1 end
  end
  local full = false
  while not full do
    local ids = redis.call('ZRANGE', KEYS[1], start, start + 255)
    if #ids == 0 then break end
    for _, id in ipairs(ids) do
      if matches(id) then
        hits[#hits + 1] = id
        if limit > 0 and #hits >= limit then full = true break end
      end
    end
    start = start + #ids
  end
end
if mode == 'count' then return #hits end
if mode == 'purge' then
  for _, id in ipairs(hits) do dlq_delete(1, id) end
  return #hits
end
local out = {}
for _, id in ipairs(hits) do
  local r = dlq_row(1, id)
  for j = 1, 10 do out[#out + 1] = r[j] end
end
return out
`;

/**
 * Re-appends one dead letter and removes it, atomically.
 * KEYS: topics, ids, next, log, then the dlq keys (from KEYS[5]).
 * ARGV: entry id, topic, expected partition count, channel, 1, event id, partition, '4', event.
 * Reply: `{1}` replayed, `{0}` the entry is gone, or a topic status (`{-1}`, `{-2, count}`).
 */
export const DLQ_REPLAY = `${APPEND_CORE}${DLQ_COMMON}
if redis.call('HEXISTS', KEYS[6], ARGV[1]) == 0 then return {0} end
local bad = check_topic(KEYS[1], ARGV[2], ARGV[3])
if bad then return bad end
local out, touched = {}, {}
append_events(KEYS[2], KEYS[3], 6, 1, touched, out)
dlq_delete(5, ARGV[1])
announce(ARGV[4], touched)
return {1}
`;
