/**
 * The Lua scripts of the Redis message store: each runs atomically on the Redis server, so the
 * checks and writes of one step cannot interleave with another node's. Run by SHA (EVALSHA), sent
 * again after a Redis restart (NOSCRIPT).
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

export class Script {
  readonly #sha: string
  constructor (readonly source: string) {
    this.#sha = createHash('sha1').update(source).digest('hex')
  }

  async run (redis: Redis, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args)
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err
      return await redis.eval(this.source, keys.length, ...keys, ...args)
    }
  }
}

/**
 * KEYS[1] the tempId record; ARGV[1] processing timeout (ms).
 * Returns nil when claimed now, else the record: 'processing' or the message id.
 */
export const claimTempId = new Script(`
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], 'processing', 'PX', ARGV[1])
return false
`)

/** KEYS[1] the tempId record: deleted only while still 'processing'. */
export const releaseTempId = new Script(`
if redis.call('GET', KEYS[1]) == 'processing' then return redis.call('DEL', KEYS[1]) end
return 0
`)

/**
 * KEYS: 1 channel sequence, 2 channel index (zset id -> seq), 3 message hash, [4 tempId record].
 * ARGV: 1 id, 2 data (JSON), 3 status, 4 updatedAt, 5 max messages per channel, 6 tempId TTL (ms),
 * 7 prefix of message keys (for the messages trimmed beyond the maximum).
 * Returns the message's sequence number.
 */
export const createMessage = new Script(`
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
`)

/**
 * KEYS[1] the message hash; ARGV: 1 new status, 2 updatedAt. The status changes only to a higher rank.
 * Returns { data, status, updatedAt } as stored afterwards, or nil when the message is missing.
 */
export const advanceStatus = new Script(`
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return nil end
local rank = { SENT = 0, DELIVERED = 1, READ = 2 }
if rank[ARGV[1]] > rank[current] then
  redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updatedAt', ARGV[2])
end
return redis.call('HMGET', KEYS[1], 'data', 'status', 'updatedAt')
`)

/**
 * KEYS: 1 the message hash, 2 a hash of the message (reactions, reads); ARGV: 1 field, 2 value.
 * Sets the field only when absent and only while the message exists.
 * Returns nil (no message), { 1, value } (set now) or { 0, earlier value }.
 */
export const setOnceForMessage = new Script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 1 then return { 1, ARGV[2] } end
return { 0, redis.call('HGET', KEYS[2], ARGV[1]) }
`)
