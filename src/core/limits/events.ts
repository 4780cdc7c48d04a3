// Event rate limits: the per-socket buckets kept on the socket, the optional user and tenant buckets, flood detection.
import type { EventLimit, LimitsOptions, PluginEntry } from '../../config/schema.js'
import { ConfigInvalid, RateLimited, type RealtimeError } from '../../lib/errors.js'
import type { Identity } from '../auth/tokens.js'
import type { EventCatalog } from '../plugins/catalog.js'
import type { RealtimeSocket } from '../socket-types.js'
import { gcra, next, waitOf, type Gcra } from './bucket.js'
import type { SharedBuckets } from './shared.js'

const kBudget = Symbol('realtime-server.limits.budget')

/**
 * What a socket's limits are made of: a few numbers, created once when it connects (no timer, nothing per
 * event): the arrival time of its shared bucket, of each event with a limit of its own, and its refusals.
 */
class Budget {
  tat = 0
  readonly own: Float64Array | undefined
  refusals = 0
  since = 0
  /** Until when a refused event without ack gets no `error` event (one per retry period is enough). */
  quietUntil = 0
  constructor (ownCount: number) { this.own = ownCount === 0 ? undefined : new Float64Array(ownCount) }
}

type Budgeted = RealtimeSocket & { [kBudget]?: Budget }

/** Which bucket an event of a plugin counts in: the socket's shared one (`index` -1) or one of its own. */
export interface EventSlot {
  readonly limit: Gcra
  readonly index: number
}

/** The longest a client without acks goes without an `error` event while it is refused. */
const QUIET_MAX_MS = 1000
/** Past this many users cooling off, the ones whose time ran out are forgotten before another is added. */
const COOLING_SWEEP_AT = 1024

const coolingKey = (user: Identity): string => `${user.tenantId}\u0000${user.userId}`

export interface EventLimitsOptions {
  limits: LimitsOptions['events']
  /** The plugin entries of the config (`plugins.<name>.limits.events`). */
  plugins: Readonly<Record<string, PluginEntry>>
  /** User and tenant buckets, when `limits.events.user` or `.tenant` is set. */
  shared?: SharedBuckets
}

/**
 * The event limits of a server. Each event's slot is resolved once, when its listener is made; a socket's
 * budget once, at its first counted event (an idle socket holds none); checking an event reads and writes one
 * number on the socket.
 */
export class EventLimits {
  readonly #o: EventLimitsOptions
  readonly #socket: EventSlot
  readonly #slots = new Map<string, EventSlot>()
  #ownCount = 0
  readonly shared: SharedBuckets | undefined
  /** Refusals within `windowMs` that disconnect a socket (0: never). */
  readonly flood: { readonly refusals: number, readonly windowMs: number, readonly coolOffMs: number }
  /** Users disconnected for flooding, until when their new connections are refused. */
  readonly #cooling = new Map<string, number>()

  constructor (options: EventLimitsOptions) {
    this.#o = options
    this.#socket = { limit: gcra(options.limits.socket), index: -1 }
    this.shared = options.shared
    this.flood = options.limits.flood
  }

  /**
   * The bucket of a plugin's event: the config's `plugins.<plugin>.limits.events[event]`, else the plugin's
   * own default (`own`, from `ns.handle`), else the socket's shared bucket.
   */
  slot (plugin: string, event: string, own?: EventLimit): EventSlot {
    const key = `${plugin}\u0000${event}`
    const known = this.#slots.get(key)
    if (known !== undefined) return known
    const entry = this.#o.plugins[plugin]?.limits?.events
    const configured = entry !== undefined && Object.hasOwn(entry, event) ? entry[event] : own
    const slot = configured === undefined ? this.#socket : { limit: gcra(configured), index: this.#ownCount++ }
    this.#slots.set(key, slot)
    return slot
  }

  /**
   * A socket that just connected: its budget (full) is made at its first counted event, so that an idle
   * connection costs none (bench/README.md, "Memory per connection").
   */
  attach (_socket: RealtimeSocket): void {}

