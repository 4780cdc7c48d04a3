// REST rate limits (@fastify/rate-limit): per client address before authentication, per API key or user after it.
import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import type { ServerConfig } from '../config/schema.js'
import { RateLimited, type RealtimeError } from '../lib/errors.js'
import type { Principal } from './auth/rest-auth.js'

/** Never limited: load balancers must always get the node's own answer. Socket.IO's path never reaches Fastify. */
const PROBES = new Set(['/health', '/ready'])

/** Counters kept in memory without Redis (an LRU: the least recently seen addresses go first). */
const MEMORY_KEYS = 10_000

type Bucket = ServerConfig['rateLimit']['ip']
type Limiter = ReturnType<FastifyInstance['createRateLimit']>
type Counted = Exclude<Awaited<ReturnType<Limiter>>, { isAllowed: true }>

/**
 * The counter a request is charged to: its principal once authenticated (an API key by its configured name,
 * never the key itself; a user by tenant and user id, the tenant length-prefixed so no two pairs meet),
 * its client address before (IPv6 by /64, as @fastify/rate-limit does).
 */
function subjectOf (request: FastifyRequest): string {
  const principal: Principal | null = request.principal
  if (principal === null) return `ip:${addressOf(request)}`
  if (principal.kind === 'apiKey') return `key:${principal.name}`
  const { tenantId, userId } = principal.identity
  return `user:${tenantId.length}:${tenantId}:${userId}`
}

/**
 * The client address, normalized; '' when the connection has none left (the client went away before its request
 * was read: Node no longer knows `remoteAddress`), so such requests share one counter instead of throwing.
 */
const addressOf = (request: FastifyRequest): string => typeof request.ip === 'string' ? normalizeIP(request.ip) : ''

const isAddress = (key: string): boolean => key.startsWith('ip:')
const exempt = (request: FastifyRequest): boolean => request.method === 'OPTIONS' || PROBES.has(request.routeOptions.url ?? '')

/** The catalog's 429, answered by the one error handler (which sends `Retry-After` from `retryAfter`). */
function refusal (bucket: Bucket, ttlMs: number, subject: 'these credentials' | 'this address'): RealtimeError {
  const what = subject === 'this address' ? 'requests without valid credentials' : 'requests'
  const err = new RateLimited(`more than ${bucket.max} ${what} in ${Math.ceil(bucket.timeWindowMs / 1000)} s from ${subject}`)
  err.retryAfter = Math.max(1, Math.ceil(ttlMs / 1000))
  return err
}

function setHeaders (reply: FastifyReply, counted: Counted): void {
  reply.header('x-ratelimit-limit', counted.max)
  reply.header('x-ratelimit-remaining', counted.remaining)
  reply.header('x-ratelimit-reset', counted.ttlInSeconds)
}

/**
 * Registers the REST rate limits (`config.rateLimit`) on the root instance, before the plugins' routes.
 *
 * Order of the checks, and why:
 * 1. `onRequest`, before any route's authentication: the client address's counter is read (not counted).
 *    An address over its limit is refused at once, so a flood of bad keys or tokens costs one counter
 *    read per request, no key digest and no signature check.
 * 2. `preParsing`, after the route's `realtime.authenticate()` (a route-level `onRequest` hook) and before
 *    the body is read: an authenticated request is counted to its principal (API key name, or tenant and
 *    user). A backend's traffic is never charged to its address, so one key's flood does not block another.
 * 3. `onSend`, before the answer leaves: a request that ended without a principal (401, 403, an unknown
 *    route) is counted to its address: authentication failures count, and the next request sees them.
 *
 * Counters live in Redis under `<redis.keyPrefix>:ratelimit:` when Redis is configured (shared by the
 * nodes), in memory otherwise. While Redis does not answer, requests are not limited (fail open): a
 * warning is logged when it starts, an info line when the limits apply again.
 */
export async function restLimits (app: FastifyInstance, config: Readonly<ServerConfig>, redis: Redis | undefined): Promise<void> {
  const { enabled, ip, principal, allowList } = config.rateLimit
  if (!enabled) return
  const allowed = new Set(allowList.map((a) => normalizeIP(a)))
  const bucketOf = (key: string): Bucket => isAddress(key) ? ip : principal

  await app.register(rateLimit, {
    // No route is limited by the plugin's own hook; the hooks below call `createRateLimit()`. A route may
    // still opt in with `config: { rateLimit: {...} }`; its refusal is the same catalog error.
    global: false,
    redis,
    nameSpace: `${config.redis.keyPrefix}:ratelimit:`,
    cache: MEMORY_KEYS,
    keyGenerator: subjectOf,
    max: (_request, key) => bucketOf(key).max,
    timeWindow: (_request, key) => bucketOf(key).timeWindowMs,
    allowList: (request) => allowed.has(addressOf(request)),
    // Errors reach the hooks below, which decide (fail open, logged).
    skipOnError: false,
    errorResponseBuilder: (_request, context) => {
      const err = new RateLimited(`more than ${context.max} requests; retry in ${context.after}`)
      err.retryAfter = Math.max(1, Math.ceil(context.ttl / 1000))
      return err
    }
  })
  const limit = app.createRateLimit()

  let failing = false
  /** The limiter's answer; undefined (the request goes on) when its store failed. */
  const counted = async (request: FastifyRequest, increment: boolean): Promise<Counted | undefined> => {
    let result: Awaited<ReturnType<Limiter>>
    try {
      result = await limit(request, { increment })
    } catch (err) {
      if (!failing) app.log.warn({ err }, 'REST rate limits cannot be counted (Redis unreachable): requests are not limited until it is back')
      failing = true
      return undefined
    }
    if (failing) app.log.info('REST rate limits are counted again')
    failing = false
    return result.isAllowed ? undefined : result
  }

  app.addHook('onRequest', async function limitAddress (request: FastifyRequest) {
    if (exempt(request)) return
    const state = await counted(request, false)
    // Read, not counted: `remaining` 0 means the address already spent its `max`.
    if (state !== undefined && state.remaining === 0 && state.ttl > 0) throw refusal(ip, state.ttl, 'this address')
  })

  app.addHook('preParsing', async function limitPrincipal (request: FastifyRequest, reply: FastifyReply) {
    if (request.principal === null || exempt(request)) return
    const state = await counted(request, true)
    if (state === undefined) return
    setHeaders(reply, state)
    // The last request the window allows: logged once per window, not once per refusal (a flood would flood the log).
    if (!state.isExceeded && state.remaining === 0) request.log.warn({ limit: state.key, max: state.max }, 'REST rate limit reached')
    if (state.isExceeded) throw refusal(principal, state.ttl, 'these credentials')
  })

  app.addHook('onSend', async function countAddress (request: FastifyRequest, reply: FastifyReply, payload: unknown) {
    if (request.principal !== null || reply.statusCode === 429 || exempt(request)) return payload
    const state = await counted(request, true)
    // From now on the address is refused before its credentials are checked (and no longer counted).
    if (state !== undefined && state.remaining === 0 && !state.isExceeded) request.log.warn({ limit: state.key, max: state.max }, 'REST rate limit reached')
    return payload
  })
}
