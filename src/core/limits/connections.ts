// Connection limits per node, per user and per tenant: a namespace middleware, counts in memory or (per user and tenant) in Redis.
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { LimitsOptions } from '../../config/schema.js'
import { ConnectionLimited, type RealtimeError } from '../../lib/errors.js'
import type { Identity } from '../auth/tokens.js'
import type { RealtimeSocket } from '../socket-types.js'

type Limits = LimitsOptions['connections']
type Engine = RealtimeSocket['client']['conn']

/** What a counted connection holds: its user and tenant, and where they were counted. */
interface Held {
  readonly tenantId: string
  readonly userId: string
  readonly user: boolean
  readonly tenant: boolean
  /** Counted in Redis (false: in memory, or Redis was unreachable and nothing was counted there). */
  redis: boolean
}

/**
 * A tenant's connections counted in memory. Keyed by the identity's own id strings, which the connection holds
 * anyway: no key is built per connection, and a string's hash is computed once.
 */
interface LocalCounts {
  connections: number
  readonly users: Map<string, number>
}

const kHeld = Symbol('realtime-server.limits.connection')
const kAdmission = Symbol('realtime-server.limits.admission')
type Conn = Engine & { [kHeld]?: Held, [kAdmission]?: Promise<RealtimeError | undefined> }

/** A `connect_error` for the client: data `{ code, reason: 'connection_limit' }` (as the auth errors carry `auth_error`). */
function limitError (err: RealtimeError): Error & { data: { code: string, reason: 'connection_limit' } } {
  return Object.assign(new Error(err.message), { data: { code: err.code, reason: 'connection_limit' as const } })
}

const userKey = (tenantId: string, userId: string): string => JSON.stringify(['u', tenantId, userId])
const tenantKey = (tenantId: string): string => JSON.stringify(['t', tenantId])

/**
 * Counts a connection of a user and tenant if both are under their limit (0: not counted); returns 0, or 1 (the
 * user's limit) or 2 (the tenant's). Each key is a hash of per-node counts; a node's count is summed only while
 * its lease in KEYS[3] (a sorted set of lease ends) runs, and dropped once it lapsed (a node that died).
 * ARGV: nodeId, perUser, perTenant, key ttl ms, lease ms.
 */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[5]), ARGV[1])
local function count(key)
  local fields = redis.call('HGETALL', key)
  local total = 0
  for i = 1, #fields, 2 do
    local lease = tonumber(redis.call('ZSCORE', KEYS[3], fields[i]) or 0)
    if lease < now then redis.call('HDEL', key, fields[i]) else total = total + tonumber(fields[i + 1]) end
  end
  return total
end
local limits = { tonumber(ARGV[2]), tonumber(ARGV[3]) }
for i = 1, 2 do
  if limits[i] > 0 and count(KEYS[i]) >= limits[i] then return i end
end
for i = 1, 2 do
  if limits[i] > 0 then
    redis.call('HINCRBY', KEYS[i], ARGV[1], 1)
    redis.call('PEXPIRE', KEYS[i], ARGV[4])
  end
end
return 0`

/** Uncounts a connection; ARGV: nodeId, then 1 or 0 for each key (whether it was counted). */
const RELEASE = `
for i = 1, 2 do
  if ARGV[i + 1] == '1' and redis.call('HINCRBY', KEYS[i], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[i], ARGV[1]) end
end
return 0`

/** Renews the node's lease and forgets nodes whose lease lapsed long ago. ARGV: nodeId, lease ms. */
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 10 * tonumber(ARGV[2]))
return 0`

/** How long a user's or tenant's count lives in Redis without a connection or disconnection renewing it. */
const KEY_TTL_MS = 24 * 3600_000

type Script = (...args: Array<string | number>) => Promise<number>

export interface ConnectionLimitsOptions {
  limits: Limits
  redis: Redis | undefined
  keyPrefix: string
  nodeId: string
  log: FastifyBaseLogger
}

/**
 * The connection limits. A connection is an Engine.IO connection (one Socket.IO Manager): its first namespace
 * socket counts it for its user and tenant, the others pass; it is uncounted when the connection closes.
 * Per node the count is local; per user and per tenant it is in Redis when Redis is configured (a node that
 * dies stops renewing its lease, and its counts are dropped within `nodeTimeoutMs`). When Redis cannot be
 * reached a connection is admitted uncounted there (logged once until Redis answers).
 */