  /** Counts an event of `socket` in `slot`: 0 when it passes, else the ms to wait before it would. */
  take (socket: RealtimeSocket, slot: EventSlot, now: number): number {
    const limit = slot.limit
    if (limit.interval === 0) return 0
    const budget = (socket as Budgeted)[kBudget] ??= new Budget(this.#ownCount)
    const own = budget.own
    if (slot.index < 0 || own === undefined) {
      const wait = waitOf(budget.tat, now, limit)
      if (wait === 0) budget.tat = next(budget.tat, now, limit)
      return wait
    }
    const tat = own[slot.index]!
    const wait = waitOf(tat, now, limit)
    if (wait === 0) own[slot.index] = next(tat, now, limit)
    return wait
  }

  /** Counts a refusal of `socket`: true when it flooded (`flood.refusals` within `flood.windowMs`). */
  refused (socket: RealtimeSocket, now: number): boolean {
    const budget = (socket as Budgeted)[kBudget]
    const flood = this.flood
    if (budget === undefined || flood.refusals === 0) return false
    if (now - budget.since > flood.windowMs) {
      budget.since = now
      budget.refusals = 0
    }
    return ++budget.refusals >= flood.refusals
  }

  /** Remembers that `user` was disconnected for flooding: their new connections are refused for `flood.coolOffMs`. */
  flooded (user: Identity, now: number): void {
    const ms = this.flood.coolOffMs
    if (ms === 0) return
    if (this.#cooling.size >= COOLING_SWEEP_AT) {
      for (const [key, until] of this.#cooling) if (until <= now) this.#cooling.delete(key)
    }
    this.#cooling.set(coolingKey(user), now + ms)
  }

  /**
   * The namespace middleware (after authentication, before the connection limits): refuses a connection of a user
   * cooling off after a flood with a `connect_error` `{ code: 'RT_ERR_RATE_LIMITED', reason: 'connection_limit', retryAfterMs }`.
   */
  coolOffMiddleware (onRefused: (socket: RealtimeSocket, err: RealtimeError) => void) {
    const cooling = this.#cooling
    return function coolOff (socket: RealtimeSocket, next: (err?: Error) => void): void {
      if (cooling.size === 0) {
        next()
        return
      }
      const key = coolingKey(socket.data.user)
      const until = cooling.get(key)
      const t = Date.now()
      if (until === undefined || until <= t) {
        if (until !== undefined) cooling.delete(key)
        next()
        return
      }
      const wait = until - t
      const err = new RateLimited(`reconnected ${Math.ceil(wait / 1000)} s too soon after a disconnect for flooding`)
      onRefused(socket, err)
      next(Object.assign(new Error(err.message), { data: { code: err.code, reason: 'connection_limit', retryAfterMs: wait } }))
    }
  }

  /**
   * Whether a refusal without ack gets an `error` event: one per retry period (at most a second), so that a
   * client flooding without acks does not get as many events back.
   */
  notify (socket: RealtimeSocket, now: number, wait: number): boolean {
    const budget = (socket as Budgeted)[kBudget]
    if (budget === undefined) return true
    if (now < budget.quietUntil) return false
    budget.quietUntil = now + Math.min(wait, QUIET_MAX_MS)
    return true
  }

  /** The user and tenant buckets of `user` (undefined when not configured): 0, the ms to wait, or a promise of either. */
  takeShared (user: Identity, now: number): number | Promise<number> {
    return this.shared === undefined ? 0 : this.shared.take(user, now)
  }
}

/**
 * Refuses, at start-up, a plugin entry whose `limits.events` names an event the plugin does not handle
 * (`RT_ERR_CONFIG` naming the key).
 */
export function checkEventLimits (plugin: string, entry: PluginEntry | undefined, catalog: EventCatalog): void {
  const events = entry?.limits?.events
  if (events === undefined) return
  const client = catalog.client ?? {}
  for (const event of Object.keys(events)) {
    if (!Object.hasOwn(client, event)) {
      const known = Object.keys(client).sort()
      throw new ConfigInvalid(`plugins.${plugin}.limits.events.${event}: "${plugin}" has no client event "${event}" (its events: ${known.length === 0 ? 'none' : known.join(', ')})`)
    }
  }
}
