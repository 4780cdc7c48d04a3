// The shared store on Redis: the SharedStore contract, one round trip per call.
import type { Redis } from 'ioredis'
import type { SharedStore, TtlOptions } from './types.js'

/** The replies of a MULTI; its commands' own errors (EXEC resolves with them) are thrown, not read as values. */
const replies = (res: Array<[Error | null, unknown]> | null): Array<[Error | null, unknown]> => {
  for (const [err] of res ?? []) if (err !== null) throw err
  return res ?? []
}

const parse = <T>(text: string | null | undefined): T | undefined => (text === null || text === undefined ? undefined : JSON.parse(text) as T)

/** The Redis store: the same contract as the memory store, one round trip per call (MULTI where a TTL applies). */
export function redisStore (redis: Redis, prefix: string): SharedStore {
  const k = (key: string): string => prefix + key

  /** Runs `write` then PEXPIRE in one transaction; returns the reply of `write`. */
  const withTtl = async (key: string, options: TtlOptions & { ttlMs: number }, write: (m: ReturnType<Redis['multi']>) => void): Promise<unknown> => {
    const m = redis.multi()
    write(m)
    m.pexpire(k(key), options.ttlMs)
    return replies(await m.exec())[0]?.[1]
  }

  const store: SharedStore = {
    async get<T> (key: string) { return parse<T>(await redis.get(k(key))) },
    async set (key, value, options) {
      const text = JSON.stringify(value)
      const ttl = options?.ttlMs
      let res: string | null
      if (options?.ifAbsent === true) {
        res = ttl !== undefined ? await redis.set(k(key), text, 'PX', ttl, 'NX') : await redis.set(k(key), text, 'NX')
      } else {
        res = ttl !== undefined ? await redis.set(k(key), text, 'PX', ttl) : await redis.set(k(key), text)
      }
      return res === 'OK'
    },
    async delete (key) { return (await redis.del(k(key))) > 0 },
    async increment (key, by = 1, options) {
      if (options?.ttlMs === undefined) return await redis.incrby(k(key), by)
      return Number(await withTtl(key, { ttlMs: options.ttlMs }, (m) => m.incrby(k(key), by)))
    },
    async expire (key, ttlMs) { return (await redis.pexpire(k(key), ttlMs)) === 1 },

    async hashSet (key, field, value, options) {
      if (options?.ttlMs === undefined) await redis.hset(k(key), field, JSON.stringify(value))
      else await withTtl(key, { ttlMs: options.ttlMs }, (m) => m.hset(k(key), field, JSON.stringify(value)))
    },
    async hashGet<T> (key: string, field: string) { return parse<T>(await redis.hget(k(key), field)) },
    async hashDelete (key, field) { return (await redis.hdel(k(key), field)) > 0 },
    async hashGetAll<T> (key: string) {
      const raw = await redis.hgetall(k(key))
      const out: Record<string, T> = {}
      for (const f of Object.keys(raw)) out[f] = JSON.parse(raw[f]!) as T
      return out
    },
    async hashIncrement (key, field, by, options) {
      if (options?.ttlMs === undefined) return await redis.hincrby(k(key), field, by)
      return Number(await withTtl(key, { ttlMs: options.ttlMs }, (m) => m.hincrby(k(key), field, by)))
    },

    async listPush (key, value, options) {
      const m = redis.multi().rpush(k(key), JSON.stringify(value))
      if (options?.maxLength !== undefined) m.ltrim(k(key), -options.maxLength, -1)
      if (options?.ttlMs !== undefined) m.pexpire(k(key), options.ttlMs)
      m.llen(k(key))
      const res = replies(await m.exec())
      return Number(res[res.length - 1]?.[1] ?? 0)
    },
    async listRange<T> (key: string, start: number, stop: number) {
      return (await redis.lrange(k(key), start, stop)).map((v) => JSON.parse(v) as T)
    },
    async listLength (key) { return await redis.llen(k(key)) },

    async setAdd (key, member, options) {
      if (options?.ttlMs === undefined) return (await redis.sadd(k(key), member)) === 1
      return Number(await withTtl(key, { ttlMs: options.ttlMs }, (m) => m.sadd(k(key), member))) === 1
    },
    async setRemove (key, member) { return (await redis.srem(k(key), member)) === 1 },
    async setMembers (key) { return await redis.smembers(k(key)) },
    async setHas (key, member) { return (await redis.sismember(k(key), member)) === 1 },

    async sortedAdd (key, member, score, options) {
      if (options?.ttlMs === undefined) await redis.zadd(k(key), score, member)
      else await withTtl(key, { ttlMs: options.ttlMs }, (m) => m.zadd(k(key), score, member))
    },
    async sortedRemove (key, member) { return (await redis.zrem(k(key), member)) === 1 },
    async sortedRange (key, min, max, limit) {
      const raw = limit === undefined
        ? await redis.zrangebyscore(k(key), min, max, 'WITHSCORES')
        : await redis.zrangebyscore(k(key), min, max, 'WITHSCORES', 'LIMIT', 0, limit)
      const out: Array<{ member: string, score: number }> = []
      for (let i = 0; i < raw.length; i += 2) out.push({ member: raw[i]!, score: Number(raw[i + 1]) })
      return out
    },
    async sortedScore (key, member) {
      const s = await redis.zscore(k(key), member)
      return s === null ? undefined : Number(s)
    },

    keyOf: k,

    scope (p) { return redisStore(redis, `${prefix}${p}:`) }
  }
  return store
}
