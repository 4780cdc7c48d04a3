import type { FastifyBaseLogger } from 'fastify'
import type { TSchema } from 'typebox'
import { ExpiryWheel, refreshToken, socketAuthMiddleware } from './auth/socket-auth.js'
import type { Identity, TokenVerifier } from './auth/tokens.js'
import type { ClusterLink } from './patches/cluster-link.js'
import { asCatalogError, clientError, isCatalogError, NamespaceConflict, NotReady, PluginLifecycle, UnknownEvent } from '../lib/errors.js'
import { countLocal, emitTo, selectRooms, type PublishInput, type PublishResult, type PublishTarget, type RoomSelection } from './publish.js'
import { roleRoom, scopedRoom, tenantRoom, userRoom } from './rooms.js'
import { clusterLinkOf } from './socketio.js'
import { contextOf, type SocketContext } from './socket-context.js'
import { compile, validationError, type Validator } from '../lib/validation.js'
import type { RealtimeNamespace, RealtimeServer, RealtimeSocket } from './socket-types.js'

export type EventHandler<T = any> = (ctx: SocketContext, data: T) => unknown
export type ConnectionHook = (ctx: SocketContext) => unknown
export type DisconnectHook = (ctx: SocketContext, reason: string) => unknown
/** Runs after an accepted `auth:refresh` changed a socket's identity; `previous` is the identity before. */
export type IdentityHook = (ctx: SocketContext, previous: Identity) => unknown
/** An event published into a namespace, as seen by `onPublish` hooks on the publishing node. */
export interface PublishedEvent {
  readonly input: PublishInput
  readonly eventId: string
  /** The argument sent after the payload (undefined with `meta: false`). */
  readonly meta: unknown
  /** The publishing plugin; undefined for `ctx.publish` from a socket handler. */
  readonly plugin: string | undefined
}
export type PublishHook = (event: PublishedEvent) => void
type Ack = (response: unknown) => void
type Listener = (this: RealtimeSocket, ...args: unknown[]) => void

interface EventEntry {
  plugin: string
  listener: Listener
}

interface NamespaceEntry {
  readonly nsp: RealtimeNamespace
  /** Plugins using the namespace, and whether they asked for it alone. */
  readonly users: Map<string, boolean>
  readonly events: Map<string, EventEntry>
  readonly onConnect: Array<{ plugin: string, fn: ConnectionHook }>
  readonly onDisconnect: Array<{ plugin: string, fn: DisconnectHook }>
  readonly onIdentityChange: Array<{ plugin: string, fn: IdentityHook }>
  readonly onPublish: Array<{ plugin: string, fn: PublishHook }>
  /** How the core writes times it sends on the namespace (`auth:expired`, `error`); set by the plugins using it. */
  timeFormat: TimeFormat | undefined
}

/**
 * How the core writes the times it sends on a namespace: `iso` (`2025-11-05T10:00:00.000Z`, the default, as
 * seeds 001, 003 and 004 write theirs) or `epoch-ms` (`1700000000000`, seed 002's `Date.now()` for all events).
 */
export type TimeFormat = 'iso' | 'epoch-ms'

export interface NamespaceStats {
  sockets: number
  rooms: number
  tenants: Record<string, number>
}

const OK = Object.freeze({ ok: true })
const CORE = 'core'
const COUNT_EVENT = 'rt:count'
const STATS_EVENT = 'rt:stats'
const CLUSTER_EVENT = 'rt:cluster'
/** How much of an unknown event's name an error echoes. */
const EVENT_ECHO_MAX = 100

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function'

export interface RegistryOptions {
  io: RealtimeServer
  verifier: TokenVerifier
  log: FastifyBaseLogger
  expiryGraceMs: number
  countTimeoutMs: number
}

/**
 * The namespaces plugins use, the client events they handle, and the per-socket plumbing the core
 * adds to every namespace: authentication, the tenant/user/role rooms, token expiry and refresh.
 */
