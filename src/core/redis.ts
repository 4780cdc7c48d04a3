// The shared ioredis client: fail fast (no offline queue, command timeout), reconnect quickly, log state changes.
import type { Redis, RedisOptions } from 'ioredis'
import type { ServerConfig } from '../config/schema.js'
import { RedisUnreachable } from '../lib/errors.js'
import { onDemand } from '../lib/on-demand.js'

/** A Redis that stopped answering (no closed connection to tell) fails commands after this long (long enough for a busy node: the timer may fire before a reply waiting in the socket is read). */
const COMMAND_TIMEOUT_MS = 5000
/** Reconnection attempts are at most this far apart, so that a Redis that is back is used within a second. */
const MAX_RECONNECT_DELAY_MS = 1000

interface RedisLog {
  warn: (obj: object, msg: string) => void
  info: (obj: object, msg: string) => void
}

/**
 * Options of the shared client. It fails fast instead of waiting: while disconnected, a command is refused
 * at once (no offline queue, which would hold requests for minutes), and commands in flight when the
 * connection drops fail at that moment (no retries). Callers get errors that `isRedisUnavailable`
 * recognises, which clients see as RT_ERR_NOT_READY (503). Blocking readers need the opposite: see
 * `READER_OPTIONS` in cluster-link.ts.
 */
export function clientOptions (config: ServerConfig['redis']): RedisOptions {
  return {
    lazyConnect: true,
    connectTimeout: config.connectTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS)
  }
}

/**
 * Connects to Redis, failing start-up with a clear message when it does not answer in time. Later, the
 * client reconnects by itself for as long as it takes; an outage is logged once when it starts (with the
 * error) and once when it ends, not at every reconnection attempt.
 */
export async function connectRedis (config: ServerConfig['redis'], log: RedisLog): Promise<Redis> {
  const url = config.url!
  const { Redis } = onDemand('ioredis') as typeof import('ioredis')
  const redis = new Redis(url, clientOptions(config))
  let timer: NodeJS.Timeout | undefined
  let lostAt: number | undefined
  let lastError: string | undefined
  let connected = false
  // A listener is needed (an 'error' without one is thrown); until connected, errors reject `connect()` below.
  redis.on('error', (err: Error) => { lastError = err.message })
  // 'reconnecting' follows a connection lost (not a shutdown's quit); 'ready' a connection usable again.
  redis.on('reconnecting', () => {
    if (!connected || lostAt !== undefined) return
    lostAt = Date.now()
    log.warn({ err: lastError }, 'redis connection lost: publishes answer 503 until it is back')
  })
  redis.on('ready', () => {
    if (lostAt !== undefined) log.info({ downMs: Date.now() - lostAt }, 'redis connection restored')
    lostAt = undefined
    lastError = undefined
  })
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
  connected = true
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