export class ConnectionLimits {
  readonly #o: ConnectionLimitsOptions
  #count = 0
  /** Counted in memory (no Redis), per tenant id: its connections (when its limit counts them) and its users'. */
  readonly #local = new Map<string, LocalCounts>()
  readonly #scripts: { reserve: Script, release: Script, heartbeat: Script } | undefined
  readonly #heartbeat: NodeJS.Timeout | undefined
  readonly #onClose: (this: Conn) => void
  #failing = false

  constructor (options: ConnectionLimitsOptions) {
    this.#o = options
    const limits = this
    this.#onClose = function onConnectionClose (this: Conn) { limits.#release(this) }
    const { redis } = options
    if (redis !== undefined && this.#clustered()) {
      redis.defineCommand('rtLimitsReserve', { numberOfKeys: 3, lua: RESERVE })
      redis.defineCommand('rtLimitsRelease', { numberOfKeys: 2, lua: RELEASE })
      redis.defineCommand('rtLimitsHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT })
      const commands = redis as unknown as Record<string, Script>
      this.#scripts = {
        reserve: commands.rtLimitsReserve!.bind(redis),
        release: commands.rtLimitsRelease!.bind(redis),
        heartbeat: commands.rtLimitsHeartbeat!.bind(redis)
      }
      const beat = (): void => {
        this.#scripts!.heartbeat(this.#nodes(), options.nodeId, options.limits.nodeTimeoutMs).catch(() => {})
      }
      beat()
      this.#heartbeat = setInterval(beat, Math.max(250, Math.floor(options.limits.nodeTimeoutMs / 3))).unref()
    }
  }

