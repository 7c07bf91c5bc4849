// Lua for Redis leases: acquire, renew, release and read many at once, with a fencing counter that is never reset and leases bound to a holder lease.
/**
 * Lua for leases. A lease is a HASH {owner, token, exp, holder, hkey, htoken}; `owner` is `''`
 * once released. A bound lease names its holder lease (`holder`, its key `hkey`, in the same
 * slot, and the holder's token `htoken`) and is held exactly while that hash is held with that
 * token. The fencing token comes from a separate counter (`INCR`, never reset), so a token is
 * never handed out twice for one name. `now` and `exp` are computed by the caller from its clock.
 */

/**
 * `lease_held(key, now)`: whether the lease hash is held at `now`, its fields
 * `{owner, token, exp, hkey, htoken, holder}` and its effective expiry (its holder's when bound).
 * Shared by the lease scripts and the commit fences.
 */
export const LEASE_HELD = `
local function lease_held(lk, now)
  local l = redis.call('HMGET', lk, 'owner', 'token', 'exp', 'hkey', 'htoken', 'holder')
  if not l[2] or not l[1] or l[1] == '' then return false, l, '0' end
  if l[4] and l[4] ~= '' then
    local h = redis.call('HMGET', l[4], 'owner', 'token', 'exp', 'hkey')
    if not h[1] or h[1] == '' or h[2] ~= l[5] or (h[4] and h[4] ~= '') or now >= tonumber(h[3]) then
      return false, l, h[3] or '0'
    end
    return true, l, h[3]
  end
  return now < tonumber(l[3]), l, l[3]
end
`;

/**
 * KEYS: lease index, the holder lease (any lease key when unbound), then lease and fence counter
 * of each name. ARGV: now, exp, bound ('1' or '0'), holder name, holder owner, holder token, then
 * owner and name of each request. Reply: `{expiry, then per request its token or 0}`: the expiry
 * is `exp`, or the holder's when bound (`''` and all 0 when the holder is not held).
 */
export const LEASE_ACQUIRE_MANY = `${LEASE_HELD}
local now = tonumber(ARGV[1])
local n = (#KEYS - 2) / 2
local out = {ARGV[2]}
local hname, hkey, htoken = '', '', ''
if ARGV[3] == '1' then
  local h = redis.call('HMGET', KEYS[2], 'owner', 'token', 'exp', 'hkey')
  if not h[1] or h[1] ~= ARGV[5] or h[2] ~= ARGV[6] or (h[4] and h[4] ~= '') or now >= tonumber(h[3]) then
    out[1] = ''
    for i = 1, n do out[i + 1] = 0 end
    return out
  end
  hname, hkey, htoken, out[1] = ARGV[4], KEYS[2], ARGV[6], h[3]
end
for i = 1, n do
  local lk, fk = KEYS[2 * i + 1], KEYS[2 * i + 2]
  local owner, name = ARGV[2 * i + 5], ARGV[2 * i + 6]
  local held, l = lease_held(lk, now)
  if l[2] and l[1] == owner then
    redis.call('HSET', lk, 'exp', ARGV[2], 'holder', hname, 'hkey', hkey, 'htoken', htoken)
    out[i + 1] = l[2]
  elseif held then
    out[i + 1] = 0
  else
    local t = tostring(redis.call('INCR', fk))
    redis.call('HSET', lk, 'owner', owner, 'token', t, 'exp', ARGV[2], 'holder', hname, 'hkey', hkey, 'htoken', htoken)
    redis.call('ZADD', KEYS[1], 0, name)
    out[i + 1] = t
  end
end
return out
`;

/**
 * KEYS: the leases. ARGV: now, exp, then owner and token of each. An own lease held with that
 * token is extended to `exp`; a bound one is checked. Reply: per lease its expiry (a string), or
 * 0 when lost.
 */
export const LEASE_RENEW_MANY = `${LEASE_HELD}
local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local l = redis.call('HMGET', KEYS[i], 'owner', 'token', 'hkey')
  if not l[1] or l[1] == '' or l[1] ~= ARGV[2 * i + 1] or l[2] ~= ARGV[2 * i + 2] then
    out[i] = 0
  elseif l[3] and l[3] ~= '' then
    local held, _, exp = lease_held(KEYS[i], now)
    if held then out[i] = exp else out[i] = 0 end
  else
    redis.call('HSET', KEYS[i], 'exp', ARGV[2])
    out[i] = ARGV[2]
  end
end
return out
`;

/** KEYS: the leases. ARGV: owner and token of each. Reply: per lease 1 released, 0 not held with that token. */
export const LEASE_RELEASE_MANY = `
local out = {}
for i = 1, #KEYS do
  local l = redis.call('HMGET', KEYS[i], 'owner', 'token')
  if not l[1] or l[1] == '' or l[1] ~= ARGV[2 * i - 1] or l[2] ~= ARGV[2 * i] then
    out[i] = 0
  else
    redis.call('HSET', KEYS[i], 'owner', '', 'exp', '0', 'holder', '', 'hkey', '', 'htoken', '')
    out[i] = 1
  end
end
return out
`;

/**
 * KEYS: the leases. ARGV: now. Reply: per lease `{owner, token, expiry, holder, holder token}`
 * when held (holder fields `''` when unbound), 0 otherwise.
 */
export const LEASE_READ = `${LEASE_HELD}
local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local held, l, exp = lease_held(KEYS[i], now)
  if held then out[i] = {l[1], l[2], exp, l[6] or '', l[5] or ''} else out[i] = 0 end
end
return out
`;
