// Redis for the cross-node runs: a fresh key prefix per run (streams, channels), deleted afterwards.
import { Redis } from 'ioredis'
import { randomUUID } from 'node:crypto'

export const defaultRedisUrl = () => process.env.REDIS_URL || 'redis://127.0.0.1:6379'

/** Throws with the fix when Redis does not answer PING. */
export async function requireRedis (url) {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, retryStrategy: () => null })
  try {
    await r.connect()
    await r.ping()
  } catch (err) {
    throw new Error(`Redis at ${url} does not answer (${err.message}); start one or pass --redis=redis://host:port`)
  } finally {
    r.disconnect()
  }
}

/** A unique prefix for one run, and its cleanup. */
export function redisRun (url) {
  const keyPrefix = `bench-${randomUUID().slice(0, 8)}`
  return {
    url,
    keyPrefix,
    async cleanup () {
      // The product's own test helper (dist/: the bench builds first); best effort.
      const { deleteRedisPrefix } = await import('realtime-server/testing')
      await deleteRedisPrefix(keyPrefix, url).catch(() => {})
    }
  }
}
