// Lua of runner coordination on Redis: many fenced commits in one script and the compare-and-set publish of an assignment.
import { LEASE_HELD } from './leaseScripts.ts';

/**
 * Lua for runner coordination: many fenced commits in one script, and the compare-and-set
 * publish of a group's assignment. Same fence rule as `COMMIT` in `logScripts`.
 */

/**
 * KEYS: offsets hash of the group, then per commit the lease key (any key when unfenced).
 * ARGV: now, then per commit: field, offset, fenced ('1' or '0'), token.
 * Reply: per commit 1 (committed) or 0 (fence refused).
 */
export const COMMIT_MANY = `${LEASE_HELD}
local out = {}
local now = tonumber(ARGV[1])
for i = 1, #KEYS - 1 do
  local b = 4 * (i - 1) + 1
  local ok = 1
  if ARGV[b + 3] == '1' then
    local held, l = lease_held(KEYS[i + 1], now)
    if not held or l[2] ~= ARGV[b + 4] then ok = 0 end
  end
  if ok == 1 then
    local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[b + 1]) or '0')
    if tonumber(ARGV[b + 2]) > cur then redis.call('HSET', KEYS[1], ARGV[b + 1], ARGV[b + 2]) end
  end
  out[i] = ok
end
return out
`;

/**
 * KEYS: the assignment hash {gen, body, at}. ARGV: expected generation, body, now.
 * Reply: 1 when published as expected + 1, 0 when the stored generation differs.
 */
export const ASSIGNMENT_PUBLISH = `
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
if gen ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'gen', gen + 1, 'body', ARGV[2], 'at', ARGV[3])
return 1
`;
