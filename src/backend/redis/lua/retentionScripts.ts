// Lua for retention on Redis: trimming a partition's front in chunks and removing passed idempotency markers.

/**
 * KEYS: topics, first (HASH partition → first offset), log hash, ids hash.
 * ARGV: topic, partition, forced (events below it go whatever their age), cap (never trim at or
 * past it: the end offset or a held group's committed offset), cutoff ('' = no maxAge: stop at
 * `forced`), chunk (most events removed by this call).
 * Between `forced` and `cap`, events go while their timestamp is below `cutoff`. Every removed
 * event leaves the id index too, and `first` moves in the same script, so a reader sees either
 * the event or the new first offset. Reply: `{firstBefore, firstAfter, more}` (`more` = 1 when the
 * chunk limit stopped it), or `{-1}` when the topic is missing.
 */
export const TRIM_PARTITION = `
if not redis.call('HGET', KEYS[1], ARGV[1]) then return {-1} end
local p = ARGV[2]
local first = tonumber(redis.call('HGET', KEYS[2], p) or '0')
local forced, cap = tonumber(ARGV[3]), tonumber(ARGV[4])
local cutoff = ARGV[5] ~= '' and tonumber(ARGV[5]) or nil
local chunk = tonumber(ARGV[6])
local o, more = first, 0
local fields, ids = {}, {}
while o < cap do
  if o - first >= chunk then more = 1 break end
  local v = redis.call('HGET', KEYS[3], tostring(o))
  if v then
    local e = cjson.decode(v)
    if o >= forced and (cutoff == nil or e[3] >= cutoff) then break end
    ids[#ids + 1] = e[1]
  elseif o >= forced and cutoff == nil then
    break
  end
  fields[#fields + 1] = tostring(o)
  o = o + 1
end
for i = 1, #fields, 500 do
  redis.call('HDEL', KEYS[3], unpack(fields, i, math.min(i + 499, #fields)))
end
for i = 1, #ids, 500 do
  redis.call('HDEL', KEYS[4], unpack(ids, i, math.min(i + 499, #ids)))
end
if o > first then redis.call('HSET', KEYS[2], p, o) end
return {first, o, more}
`;

/**
 * KEYS: offsets hash of the group, marker ZSET (key → offset) of (group, topic, partition), the
 * group's processed SET, the topic's marker index SET.
 * ARGV: offsets field, index member, chunk. Removes up to `chunk` markers below the committed
 * offset from the ZSET and the SET; drops the index member once the ZSET is empty.
 * Reply: `{removed, more}`.
 */
export const TRIM_MARKERS = `
local committed = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. committed, 'LIMIT', 0, tonumber(ARGV[3]))
if #gone > 0 then
  for i = 1, #gone, 500 do
    local last = math.min(i + 499, #gone)
    redis.call('ZREM', KEYS[2], unpack(gone, i, last))
    redis.call('SREM', KEYS[3], unpack(gone, i, last))
  end
end
if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('SREM', KEYS[4], ARGV[2]) end
return {#gone, #gone == tonumber(ARGV[3]) and 1 or 0}
`;
