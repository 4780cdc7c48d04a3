// The namespace registry: which plugins use which namespace, the client events and hooks they registered there, and the conflict rules.
import type { Identity } from '../auth/tokens.js'
import { NamespaceConflict, PluginLifecycle } from '../../lib/errors.js'
import type { PublishInput } from '../publish.js'
import type { SocketContext } from '../socket-context.js'
import type { RealtimeNamespace, RealtimeServer, RealtimeSocket } from '../socket-types.js'

export type EventHandler<T = any> = (ctx: SocketContext, data: T) => unknown
export type ConnectionHook = (ctx: SocketContext) => unknown
export type DisconnectHook = (ctx: SocketContext, reason: string) => unknown
/** Runs after `auth:refresh` changed a socket's identity (roles, `exp`), with the identity before the change. */
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

/**
 * How the core writes the times it sends on a namespace: `iso` (`2025-11-05T10:00:00.000Z`, the default, as
 * seeds 001, 003 and 004 write theirs) or `epoch-ms` (`1700000000000`, seed 002's `Date.now()` for all events).
 */
export type TimeFormat = 'iso' | 'epoch-ms'

/** A client event listener, shared by every socket of a namespace (`this` is the socket). */
export type Listener = (this: RealtimeSocket, ...args: unknown[]) => void

/** The name under which the core registers its own events (`auth:refresh`). */
export const CORE = 'core'

interface Registered<F> {
  readonly plugin: string
  readonly fn: F
}

/** One namespace: its Socket.IO namespace, the plugins using it, and what they registered. */
export interface NamespaceEntry {
  readonly nsp: RealtimeNamespace
  /** Plugins using the namespace, and whether they asked for it alone. */
  readonly users: Map<string, boolean>
  /** The listener of each client event, and the plugin that registered it. */
  readonly events: Map<string, { plugin: string, listener: Listener }>
  readonly onConnect: Array<Registered<ConnectionHook>>
  readonly onDisconnect: Array<Registered<DisconnectHook>>
  readonly onPublish: Array<Registered<PublishHook>>
  readonly onIdentityChange: Array<Registered<IdentityHook>>
  /** How the core writes times it sends on the namespace (`auth:expired`, `error`); set by the plugins using it. */
  timeFormat: TimeFormat | undefined
}

/**
 * The namespaces plugins use and what they registered on them. A namespace is prepared (authentication,
 * connection handling) by the function given to `prepare` when it is first asked for; nothing can be
 * registered once the server is ready (`freeze`).
 */
export class NamespaceRegistry {
  readonly #entries = new Map<string, NamespaceEntry>()
  readonly #io: RealtimeServer
  #prepare: ((entry: NamespaceEntry) => void) | undefined
  #frozen = false

  constructor (io: RealtimeServer) {
    this.#io = io
  }

  /**
   * Sets what is done to every namespace when it is first used, and does it to `/`, which always exists in
   * Socket.IO: it is authenticated even when no plugin uses it.
   */
  prepare (prepare: (entry: NamespaceEntry) => void): void {
    if (this.#prepare !== undefined) throw new PluginLifecycle('the namespaces are already prepared')
    this.#prepare = prepare
    this.#entry('/')
  }

  /** No namespace, event or hook can be added once the server is ready. */
  freeze (): void { this.#frozen = true }

  names (): string[] { return [...this.#entries.keys()] }

  /** Every namespace used so far. */
  entries (): IterableIterator<NamespaceEntry> { return this.#entries.values() }

  /** The namespace `name`; undefined when nobody used it. */
  get (name: string): NamespaceEntry | undefined { return this.#entries.get(name) }

  /**
   * Registers `plugin` as a user of namespace `name`; `exclusive` refuses any other plugin on it, and two
   * plugins asking for different time formats conflict.
   */
  use (plugin: string, name: string, exclusive: boolean, timeFormat?: TimeFormat): RealtimeNamespace {
    this.assertOpen(`namespace ${name} requested by "${plugin}"`)
    const entry = this.#entry(name)
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

  /** Registers the listener of a client event; one plugin per event and namespace. */
  handle (plugin: string, name: string, event: string, listener: Listener): void {
    this.assertOpen(`event ${event} registered by "${plugin}"`)
    const entry = this.#entry(name)
    const existing = entry.events.get(event)
    if (existing !== undefined) {
      throw new NamespaceConflict(`client event "${event}" on namespace "${name}" is registered by both "${existing.plugin}" and "${plugin}"`)
    }
    entry.events.set(event, { plugin, listener })
  }

  onConnection (plugin: string, name: string, fn: ConnectionHook): void {
    this.assertOpen(`connection hook of "${plugin}"`)
    this.#entry(name).onConnect.push({ plugin, fn })
  }

  onDisconnect (plugin: string, name: string, fn: DisconnectHook): void {
    this.assertOpen(`disconnect hook of "${plugin}"`)
    this.#entry(name).onDisconnect.push({ plugin, fn })
  }

  /** Sees every publish into the namespace made by other plugins (to bridge it to another transport). */
  onPublish (plugin: string, name: string, fn: PublishHook): void {
    this.assertOpen(`publish hook of "${plugin}"`)
    this.#entry(name).onPublish.push({ plugin, fn })
  }

  /** Runs for each socket of the namespace whose identity an accepted `auth:refresh` changed. */
  onIdentityChange (plugin: string, name: string, fn: IdentityHook): void {
    this.assertOpen(`identity change hook of "${plugin}"`)
    this.#entry(name).onIdentityChange.push({ plugin, fn })
  }

  /** A time as the namespace writes it (`timeFormat`); `ms` since the epoch. */
  time (name: string, ms: number): string | number {
    return this.#entries.get(name)?.timeFormat === 'epoch-ms' ? ms : new Date(ms).toISOString()
  }

  /** Throws when the server is ready: `what` can no longer be registered. */
  assertOpen (what: string): void {
    if (this.#frozen) throw new PluginLifecycle(`${what} after the server started`)
  }

  #entry (name: string): NamespaceEntry {
    const known = this.#entries.get(name)
    if (known !== undefined) return known
    const prepare = this.#prepare
    if (prepare === undefined) throw new PluginLifecycle(`namespace "${name}" used before the namespaces are prepared`)
    const entry: NamespaceEntry = {
      nsp: this.#io.of(name),
      users: new Map(),
      events: new Map(),
      onConnect: [],
      onDisconnect: [],
      onPublish: [],
      onIdentityChange: [],
      timeFormat: undefined
    }
    this.#entries.set(name, entry)
    prepare(entry)
    return entry
  }
}
