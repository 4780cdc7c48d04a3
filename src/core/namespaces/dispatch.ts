// Handler dispatch: the shared per-event listener (rate limit, validate, call, ack, fail), the unknown-event answer, the connection, disconnect and identity hooks, and the drain of their promises.
import type { TSchema } from 'typebox'
import type { FastifyBaseLogger } from 'fastify'
import type { EventLimit } from '../../config/schema.js'
import type { ExpiryService } from '../auth/expiry.js'
import type { Identity } from '../auth/tokens.js'
import { asCatalogError, clientError, Flooding, isCatalogError, RateLimited, UnknownEvent, type RealtimeError } from '../../lib/errors.js'
import { backOff, stopReading } from '../limits/backoff.js'
import { clock } from '../limits/clock.js'
import type { EventLimits, EventSlot } from '../limits/events.js'
import type { Cell } from '../metrics/cells.js'
import { UNKNOWN_EVENT } from '../metrics/catalog.js'
import type { Metrics } from '../metrics/metrics.js'
import type { PublishInput, PublishResult } from '../publish.js'
import { roleRoom, tenantRoom, userRoom } from '../rooms.js'
import { contextOf, type EmitCheck, type SocketContext } from '../socket-context.js'
import type { RealtimeSocket } from '../socket-types.js'
import type { SocketLog } from '../socket-logs.js'
import { compactConnectionArrays } from '../patches/compact-arrays.js'
import { shrinkConnectionMaps } from '../patches/small-maps.js'
import { compactListenerTables } from '../patches/listener-tables.js'
import { HandshakeStrings } from '../patches/shared-strings.js'
import { installEventTable, setEventTable, type TableListener, type UnknownListener } from '../patches/event-table.js'
import { compile, validationError, type Validator } from '../../lib/validation.js'
import { CORE, type EventHandler, type Listener, type NamespaceEntry, type NamespaceRegistry } from './registry.js'

/**
 * Answers a payload that failed its schema, instead of the core's `RT_ERR_VALIDATION` (for a protocol that
 * reports failures its own way); its result is the ack, as a handler's.
 */
export type InvalidHandler = (ctx: SocketContext, data: unknown, error: RealtimeError) => unknown

/** A Socket.IO acknowledgement callback. */
export type Ack = (response: unknown) => void

const OK = Object.freeze({ ok: true })
const RATE_LIMITED = 'RT_ERR_RATE_LIMITED'
/** How much of an unknown event's name an error echoes. */
const EVENT_ECHO_MAX = 100

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function'

export interface DispatcherOptions {
  registry: NamespaceRegistry
  /** Armed with the token's `exp` when a socket connects, disarmed when it leaves. */
  expiry: ExpiryService<RealtimeSocket>
  /** What `ctx.publish` calls. */
  publish: (input: PublishInput) => Promise<PublishResult>
  /** The event rate limits, checked before anything else for every client event. */
  limits: EventLimits
  log: FastifyBaseLogger
  /** The lines of connections, disconnections and events nothing handles. */
  socketLog: SocketLog
  /** Each event's counters are resolved once, with its listener. */
  metrics: Metrics
}

/** A refusal of the rate limits, as `onInvalid` gets it: the ms to wait, and the limit (events at once, per ms). */
export type RateLimitedError = RealtimeError & { retryAfterMs: number, limit: { events: number, perMs: number } }

/**
 * Runs what plugins registered on a namespace for its sockets: the client event handlers, through one
 * listener per event and namespace shared by every socket, and the connection, disconnect and identity hooks.
 * Nothing is allocated per socket but its context.
 */
export class Dispatcher {
  readonly #o: DispatcherOptions
  readonly #pending = new Set<Promise<unknown>>()
  /** The 'disconnect' listener of every socket (`this` is the socket). */
  readonly #onDisconnect: (this: RealtimeSocket, reason: string, description: unknown) => void
  /** The catch-all listener of every socket: answers client events nothing handles (`this` is the socket). */
  readonly #onAnyEvent: (this: RealtimeSocket, event: string) => void
  /** The listeners made by `listener` (they check the limits themselves); others are wrapped by `#guard`. */
  readonly #checked = new WeakSet<Listener>()
  /** The listeners each namespace's sockets get, made on its first connection. */
  readonly #bound = new WeakMap<NamespaceEntry, { size: number, listeners: Array<[string, Listener]> }>()
  /**
   * Whether client events are looked up in one table per namespace (`patches/event-table.ts`) rather than
   * registered on every socket; false only on a Socket.IO whose dispatch the patch does not know.
   */
  readonly #tables: boolean
  /** What the table calls for an event nothing handles (the catch-all's work, without a listener per socket). */
  readonly #onUnknown: UnknownListener
  /** Events nothing handles, counted under one label. */
  readonly #unknown: Cell
  /** One copy of the handshake strings most connections repeat. */
  readonly #strings = new HandshakeStrings()

