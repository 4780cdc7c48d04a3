/**
 * The Lua of the sessions' Redis store (run through `realtime.redis.script`). The script runs atomically on the
 * server, on the same keys the plugin's `SharedStore` reads.
 */

/**
 * The conditional write (write-plan.ts). KEYS: state, index. ARGV: expectedSeq, state JSON, state TTL ms
 * (0: none), active (1/0), sessionId, score, active TTL ms (0: none), stale score bound. Returns 1 when
 * written, 0 on a seq mismatch.
 */
export const CONDITIONAL_WRITE = {
  keys: 2,
  lua: `
local current = redis.call('GET', KEYS[1])
local seq = 0
if current then seq = cjson.decode(current).seq end
if seq ~= tonumber(ARGV[1]) then return 0 end
local stateTtl = tonumber(ARGV[3])
if stateTtl > 0 then redis.call('SET', KEYS[1], ARGV[2], 'PX', stateTtl) else redis.call('SET', KEYS[1], ARGV[2]) end
if ARGV[4] ~= '1' then
  redis.call('ZREM', KEYS[2], ARGV[5])
  return 1
end
local activeTtl = tonumber(ARGV[7])
if seq == 0 and activeTtl > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], ARGV[8], '+inf') end
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
if activeTtl > 0 then redis.call('PEXPIRE', KEYS[2], activeTtl) end
return 1
`
}
