import { Redis } from 'ioredis'
import type { ServerConfig } from '../config/schema.js'
import { RedisUnreachable } from './errors.js'

/** Connects to Redis, failing start-up with a clear message when it does not answer in time. */
export async function connectRedis (config: ServerConfig['redis'], onError: (err: Error) => void): Promise<Redis> {
  const url = config.url!
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: config.connectTimeoutMs, maxRetriesPerRequest: 3 })
  redis.on('error', onError)
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_resolve, reject) => { timer = setTimeout(() => { reject(new Error('timed out')) }, config.connectTimeoutMs) })
    ])
  } catch (err) {
    redis.disconnect()
    throw new RedisUnreachable(`cannot connect to ${redacted(url)} (redis.url): ${(err as Error).message}`)
  } finally {
    clearTimeout(timer)
  }
  return redis
}

/** The URL without its password, for messages. */
export function redacted (url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return '(unparsable URL)'
  }
}