export class NamespaceRegistry {
  readonly #entries = new Map<string, NamespaceEntry>()
  readonly #pending = new Set<Promise<unknown>>()
  readonly #o: RegistryOptions
  /** The adapter's Redis link; undefined without Redis. */
  readonly #link: ClusterLink | undefined
  readonly #expiry: ExpiryWheel<RealtimeSocket>
  /** The 'disconnect' listener of every socket (`this` is the socket). */
  readonly #onDisconnect: (this: RealtimeSocket, reason: string) => void
  /** The catch-all listener of every socket: answers client events nothing handles (`this` is the socket). */
  readonly #onAnyEvent: (this: RealtimeSocket, event: string) => void
  #frozen = false
  readonly publish = (input: PublishInput, plugin?: string): Promise<PublishResult> => this.#publish(input, plugin)

  readonly #clusterHandlers = new Map<string, Array<(data: unknown) => void>>()

  constructor (options: RegistryOptions) {
    this.#o = options
    this.#link = clusterLinkOf(options.io)
    this.#expiry = new ExpiryWheel<RealtimeSocket>(options.expiryGraceMs, {
      expired: (socket) => { this.#expired(socket) },
      // This namespace socket only: the connection and its other namespaces stay (`disconnect(true)` would
      // close them all, with a reason the client never retries).
      ended: (socket) => { socket.disconnect() }
    }, (err) => { options.log.error({ err }, 'token expiry failed') })
    const registry = this
    this.#onDisconnect = function onDisconnect (this: RealtimeSocket, reason: string) { registry.#disconnected(this, reason) }
    // Every event passes here first, so the handled ones cost one listener lookup and nothing else; `arguments`
    // is read by index (no rest array).
    this.#onAnyEvent = function onAnyEvent (this: RealtimeSocket, event: string) {
      if (this.listenerCount(event) > 0) return
      registry.#unknownEvent(this, event, arguments.length > 1 ? arguments[arguments.length - 1] : undefined)
    }
    // `/` always exists in Socket.IO: it is authenticated even when no plugin uses it.
    const main = this.#create('/')
    main.nsp.on(CLUSTER_EVENT as any, (name: string, data: unknown) => { this.#deliverCluster(name, data) })
  }

  /**
   * Runs the handlers of `name` on every node (this one included), through the adapter. Throws NotReady
   * (and runs nothing) while Redis is unreachable, as a publish does.
   */
  clusterEmit (name: string, data: unknown): void {
    const link = this.#link
    if (link !== undefined && !link.up) throw new NotReady('Redis is unreachable')
    this.#deliverCluster(name, data)
    if (link !== undefined) {
      link.serverSideEmit(this.#entries.get('/')!.nsp, [CLUSTER_EVENT, name, data], (err) => {
        this.#o.log.warn({ err, event: name }, 'cluster message not sent to other nodes')
      })
    }
  }

  clusterOn (name: string, handler: (data: any) => void): void {
    this.#assertOpen(`cluster handler ${name}`)
    const list = this.#clusterHandlers.get(name) ?? []
    list.push(handler)
    this.#clusterHandlers.set(name, list)
  }

  #deliverCluster (name: string, data: unknown): void {
    for (const handler of this.#clusterHandlers.get(name) ?? []) {
      try {
        handler(data)
      } catch (err) {
        this.#o.log.error({ err, event: name }, 'cluster handler failed')
      }
    }
  }

  /** No namespace or event can be added once the server is ready. */
  freeze (): void { this.#frozen = true }

  names (): string[] { return [...this.#entries.keys()] }

  #assertOpen (what: string): void {
    if (this.#frozen) throw new PluginLifecycle(`${what} after the server started`)
  }

  /**
   * Registers `plugin` as a user of namespace `name`; `exclusive` refuses any other plugin on it, and two
   * plugins asking for different time formats conflict.
   */
  use (plugin: string, name: string, exclusive: boolean, timeFormat?: TimeFormat): RealtimeNamespace {
    this.#assertOpen(`namespace ${name} requested by "${plugin}"`)
    const entry = this.#entries.get(name) ?? this.#create(name)
    for (const [other, otherExclusive] of entry.users) {
      if (other !== plugin && (exclusive || otherExclusive)) {
        throw new NamespaceConflict(`namespace "${name}" is claimed by both "${other}" and "${plugin}"`)
      }
    }
    if (timeFormat !== undefined && entry.timeFormat !== undefined && timeFormat !== entry.timeFormat) {
      throw new NamespaceConflict(`namespace "${name}" is asked for with times as ${entry.timeFormat} and as ${timeFormat} (by "${plugin}")`)
    }
    entry.users.set(plugin, exclusive || (entry.users.get(plugin) ?? false))
    entry.timeFormat ??= timeFormat
    return entry.nsp
  }

  handle<S extends TSchema | undefined> (plugin: string, name: string, event: string, schema: S, handler: EventHandler): void {
    this.#assertOpen(`event ${event} registered by "${plugin}"`)
    const entry = this.#entries.get(name) ?? this.#create(name)
    const existing = entry.events.get(event)
    if (existing !== undefined) {
      throw new NamespaceConflict(`client event "${event}" on namespace "${name}" is registered by both "${existing.plugin}" and "${plugin}"`)
    }
    const validator = schema === undefined ? undefined : compile(schema)
    entry.events.set(event, { plugin, listener: this.#listener(plugin, event, validator, handler) })
  }

  onConnection (plugin: string, name: string, fn: ConnectionHook): void {
    this.#assertOpen(`connection hook of "${plugin}"`)
    this.#entries.get(name)!.onConnect.push({ plugin, fn })
  }

  onDisconnect (plugin: string, name: string, fn: DisconnectHook): void {
    this.#assertOpen(`disconnect hook of "${plugin}"`)
    this.#entries.get(name)!.onDisconnect.push({ plugin, fn })
  }

  onIdentityChange (plugin: string, name: string, fn: IdentityHook): void {
    this.#assertOpen(`identity hook of "${plugin}"`)
    this.#entries.get(name)!.onIdentityChange.push({ plugin, fn })
  }

  /** Sees every publish into the namespace made by other plugins (to bridge it to another transport). */
  onPublish (plugin: string, name: string, fn: PublishHook): void {
    this.#assertOpen(`publish hook of "${plugin}"`)
    this.#entries.get(name)!.onPublish.push({ plugin, fn })
  }

  /** Adds the sockets of a target, on every node, to a room of the target's tenant. */
  async socketsJoin (name: string, target: PublishTarget, room: string): Promise<void> {
    await this.#roomChange(name, target, room, 'join')
  }

  /** Removes the sockets of a target, on every node, from a room of the target's tenant. */
  async socketsLeave (name: string, target: PublishTarget, room: string): Promise<void> {
    await this.#roomChange(name, target, room, 'leave')
  }

  async #roomChange (name: string, target: PublishTarget, room: string, action: 'join' | 'leave'): Promise<void> {
    const entry = this.#entries.get(name)
    if (entry === undefined) throw new PluginLifecycle(`namespace "${name}" is not used by any plugin`)
    const { rooms, except } = selectRooms(target)
    if (rooms.length === 0) return
    // Refused while Redis is down: the other nodes would not see the change.
    if (this.#link !== undefined && !this.#link.up) throw new NotReady('Redis is unreachable')
    let op = entry.nsp.in(rooms)
    if (except.length > 0) op = op.except(except)
    const scoped = scopedRoom(target.tenantId, room)
    if (action === 'leave') op.socketsLeave(scoped)
    else op.socketsJoin(scoped)
  }

  /** Settles once the promises of connection/disconnect hooks started so far have settled. */
  async drain (): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  /** Connected sockets, rooms and sockets per tenant; across the cluster unless `local`. */
  async stats (name: string, local = false): Promise<NamespaceStats & { partial?: boolean }> {
    const entry = this.#entries.get(name)
    if (entry === undefined) return { sockets: 0, rooms: 0, tenants: {} }
    const mine = localStats(entry.nsp)
    const link = this.#link
    if (local || link === undefined) return mine
    const { responses, partial } = await this.#ask<NamespaceStats>(link, entry.nsp, STATS_EVENT, null)
    for (const r of responses) {
      mine.sockets += r.sockets
      mine.rooms += r.rooms
      for (const [t, n] of Object.entries(r.tenants)) mine.tenants[t] = (mine.tenants[t] ?? 0) + n
    }
    return partial ? { ...mine, partial } : mine
  }

  async #publish (input: PublishInput, plugin?: string): Promise<PublishResult> {
    const name = input.namespace ?? '/'
    const entry = this.#entries.get(name)
    if (entry === undefined) throw new PluginLifecycle(`publish to namespace "${name}", which no plugin uses`)
    const selection = selectRooms(input)
    const link = this.#link
    // Refused while Redis is down rather than delivered on this node only (docs/operations.md, "Redis outage").
    if (link !== undefined) {
      if (!link.up) throw new NotReady('Redis is unreachable')
      link.last = undefined
    }
    const { eventId, meta } = emitTo(entry.nsp, input, selection)
    // The XADD the adapter started inside `emit` (none for an empty selection): resolved means Redis took
    // the event and every node will read it; this node's sockets get it once it resolves.
    const accepted = link?.last
    if (entry.onPublish.length > 0) this.#notifyPublish(entry, { input, eventId, meta, plugin })
    if (input.count !== true) {
      if (accepted !== undefined) await reachedRedis(accepted)
      return { eventId }
    }
    // Empty target lists select nobody, on every node.
    if (selection.rooms.length === 0) return { eventId, recipients: 0 }
    let recipients = countLocal(entry.nsp, selection)
    if (link === undefined) return { eventId, recipients }
    // Asked before waiting for the XADD: the two round trips overlap.
    const asked = this.#ask<number>(link, entry.nsp, COUNT_EVENT, selection)
    if (accepted !== undefined) await reachedRedis(accepted)
    const { responses, partial } = await asked
    for (const n of responses) recipients += n
    return partial ? { eventId, recipients, partial } : { eventId, recipients }
  }

  #notifyPublish (entry: NamespaceEntry, event: PublishedEvent): void {
    for (const { plugin, fn } of entry.onPublish) {
      if (plugin === event.plugin) continue
      try {
        fn(event)
      } catch (err) {
        this.#o.log.error({ err, plugin, event: event.input.event }, 'publish hook failed')
      }
    }
  }

  /** Asks every other node (server-side emit with ack); a node that does not answer in time makes the result partial. */
  async #ask<T> (link: ClusterLink, nsp: RealtimeNamespace, event: string, data: unknown): Promise<{ responses: T[], partial: boolean }> {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => { resolve({ responses: [], partial: true }) }, this.#o.countTimeoutMs)
      link.serverSideEmit(nsp, [event, data, (err: Error | null, responses: T[]) => {
        clearTimeout(timer)
        resolve({ responses: responses ?? [], partial: err !== null && err !== undefined })
      }], () => {
        // Redis could not be asked how many nodes there are: nobody will answer.
        clearTimeout(timer)
        resolve({ responses: [], partial: true })
      })
    })
  }

  #create (name: string): NamespaceEntry {
    const { io, verifier, log } = this.#o
    const nsp = io.of(name)
    const entry: NamespaceEntry = { nsp, users: new Map(), events: new Map(), onConnect: [], onDisconnect: [], onIdentityChange: [], onPublish: [], timeFormat: undefined }
    this.#entries.set(name, entry)
    nsp.use(socketAuthMiddleware(verifier, (socket, err) => {
      log.info({ nsp: name, socketId: socket.id, code: err.code, reason: err.cause }, 'socket authentication refused')
    }))
    nsp.on('connection', (socket: RealtimeSocket) => { this.#onConnection(entry, socket) })
    // Other nodes ask for counts and stats through the adapter.
    nsp.on(COUNT_EVENT as any, (selection: RoomSelection, ack: Ack) => { ack(countLocal(nsp, selection)) })
    nsp.on(STATS_EVENT as any, (_: unknown, ack: Ack) => { ack(localStats(nsp)) })
    entry.events.set('auth:refresh', { plugin: CORE, listener: this.#refreshListener() })
    return entry
  }

  #onConnection (entry: NamespaceEntry, socket: RealtimeSocket): void {
    const user = socket.data.user
    void socket.join(coreRooms(user))
    for (const [event, { listener }] of entry.events) socket.on(event, listener)
    this.#expiry.arm(socket, user.exp)
    // One listener shared by every socket ('disconnect' is emitted once): no closure per socket.
    socket.on('disconnect', this.#onDisconnect)
    socket.onAny(this.#onAnyEvent)
    for (const { plugin, fn } of entry.onConnect) this.#runHook(plugin, 'connection', socket, () => fn(this.#ctx(socket)))
  }

  #disconnected (socket: RealtimeSocket, reason: string): void {
    this.#expiry.disarm(socket)
    const entry = this.#entries.get(socket.nsp.name)!
    for (const { plugin, fn } of entry.onDisconnect) this.#runHook(plugin, 'disconnect', socket, () => fn(this.#ctx(socket), reason))
  }

  /**
   * A client event no listener handles. With an ack it is answered (a client awaiting it must not hang), with
   * `RT_ERR_UNKNOWN_EVENT` naming it and the handled events of its family (`subscribe:flow` lists the declared
   * `subscribe:<kind>` events). Without an ack, a typo within a handled family gets the same error as an `error`
   * event (the habit of clients that emit without ack); anything else is only logged at debug.
   */
  #unknownEvent (socket: RealtimeSocket, event: string, last: unknown): void {
    const ack = typeof last === 'function' ? last as Ack : undefined
    const colon = event.lastIndexOf(':')
    const family = colon > 0 ? event.slice(0, colon + 1) : undefined
    const handled = family === undefined ? [] : this.#handledIn(socket.nsp.name, family)
    if (ack === undefined && handled.length === 0) {
      this.#o.log.debug({ nsp: socket.nsp.name, socketId: socket.id, event }, 'client event nothing handles, without ack')
      return
    }
    const detail = handled.length > 0
      ? `(handled: ${handled.join(', ')})`
      : family === undefined ? '' : `(no ${family}* event is handled here)`
    // The name is client input: a 1 MB event name is not sent back whole.
    const shown = event.length > EVENT_ECHO_MAX ? `${event.slice(0, EVENT_ECHO_MAX)}...` : event
    const err = new UnknownEvent(`${JSON.stringify(shown)} on namespace ${socket.nsp.name} ${detail}`.trimEnd())
    err.field = 'event'
    this.#fail(socket, CORE, event, ack, err)
  }

  /** The events of a family (`subscribe:`) handled on a namespace, sorted. */
  #handledIn (name: string, family: string): string[] {
    const events = this.#entries.get(name)?.events.keys() ?? []
    return [...events].filter((e) => e.startsWith(family)).sort()
  }

  #ctx (socket: RealtimeSocket): SocketContext { return contextOf(socket, this.publish) }

  #runHook (plugin: string, kind: string, socket: RealtimeSocket, run: () => unknown): void {
    const logError = (err: unknown): void => {
      this.#o.log.error({ err, plugin, hook: kind, nsp: socket.nsp.name, socketId: socket.id }, `${kind} hook of plugin "${plugin}" failed`)
    }
    try {
      const result = run()
      if (isThenable(result)) {
        const p = Promise.resolve(result).catch(logError)
        this.#pending.add(p)
        void p.finally(() => this.#pending.delete(p))
      }
    } catch (err) {
      logError(err)
    }
  }

  /** One listener per event and namespace, shared by every socket (`this` is the socket). */
  #listener (plugin: string, event: string, validator: Validator<unknown> | undefined, handler: EventHandler): Listener {
    const registry = this
    return function onEvent (this: RealtimeSocket, ...args: unknown[]): void {
      const ack = typeof args[args.length - 1] === 'function' ? args.pop() as Ack : undefined
      const data = args[0]
      if (validator !== undefined && !validator.check(data)) {
        registry.#fail(this, plugin, event, ack, validationError(validator.problems(data)[0]!))
        return
      }
      let result: unknown
      try {
        result = handler(registry.#ctx(this), data)
      } catch (err) {
        registry.#fail(this, plugin, event, ack, err)
        return
      }
      if (isThenable(result)) {
        result.then((value) => { if (ack !== undefined) ack(value ?? OK) }, (err: unknown) => { registry.#fail(this, plugin, event, ack, err) })
      } else if (ack !== undefined) {
        ack(result ?? OK)
      }
    }
  }

  #refreshListener (): Listener {
    const { verifier } = this.#o
    const registry = this
    return function onRefresh (this: RealtimeSocket, ...args: unknown[]): void {
      const ack = typeof args[args.length - 1] === 'function' ? args.pop() as Ack : undefined
      refreshToken(this, verifier, args[0]).then((identity) => {
        registry.#renew(this, identity)
        ack?.({ ok: true, exp: identity.exp ?? null })
      }, (err: unknown) => { registry.#fail(this, CORE, 'auth:refresh', ack, err) })
    }
  }

  /**
   * A refresh renews every namespace socket of the connection (one Socket.IO Manager) that speaks for the same
   * user and tenant, so one `auth:refresh` keeps all of them. They are found through the user room they
   * joined at connection, on the few namespaces there are: nothing is kept per connection for it.
   */
  #renew (socket: RealtimeSocket, identity: Identity): void {
    this.#apply(socket, identity)
    const room = userRoom(identity.tenantId, identity.userId)
    for (const { nsp } of this.#entries.values()) {
      if (nsp === socket.nsp) continue
      for (const id of nsp.adapter.rooms.get(room) ?? []) {
        const sibling = nsp.sockets.get(id)
        if (sibling?.client === socket.client && sibling.connected) this.#apply(sibling, identity)
      }
    }
  }

  /** The socket now speaks with `identity`: its role rooms follow the roles, its expiry the new `exp`. */
  #apply (socket: RealtimeSocket, identity: Identity): void {
    const before = socket.data.user
    socket.data.user = identity
    if (identity.roles.join() !== before.roles.join()) {
      for (const r of before.roles) void socket.leave(roleRoom(before.tenantId, r))
      void socket.join(identity.roles.map((r) => roleRoom(identity.tenantId, r)))
    }
    this.#expiry.arm(socket, identity.exp)
    const entry = this.#entries.get(socket.nsp.name)!
    for (const { plugin, fn } of entry.onIdentityChange) this.#runHook(plugin, 'identity', socket, () => fn(this.#ctx(socket), before))
  }

  /** `auth:expired` { expiredAt, graceMs }, `expiredAt` in the namespace's time format. */
  #expired (socket: RealtimeSocket): void {
    const ms = (socket.data.user.exp ?? 0) * 1000
    socket.emit('auth:expired', { expiredAt: this.#time(socket, ms), graceMs: this.#expiry.graceMs })
  }

  #time (socket: RealtimeSocket, ms: number): string | number {
    return this.#entries.get(socket.nsp.name)?.timeFormat === 'epoch-ms' ? ms : new Date(ms).toISOString()
  }

  /** Answers a failed event: in the ack when there is one, else as an `error` event; never a stack trace. */
  #fail (socket: RealtimeSocket, plugin: string, event: string, ack: Ack | undefined, err: unknown): void {
    err = asCatalogError(err)
    if (!isCatalogError(err)) {
      this.#o.log.error({ err, plugin, event, nsp: socket.nsp.name, socketId: socket.id }, `handler of "${event}" failed`)
    }
    const error = clientError(err)
    if (ack !== undefined) ack({ error })
    else socket.emit('error', { ...error, event, timestamp: this.#time(socket, Date.now()) })
  }
}

/** Waits for the XADD of a publish; its failure (Redis down or refusing) is NotReady: other nodes will not get the event. */
async function reachedRedis (accepted: Promise<unknown>): Promise<void> {
  try {
    await accepted
  } catch (err) {
    throw new NotReady('the event did not reach Redis', { cause: err })
  }
}

function coreRooms (user: Identity): string[] {
  const rooms = [tenantRoom(user.tenantId), userRoom(user.tenantId, user.userId)]
  for (const r of user.roles) rooms.push(roleRoom(user.tenantId, r))
  return rooms
}

function localStats (nsp: RealtimeNamespace): NamespaceStats {
  const tenants: Record<string, number> = {}
  for (const socket of nsp.sockets.values()) {
    const t = socket.data.user?.tenantId
    if (t !== undefined) tenants[t] = (tenants[t] ?? 0) + 1
  }
  let rooms = 0
  for (const name of nsp.adapter.rooms.keys()) if (!nsp.sockets.has(name)) rooms++
  return { sockets: nsp.sockets.size, rooms, tenants }
}
