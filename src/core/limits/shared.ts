// User and tenant event buckets: in memory on one node, in Redis (one Lua call per event) across a cluster.
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { LimitsOptions } from '../../config/schema.js'
import type { Identity } from '../auth/tokens.js'
import { gcra, next, UNLIMITED, waitOf, type Gcra } from './bucket.js'

/** The buckets of a user and of their tenant: checked together, an event passes when both have room. */
export interface SharedBuckets {
  /** 0 when the event passes (counted in both), else the ms to wait; a promise when it asks Redis. */
  take (user: Identity, now: number): number | Promise<number>
  close (): void
}

/**
 * The keys of a user's and a tenant's buckets: JSON-escaped, so any id (a lone surrogate too) is its own key;
 * made once per identity (a socket keeps its identity until `auth:refresh`), not per event.
 */
const keys = new WeakMap<Identity, { user: string, tenant: string }>()
function keysOf (u: Identity): { user: string, tenant: string } {
  let k = keys.get(u)
  if (k === undefined) keys.set(u, k = { user: JSON.stringify(['u', u.tenantId, u.userId]), tenant: JSON.stringify(['t', u.tenantId]) })
  return k
}
const userKey = (u: Identity): string => keysOf(u).user
const tenantKey = (u: Identity): string => keysOf(u).tenant

/** The user and tenant limits of the config; undefined when neither is set. */
export function sharedLimits (events: LimitsOptions['events']): { user: Gcra, tenant: Gcra } | undefined {
  const user = gcra(events.user)
  const tenant = gcra(events.tenant)
  return user === UNLIMITED && tenant === UNLIMITED ? undefined : { user, tenant }
}

/** In memory (one node): a map of arrival times, swept of full buckets once a minute. */
export class MemoryBuckets implements SharedBuckets {
  readonly #tat = new Map<string, number>()
  readonly #user: Gcra
  readonly #tenant: Gcra
  readonly #sweep: NodeJS.Timeout

  constructor (limits: { user: Gcra, tenant: Gcra }) {
    this.#user = limits.user
    this.#tenant = limits.tenant
    this.#sweep = setInterval(() => {
      const now = Date.now()
      for (const [k, tat] of this.#tat) if (tat <= now) this.#tat.delete(k)
    }, 60_000).unref()
  }

  take (user: Identity, now: number): number {
    const uk = this.#user.interval === 0 ? undefined : userKey(user)
    const tk = this.#tenant.interval === 0 ? undefined : tenantKey(user)
    const ut = uk === undefined ? 0 : this.#tat.get(uk) ?? 0
    const tt = tk === undefined ? 0 : this.#tat.get(tk) ?? 0
    const wait = Math.max(uk === undefined ? 0 : waitOf(ut, now, this.#user), tk === undefined ? 0 : waitOf(tt, now, this.#tenant))
    if (wait > 0) return wait
    if (uk !== undefined) this.#tat.set(uk, next(ut, now, this.#user))
    if (tk !== undefined) this.#tat.set(tk, next(tt, now, this.#tenant))
    return 0
  }

  close (): void { clearInterval(this.#sweep) }
}

/**
 * GCRA on both buckets at once, on Redis's clock (the nodes' clocks may differ): returns 0 and moves both
 * arrival times on, or the ms to wait and moves neither. A key lives as long as its bucket is not full.
 * ARGV: interval and tolerance of the user bucket, then of the tenant bucket (interval 0: not counted).
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
local tats = {}
for i = 1, 2 do
  local interval = tonumber(ARGV[i * 2 - 1])
  if interval > 0 then
    local tat = tonumber(redis.call('GET', KEYS[i]) or now)
    if tat < now then tat = now end
    tats[i] = tat
    local w = tat - tonumber(ARGV[i * 2]) - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return math.ceil(wait) end
for i = 1, 2 do
  local interval = tonumber(ARGV[i * 2 - 1])
  if interval > 0 then
    local tat = tats[i] + interval
    redis.call('SET', KEYS[i], string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1)
  end
end
return 0`

type TakeCommand = (userKey: string, tenantKey: string, ...args: number[]) => Promise<number>

/**
 * In Redis (the whole cluster): one Lua call per event. A refusal is remembered on the node until its retry
 * time, so a client flooding past the limit costs no round trip until then. When Redis cannot be reached
 * the event passes (the per-socket bucket still holds) and the failure is logged once until Redis answers.
 */
export class RedisBuckets implements SharedBuckets {
  readonly #take: TakeCommand
  readonly #prefix: string
  readonly #args: number[]
  readonly #blocked = new Map<string, number>()
  readonly #log: FastifyBaseLogger
  readonly #sweep: NodeJS.Timeout
  #failing = false

  constructor (redis: Redis, keyPrefix: string, limits: { user: Gcra, tenant: Gcra }, log: FastifyBaseLogger) {
    redis.defineCommand('rtLimitsTake', { numberOfKeys: 2, lua: TAKE })
    this.#take = (redis as unknown as { rtLimitsTake: TakeCommand }).rtLimitsTake.bind(redis)
    this.#prefix = `${keyPrefix}:limits:events:`
    this.#args = [limits.user.interval, limits.user.tolerance, limits.tenant.interval, limits.tenant.tolerance]
    this.#log = log
    this.#sweep = setInterval(() => {
      const now = Date.now()
      for (const [k, until] of this.#blocked) if (until <= now) this.#blocked.delete(k)
    }, 60_000).unref()
  }

  take (user: Identity, now: number): number | Promise<number> {
    const uk = userKey(user)
    const blocked = this.#blocked.get(uk)
    if (blocked !== undefined) {
      if (blocked > now) return Math.ceil(blocked - now)
      this.#blocked.delete(uk)
    }
    return this.#take(this.#prefix + uk, this.#prefix + tenantKey(user), ...this.#args).then((wait) => {
      this.#failing = false
      if (wait > 0) this.#blocked.set(uk, Date.now() + wait)
      return wait
    }, (err: unknown) => {
      if (!this.#failing) this.#log.warn({ err }, 'event rate limits: Redis unreachable, user and tenant limits not counted')
      this.#failing = true
      return 0
    })
  }

  close (): void { clearInterval(this.#sweep) }
}