  /** Connections admitted on this node. */
  get count (): number { return this.#count }

  /** The namespace middleware (after authentication): refuses a connection over a limit with a `connect_error`. */
  middleware (onRefused: (socket: RealtimeSocket, err: RealtimeError) => void) {
    const limits = this
    return function limitConnections (socket: RealtimeSocket, next: (err?: Error) => void): void {
      const conn = socket.client.conn as Conn
      if (conn[kHeld] !== undefined) {
        next()
        return
      }
      // Without Redis the admission is decided at once: no promise, no microtask on the handshake.
      let admission = conn[kAdmission]
      if (admission === undefined) {
        const decided = limits.#admit(conn, socket.data.user)
        if (!(decided instanceof Promise)) {
          settle(socket, decided, next)
          return
        }
        // Two namespaces of one connection joining while Redis answers share one admission.
        admission = decided
        conn[kAdmission] = admission
      }
      admission.then((err) => {
        // Settled: kHeld answers the next namespaces; the promise need not live as long as the connection.
        if (conn[kAdmission] === admission) conn[kAdmission] = undefined
        settle(socket, err, next)
      }, (err: unknown) => { next(err as Error) })
    }
    function settle (socket: RealtimeSocket, err: RealtimeError | undefined, next: (err?: Error) => void): void {
      if (err === undefined) {
        next()
        return
      }
      onRefused(socket, err)
      next(limitError(err))
    }
  }

  /** Stops the lease (other nodes drop this node's counts at once). */
  async close (): Promise<void> {
    clearInterval(this.#heartbeat)
    if (this.#scripts !== undefined) await this.#o.redis!.zrem(this.#nodes(), this.#o.nodeId).catch(() => {})
  }

  /** Whether any tenant has a per-user or per-tenant limit. */
  #clustered (): boolean {
    const l = this.#o.limits
    return l.perUser > 0 || l.perTenant > 0 || Object.values(l.tenants).some((t) => (t.perUser ?? 0) > 0 || (t.perTenant ?? 0) > 0)
  }

  #limitsOf (tenantId: string): { perUser: number, perTenant: number } {
    const l = this.#o.limits
    const own = Object.hasOwn(l.tenants, tenantId) ? l.tenants[tenantId] : undefined
    return { perUser: own?.perUser ?? l.perUser, perTenant: own?.perTenant ?? l.perTenant }
  }

  #nodes (): string { return `${this.#o.keyPrefix}:limits:connections:nodes` }
  #key (key: string): string { return `${this.#o.keyPrefix}:limits:connections:${key}` }

  /** Admits or refuses a connection; a promise only when its user or tenant is counted in Redis. */
  #admit (conn: Conn, user: Identity): RealtimeError | undefined | Promise<RealtimeError | undefined> {
    const { perNode } = this.#o.limits
    if (perNode > 0 && this.#count >= perNode) return new ConnectionLimited(`this node is full (at most ${perNode} connections)`)
    const { perUser, perTenant } = this.#limitsOf(user.tenantId)
    const held: Held = { tenantId: user.tenantId, userId: user.userId, user: perUser > 0, tenant: perTenant > 0, redis: false }
    this.#count++
    if (this.#scripts === undefined) return this.#admitted(conn, held, perUser, perTenant, this.#reserveLocal(held, perUser, perTenant))
    if (held.user || held.tenant) return this.#reserveInRedis(conn, held, perUser, perTenant)
    return this.#admitted(conn, held, perUser, perTenant, 0)
  }

  async #reserveInRedis (conn: Conn, held: Held, perUser: number, perTenant: number): Promise<RealtimeError | undefined> {
    let refused = 0
    try {
      refused = await this.#scripts!.reserve(this.#key(userKey(held.tenantId, held.userId)), this.#key(tenantKey(held.tenantId)), this.#nodes(),
        this.#o.nodeId, perUser, perTenant, KEY_TTL_MS, this.#o.limits.nodeTimeoutMs)
      held.redis = refused === 0
      this.#failing = false
    } catch (err) {
      if (!this.#failing) this.#o.log.warn({ err }, 'connection limits: Redis unreachable, connections admitted without counting them per user and tenant')
      this.#failing = true
    }
    return this.#admitted(conn, held, perUser, perTenant, refused)
  }

  /** Holds a counted connection until it closes, or uncounts it when `refused` is 1 (the user's limit) or 2 (the tenant's). */
  #admitted (conn: Conn, held: Held, perUser: number, perTenant: number, refused: number): RealtimeError | undefined {
    if (refused !== 0) {
      this.#count--
      return new ConnectionLimited(refused === 1
        ? `too many connections for this user (at most ${perUser})`
        : `too many connections for this tenant (at most ${perTenant})`)
    }
    conn[kHeld] = held
    // Closed while Redis answered: no 'close' is coming.
    if (conn.readyState !== 'open') this.#release(conn)
    // `on`, not `once`: Engine.IO emits 'close' once, `#release` is idempotent, and `once` would wrap the shared
    // listener in a closure and a state object per connection (~100 B).
    else conn.on('close', this.#onClose)
    return undefined
  }

  /** Counts in memory (no Redis); 0, or 1 / 2 when the user's / tenant's limit refuses. */
  #reserveLocal (held: Held, perUser: number, perTenant: number): number {
    if (!held.user && !held.tenant) return 0
    let counts = this.#local.get(held.tenantId)
    const ofUser = counts?.users.get(held.userId) ?? 0
    if (held.user && ofUser >= perUser) return 1
    if (held.tenant && (counts?.connections ?? 0) >= perTenant) return 2
    if (counts === undefined) {
      counts = { connections: 0, users: new Map() }
      this.#local.set(held.tenantId, counts)
    }
    if (held.user) counts.users.set(held.userId, ofUser + 1)
    if (held.tenant) counts.connections++
    return 0
  }

  #release (conn: Conn): void {
    const held = conn[kHeld]
    if (held === undefined) return
    conn[kHeld] = undefined
    this.#count--
    if (this.#scripts === undefined) {
      const counts = this.#local.get(held.tenantId)
      if (counts === undefined) return
      if (held.user) {
        const n = (counts.users.get(held.userId) ?? 1) - 1
        if (n <= 0) counts.users.delete(held.userId)
        else counts.users.set(held.userId, n)
      }
      if (held.tenant) counts.connections--
      if (counts.connections <= 0 && counts.users.size === 0) this.#local.delete(held.tenantId)
      return
    }
    if (!held.redis) return
    this.#scripts.release(this.#key(userKey(held.tenantId, held.userId)), this.#key(tenantKey(held.tenantId)),
      this.#o.nodeId, held.user ? 1 : 0, held.tenant ? 1 : 0).catch((err: unknown) => {
      this.#o.log.warn({ err }, 'connection limits: a closed connection could not be uncounted in Redis (its node\'s count stays until the key expires or the node restarts)')
    })
  }
}