  constructor (options: DispatcherOptions) {
    this.#o = options
    this.#unknown = options.metrics.event(CORE, UNKNOWN_EVENT).in
    const dispatcher = this
    this.#onDisconnect = function onDisconnect (this: RealtimeSocket, reason: string, description: unknown) { dispatcher.#disconnected(this, reason, description) }
    // Every event passes here first, so the handled ones cost one listener lookup and nothing else; `arguments`
    // is read by index (no rest array).
    this.#onUnknown = (socket, event, last) => {
      this.#unknown.value++
      this.#unknownEvent(socket as RealtimeSocket, event, last)
    }
    this.#onAnyEvent = function onAnyEvent (this: RealtimeSocket, event: string) {
      if (this.listenerCount(event) > 0) return
      dispatcher.#onUnknown(this, event, arguments.length > 1 ? arguments[arguments.length - 1] : undefined)
    }
    this.#tables = installEventTable()
    if (!this.#tables) this.#o.log.warn({ patch: 'event-table' }, "event-table off: Socket.IO's Socket.dispatch is not the code it was written for; each socket gets a listener per handled event")
  }

  /** Handles the connections of a namespace. */
  attach (entry: NamespaceEntry): void {
    const accepted = this.#o.metrics.accepted(entry.nsp.name)
    entry.nsp.on('connection', (socket: RealtimeSocket) => {
      accepted.value++
      this.#connected(entry, socket)
    })
  }

  /**
   * The listener of a client event, shared by every socket (`this` is the socket): counts it against the rate
   * limits (the socket's bucket, then the user's and tenant's when configured), checks the payload against
   * `schema`, calls the handler, and acks its result (`{ ok: true }` for none) or its error. `limit` is the
   * plugin's own per-socket limit of the event (the config's `plugins.<name>.limits.events` overrides it).
   */
  listener (plugin: string, event: string, schema: TSchema | undefined, handler: EventHandler, onInvalid?: InvalidHandler, limit?: EventLimit): Listener {
    const validator: Validator<unknown> | undefined = schema === undefined ? undefined : compile(schema)
    const dispatcher = this
    const limits = this.#o.limits
    const slot = limits.slot(plugin, event, limit)
    // Resolved once per event, as its slot: counting is a number written, no label looked up.
    const cells = this.#o.metrics.event(plugin, event)
    const listener = function onEvent (this: RealtimeSocket, ...args: unknown[]): void {
      cells.in.value++
      const ack = typeof args[args.length - 1] === 'function' ? args.pop() as Ack : undefined
      const data = args[0]
      const now = clock()
      const wait = limits.take(this, slot, now)
      if (wait > 0) {
        cells.rateLimited.value++
        dispatcher.#refuse(this, plugin, event, ack, wait, slot, now, onInvalid, data)
        return
      }
      if (limits.shared === undefined) {
        dispatcher.#handle(this, plugin, event, ack, data, validator, handler, onInvalid, cells.invalid)
        return
      }
      const shared = limits.takeShared(this.data.user, now)
      if (typeof shared === 'number') {
        if (shared > 0) {
          cells.rateLimited.value++
          dispatcher.#refuse(this, plugin, event, ack, shared, slot, now, onInvalid, data)
        } else {
          dispatcher.#handle(this, plugin, event, ack, data, validator, handler, onInvalid, cells.invalid)
        }
        return
      }
      shared.then((w) => {
        if (w > 0) {
          cells.rateLimited.value++
          dispatcher.#refuse(this, plugin, event, ack, w, slot, Date.now(), onInvalid, data)
        } else dispatcher.#handle(this, plugin, event, ack, data, validator, handler, onInvalid, cells.invalid)
      }, (err: unknown) => { dispatcher.fail(this, plugin, event, ack, err) })
    }
    this.#checked.add(listener)
    return listener
  }

  /** Validates the payload and runs the handler (or `onInvalid`). */
  #handle (socket: RealtimeSocket, plugin: string, event: string, ack: Ack | undefined, data: unknown, validator: Validator<unknown> | undefined, handler: EventHandler, onInvalid: InvalidHandler | undefined, invalid: Cell): void {
    if (validator !== undefined && !validator.check(data)) {
      invalid.value++
      const error = validationError(validator.problems(data)[0]!)
      if (onInvalid === undefined) this.fail(socket, plugin, event, ack, error)
      else this.#answer(socket, plugin, event, ack, onInvalid, data, error)
      return
    }
    this.#answer(socket, plugin, event, ack, handler, data, undefined)
  }

  /**
   * The listener of a client event registered without `listener` (the core's `auth:refresh`): the socket's
   * rate limit first, then the listener.
   */
  #guard (plugin: string, event: string, listener: Listener): Listener {
    const dispatcher = this
    const limits = this.#o.limits
    const slot = limits.slot(plugin, event)
    const cells = this.#o.metrics.event(plugin, event)
    return function guarded (this: RealtimeSocket, ...args: unknown[]): void {
      cells.in.value++
      const now = clock()
      const wait = limits.take(this, slot, now)
      if (wait === 0) {
        listener.apply(this, args)
        return
      }
      cells.rateLimited.value++
      const last = args[args.length - 1]
      dispatcher.#refuse(this, plugin, event, typeof last === 'function' ? last as Ack : undefined, wait, slot, now, undefined, undefined)
    }
  }

  /**
   * Answers an event over a rate limit: `RT_ERR_RATE_LIMITED` with `retryAfterMs` in the ack, else as an
   * `error` event (at most one per retry period, and per second), or through `onInvalid` for a protocol of its own. Built
   * without an Error (no stack trace) unless `onInvalid` needs one: a flood costs little to refuse; and the
   * connection is not read for the retry period (0.1 to 1 s: `backOff`). A socket
   * refused too often is disconnected for flooding (`RT_ERR_FLOOD` as an `error` event first).
   */
  #refuse (socket: RealtimeSocket, plugin: string, event: string, ack: Ack | undefined, wait: number, slot: EventSlot, now: number, onInvalid: InvalidHandler | undefined, data: unknown): void {
    const limits = this.#o.limits
    const flooded = limits.refused(socket, now)
    backOff(socket.conn, wait)
    const message = `Rate limit exceeded: ${event}, retry in ${wait} ms`
    if (onInvalid !== undefined) {
      const err = Object.assign(new RateLimited(`${event}, retry in ${wait} ms`), {
        retryAfterMs: wait,
        retryAfter: Math.ceil(wait / 1000),
        limit: { events: slot.limit.burst, perMs: slot.limit.windowMs }
      })
      this.#answer(socket, plugin, event, ack, onInvalid, data, err)
    } else if (ack !== undefined) {
      ack({ error: { code: RATE_LIMITED, message, retryAfterMs: wait } })
    } else if (limits.notify(socket, now, wait)) {
      socket.emit('error', { code: RATE_LIMITED, message, retryAfterMs: wait, event, timestamp: this.#o.registry.time(socket.nsp.name, now) })
    }
    if (flooded && socket.connected) {
      const err = new Flooding(`events refused ${limits.flood.refusals} times within ${limits.flood.windowMs} ms`)
      this.#o.log.warn({ nsp: socket.nsp.name, socketId: socket.id, userId: socket.data.user.userId, tenantId: socket.data.user.tenantId, event }, 'socket disconnected for flooding')
      socket.emit('error', { ...clientError(err), event, timestamp: this.#o.registry.time(socket.nsp.name, now) })
      limits.flooded(socket.data.user, now)
      stopReading(socket.conn)
      socket.disconnect(true)
    }
  }

  /** Runs a handler and answers: its result (or `{ ok: true }`) in the ack, a throw or rejection as a failure. */
  #answer (socket: RealtimeSocket, plugin: string, event: string, ack: Ack | undefined, fn: InvalidHandler, data: unknown, error: RealtimeError | undefined): void {
    let result: unknown
    try {
      result = fn(this.context(socket), data, error!)
    } catch (err) {
      this.fail(socket, plugin, event, ack, err)
      return
    }
    if (isThenable(result)) {
      result.then((value) => { if (ack !== undefined) ack(value ?? OK) }, (err: unknown) => { this.fail(socket, plugin, event, ack, err) })
    } else if (ack !== undefined) {
      ack(result ?? OK)
    }
  }

  /** The socket's context for handlers and hooks (created once per socket). */
  context (socket: RealtimeSocket): SocketContext { return contextOf(socket, this.#o.publish, this.emitCheck) }

  /** Checks what `ctx.emit` sends against the catalogs (contracts.validateEmits); undefined, the default, checks nothing. */
  emitCheck: EmitCheck | undefined = undefined

  /** Answers a failed event: in the ack when there is one, else as an `error` event; never a stack trace. */
  fail (socket: RealtimeSocket, plugin: string, event: string, ack: Ack | undefined, err: unknown): void {
    err = asCatalogError(err)
    if (!isCatalogError(err)) {
      this.#o.log.error({ err, plugin, event, nsp: socket.nsp.name, socketId: socket.id }, `handler of "${event}" failed`)
    }
    const error = clientError(err)
    if (ack !== undefined) ack({ error })
    else socket.emit('error', { ...error, event, timestamp: this.#o.registry.time(socket.nsp.name, Date.now()) })
  }

  /** Runs the identity hooks of the socket's namespace, after `auth:refresh` gave it a new identity. */
  identityChanged (socket: RealtimeSocket, previous: Identity): void {
    const hooks = this.#o.registry.get(socket.nsp.name)?.onIdentityChange ?? []
    for (const { plugin, fn } of hooks) this.#runHook(plugin, 'identity change', socket, () => fn(this.context(socket), previous))
  }

  /** Settles once the promises of connection, disconnect and identity hooks started so far have settled. */
  async drain (): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  #connected (entry: NamespaceEntry, socket: RealtimeSocket): void {
    const user = socket.data.user
    void socket.join(coreRooms(user))
    compactConnectionArrays(socket)
    shrinkConnectionMaps(socket)
    this.#strings.share(socket)
    this.#o.limits.attach(socket)
    const listeners = this.#listenersOf(entry)
    if (!this.#tables) for (const [event, listener] of listeners) socket.on(event, listener)
    this.#o.expiry.arm(socket, user.exp)
    // One listener shared by every socket ('disconnect' is emitted once): no closure per socket.
    socket.on('disconnect', this.#onDisconnect)
    if (!this.#tables) socket.onAny(this.#onAnyEvent)
    compactListenerTables(socket)
    this.#o.socketLog.connected(socket)
    for (const { plugin, fn } of entry.onConnect) this.#runHook(plugin, 'connection', socket, () => fn(this.context(socket)))
  }

  /**
   * The listeners of a namespace's events, those not made by `listener` wrapped in the rate limit; made again
   * (and the namespace's event table with them) when events were added since.
   */
  #listenersOf (entry: NamespaceEntry): Array<[string, Listener]> {
    const known = this.#bound.get(entry)
    if (known !== undefined && known.size === entry.events.size) return known.listeners
    const listeners: Array<[string, Listener]> = []
    for (const [event, { plugin, listener }] of entry.events) {
      listeners.push([event, this.#checked.has(listener) ? listener : this.#guard(plugin, event, listener)])
    }
    this.#bound.set(entry, { size: entry.events.size, listeners })
    if (this.#tables) setEventTable(entry.nsp, new Map(listeners as Array<[string, TableListener]>), this.#onUnknown)
    return listeners
  }

  #disconnected (socket: RealtimeSocket, reason: string, description: unknown): void {
    this.#o.expiry.disarm(socket)
    this.#o.socketLog.disconnected(socket, reason, description)
    const entry = this.#o.registry.get(socket.nsp.name)!
    for (const { plugin, fn } of entry.onDisconnect) this.#runHook(plugin, 'disconnect', socket, () => fn(this.context(socket), reason))
  }

  /**
   * A client event no listener handles. With an ack it is answered (a client awaiting it must not hang), with
   * `RT_ERR_UNKNOWN_EVENT` naming it and the handled events of its family (`subscribe:flow` lists the declared
   * `subscribe:<kind>` events). Without an ack, a typo within a handled family gets the same error as an `error`
   * event (the habit of clients that emit without ack); anything else is only logged. Each is
   * logged at `info` with its code, at most once per socket within `server.logRepeatMs` (`SocketLog.ignored`).
   */
  #unknownEvent (socket: RealtimeSocket, event: string, last: unknown): void {
    const ack = typeof last === 'function' ? last as Ack : undefined
    const colon = event.lastIndexOf(':')
    const family = colon > 0 ? event.slice(0, colon + 1) : undefined
    this.#o.socketLog.ignored(socket, event, ack !== undefined)
    const handled = family === undefined ? [] : this.#handledIn(socket.nsp.name, family)
    if (ack === undefined && handled.length === 0) return
    const detail = handled.length > 0
      ? `(handled: ${handled.join(', ')})`
      : family === undefined ? '' : `(no ${family}* event is handled here)`
    // The name is client input: a 1 MB event name is not sent back whole.
    const shown = event.length > EVENT_ECHO_MAX ? `${event.slice(0, EVENT_ECHO_MAX)}...` : event
    const err = new UnknownEvent(`${JSON.stringify(shown)} on namespace ${socket.nsp.name} ${detail}`.trimEnd())
    err.field = 'event'
    this.fail(socket, CORE, event, ack, err)
  }

  /** The events of a family (`subscribe:`) handled on a namespace, sorted. */
  #handledIn (name: string, family: string): string[] {
    const events = this.#o.registry.get(name)?.events.keys() ?? []
    return [...events].filter((e) => e.startsWith(family)).sort()
  }

  /** Runs a hook: its error (thrown or rejected) is logged, its promise kept until settled for `drain`. */
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
}

function coreRooms (user: Identity): string[] {
  const rooms = [tenantRoom(user.tenantId), userRoom(user.tenantId, user.userId)]
  for (const r of user.roles) rooms.push(roleRoom(user.tenantId, r))
  return rooms
}
