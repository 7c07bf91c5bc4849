// Lua for Redis leases: acquire, renew, release with a fencing counter that is never reset.
/**
 * Lua for leases. A lease is a HASH {owner, token, exp}; `owner` is `''` once released. The
 * fencing token comes from a separate counter (`INCR`, never reset), so a token is never handed
 * out twice for one name. `now` and `exp` are computed by the caller from its clock.
 */

/**
 * KEYS: lease, fence counter, lease index. ARGV: owner, now, exp, name.
 * Reply: `{owner, token, exp}` or nil when another owner holds it.
 */
export const LEASE_ACQUIRE = `
local l = redis.call('HMGET', KEYS[1], 'owner', 'token', 'exp')
if l[2] and l[1] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'exp', ARGV[3])
  return {ARGV[1], l[2], ARGV[3]}
end
if l[2] and l[1] ~= '' and tonumber(ARGV[2]) < tonumber(l[3]) then return false end
local t = tostring(redis.call('INCR', KEYS[2]))
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', t, 'exp', ARGV[3])
redis.call('ZADD', KEYS[3], 0, ARGV[4])
return {ARGV[1], t, ARGV[3]}
`;

/** KEYS: lease. ARGV: owner, token, exp. Reply: 1 renewed, 0 lost. */
export const LEASE_RENEW = `
local l = redis.call('HMGET', KEYS[1], 'owner', 'token')
if not l[1] or l[1] == '' or l[1] ~= ARGV[1] or l[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'exp', ARGV[3])
return 1
`;

/** KEYS: lease. ARGV: owner, token. Reply: 1 released, 0 not held with that token. */
export const LEASE_RELEASE = `
local l = redis.call('HMGET', KEYS[1], 'owner', 'token')
if not l[1] or l[1] == '' or l[1] ~= ARGV[1] or l[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'owner', '', 'exp', '0')
return 1
`;
