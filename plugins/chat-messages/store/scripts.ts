/**
 * The Lua scripts of the Redis message store: each runs atomically on the Redis server, so the
 * checks and writes of one step cannot interleave with another node's, and each step is one round trip.
 * Defined through `realtime.redis.script` (EVALSHA, sent again after a Redis restart).
 */
import type { RedisPrimitives } from 'realtime-server'

/**
 * KEYS[1] the tempId record; ARGV[1] processing timeout (ms).
 * Returns nil when claimed now, else the record: 'processing' or the message id.
 */
const claimTempId = `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], 'processing', 'PX', ARGV[1])
return false
`

/** KEYS[1] the tempId record: deleted only while still 'processing'. */
const releaseTempId = `
if redis.call('GET', KEYS[1]) == 'processing' then return redis.call('DEL', KEYS[1]) end
return 0
`

/**
 * KEYS: 1 channel sequence, 2 channel index (zset id -> seq), 3 message hash, [4 tempId record].
 * ARGV: 1 id, 2 data (JSON), 3 status, 4 updatedAt, 5 max messages per channel, 6 tempId TTL (ms),
 * 7 prefix of message keys (for the messages trimmed beyond the maximum).
 * Returns the message's sequence number.
 */
const createMessage = `
local seq = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[3], 'data', ARGV[2], 'status', ARGV[3], 'updatedAt', ARGV[4])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
if #KEYS > 3 then redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[6]) end
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if extra > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, extra - 1)) do
    redis.call('DEL', ARGV[7] .. id, ARGV[7] .. id .. ':reactions', ARGV[7] .. id .. ':reads')
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1)
end
return seq
`

/**
 * KEYS[1] the message hash; ARGV: 1 new status, 2 updatedAt. The status changes only to a higher rank.
 * Returns { data, status, updatedAt } as stored afterwards, or nil when the message is missing.
 */
const advanceStatus = `
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return nil end
local rank = { SENT = 0, DELIVERED = 1, READ = 2 }
if rank[ARGV[1]] > rank[current] then
  redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updatedAt', ARGV[2])
end
return redis.call('HMGET', KEYS[1], 'data', 'status', 'updatedAt')
`

/**
 * KEYS: 1 the message hash, 2 a hash of the message (reactions, reads); ARGV: 1 field, 2 value.
 * Sets the field only when absent and only while the message exists.
 * Returns nil (no message), { 1, value } (set now) or { 0, earlier value }.
 */
const setOnceForMessage = `
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 1 then return { 1, ARGV[2] } end
return { 0, redis.call('HGET', KEYS[2], ARGV[1]) }
`

/** KEYS[1] the message hash. Returns { data, status, updatedAt } (nil fields when missing). */
const getMessage = `
return redis.call('HMGET', KEYS[1], 'data', 'status', 'updatedAt')
`

/**
 * KEYS[1] the channel index; ARGV: 1 upper bound ('+inf' or '(<seq>'), 2 limit, 3 prefix of message keys.
 * Returns { more (0 or 1), { seq, data, status, updatedAt, { reaction JSON... } }... }, oldest first: the page
 * and its reactions in one step, so no message is trimmed between reading the index and the messages.
 */
const history = `
local limit = tonumber(ARGV[2])
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], '-inf', 'WITHSCORES', 'LIMIT', 0, limit + 1)
local n = #ids / 2
local more = 0
if n > limit then
  more = 1
  n = limit
end
local page = {}
for i = n, 1, -1 do
  local key = ARGV[3] .. ids[2 * i - 1]
  local m = redis.call('HMGET', key, 'data', 'status', 'updatedAt')
  table.insert(page, { ids[2 * i], m[1], m[2], m[3], redis.call('HVALS', key .. ':reactions') })
end
return { more, page }
`

/** KEYS[1] a hash of the message (reactions); ARGV[1] the field. Returns 1 when it was there. */
const deleteField = `
return redis.call('HDEL', KEYS[1], ARGV[1])
`

/** KEYS[1] a hash of the message (reads). Returns its fields and values, flat. */
const readAll = `
return redis.call('HGETALL', KEYS[1])
`

type Field = string | null
/** One message of a history page: seq, data, status, updatedAt, reactions (JSON). */
export type PageEntry = [string, Field, Field, Field, string[]]

/** The scripts, defined once on the server's Redis connection. */
export function defineScripts (redis: RedisPrimitives) {
  return {
    claimTempId: redis.script<string | null>('claimTempId', { lua: claimTempId, keys: 1 }),
    releaseTempId: redis.script<number>('releaseTempId', { lua: releaseTempId, keys: 1 }),
    // One script, two key counts: with and without the tempId record.
    createMessage: redis.script<number>('createMessage', { lua: createMessage, keys: 3 }),
    createMessageWithTempId: redis.script<number>('createMessageWithTempId', { lua: createMessage, keys: 4 }),
    getMessage: redis.script<[Field, Field, Field]>('getMessage', { lua: getMessage, keys: 1 }),
    advanceStatus: redis.script<[string, string, string] | null>('advanceStatus', { lua: advanceStatus, keys: 1 }),
    setOnceForMessage: redis.script<[number, string] | null>('setOnceForMessage', { lua: setOnceForMessage, keys: 2 }),
    history: redis.script<[number, PageEntry[]]>('history', { lua: history, keys: 1 }),
    deleteField: redis.script<number>('deleteField', { lua: deleteField, keys: 1 }),
    readAll: redis.script<string[]>('readAll', { lua: readAll, keys: 1 })
  }
}
