// The live tail of published events: nothing is hooked into publishing while no inspector watches, on any node.
import type { FastifyBaseLogger } from 'fastify'
import type { ClusterBus } from '../cluster/bus.js'
import type { NamespaceRegistry, PublishedEvent, PublishHook } from '../namespaces/registry.js'

/**
 * How it costs nothing when nobody watches: the tail is an `onPublish` hook that is pushed onto the namespaces'
 * hook lists only while some inspector, on this node or another, watches, and taken off when the last one goes.
 * Without it the publisher's `entry.onPublish.length > 0` check is false, as before the inspector existed: no
 * call, no allocation per publish.
 *
 * Across the cluster: a node with watchers announces it (`inspector:watch`, a lease renewed every
 * LEASE_MS / 3); a node that heard a lease hooks in and sends each event to every node (`inspector:event`, on
 * the cluster bus), where each delivers it to its own watchers. A node that stops announcing is forgotten
 * LEASE_MS later.
 */
const LEASE_MS = 6000
const WATCH = 'inspector:watch'
const EVENT = 'inspector:event'
/** The name the hook is registered under: no plugin can have it (plugin names have no colon). */
const HOOK_OWNER = 'core:inspector'
/** Payloads are shown cut to this many characters of JSON. */
const PAYLOAD_MAX = 2000

/** One published event, as the tail shows it. */
export interface TailRecord {
  node: string
  time: number
  plugin: string | null
  namespace: string
  tenantId: string
  event: string
  eventId: string
  target: { users?: readonly string[], rooms?: readonly string[], roles?: readonly string[] }
  /** The payload as JSON, cut to PAYLOAD_MAX characters. */
  payload: string
}

/** Which events a watcher gets; undefined fields match everything. */
export interface TailFilter {
  tenantId?: string
  namespace?: string
  event?: string
}

interface Watcher {
  readonly filter: TailFilter
  readonly send: (record: TailRecord) => void
}

function preview (payload: unknown): string {
  let text: string | undefined
  try {
    text = JSON.stringify(payload)
  } catch {
    return '"[not serializable]"'
  }
  if (text === undefined) return 'null'
  return text.length > PAYLOAD_MAX ? `${text.slice(0, PAYLOAD_MAX)}...` : text
}

const matches = (f: TailFilter, r: TailRecord): boolean =>
  (f.tenantId === undefined || f.tenantId === r.tenantId) &&
  (f.namespace === undefined || f.namespace === r.namespace) &&
  (f.event === undefined || f.event === r.event)

export interface TailOptions {
  registry: NamespaceRegistry
  bus: ClusterBus
  nodeId: string
  log: FastifyBaseLogger
}

export class Tail {
  readonly #o: TailOptions
  readonly #watchers = new Set<Watcher>()
  readonly #hook: { plugin: string, fn: PublishHook }
  #hooked = false
  /** Another node announced watchers within LEASE_MS. */
  #remote = false
  #remoteTimer: NodeJS.Timeout | undefined
  #announceTimer: NodeJS.Timeout | undefined

  constructor (options: TailOptions) {
    this.#o = options
    this.#hook = { plugin: HOOK_OWNER, fn: (event) => { this.#published(event) } }
    options.bus.on(EVENT, (record: TailRecord) => { this.#deliver(record) })
    options.bus.on(WATCH, (data: { nodeId?: unknown }) => {
      if (data?.nodeId !== this.#o.nodeId) this.#leaseHeard()
    })
  }

  /** Watchers on this node. */
  get watchers (): number { return this.#watchers.size }

  /** Whether publishes on this node are hooked (someone watches here or elsewhere). */
  get hooked (): boolean { return this.#hooked }

  /** Starts sending the events matching `filter` to `send`; returns the function that stops it. */
  watch (filter: TailFilter, send: (record: TailRecord) => void): () => void {
    const watcher: Watcher = { filter, send }
    this.#watchers.add(watcher)
    if (this.#watchers.size === 1) {
      this.#announce()
      this.#announceTimer = setInterval(() => { this.#announce() }, LEASE_MS / 3).unref()
    }
    this.#update()
    return () => {
      if (!this.#watchers.delete(watcher)) return
      if (this.#watchers.size === 0) {
        clearInterval(this.#announceTimer)
        this.#announceTimer = undefined
      }
      this.#update()
    }
  }

  close (): void {
    this.#watchers.clear()
    clearInterval(this.#announceTimer)
    clearTimeout(this.#remoteTimer)
    this.#remote = false
    this.#update()
  }

  #announce (): void {
    if (this.#o.bus.link === undefined) return
    try {
      this.#o.bus.emit(WATCH, { nodeId: this.#o.nodeId })
    } catch (err) {
      this.#o.log.debug({ err }, 'inspector watch not announced (Redis unreachable)')
    }
  }

  #leaseHeard (): void {
    this.#remote = true
    clearTimeout(this.#remoteTimer)
    this.#remoteTimer = setTimeout(() => {
      this.#remote = false
      this.#update()
    }, LEASE_MS).unref()
    this.#update()
  }

  /** Hooks into every namespace's publishes while someone watches, and out once nobody does. */
  #update (): void {
    const want = this.#watchers.size > 0 || this.#remote
    if (want === this.#hooked) return
    this.#hooked = want
    for (const entry of this.#o.registry.entries()) {
      const hooks = entry.onPublish
      if (want) hooks.push(this.#hook)
      else {
        const i = hooks.indexOf(this.#hook)
        if (i >= 0) hooks.splice(i, 1)
      }
    }
  }

  #published ({ input, eventId, plugin }: PublishedEvent): void {
    const target: TailRecord['target'] = {}
    if (input.users !== undefined) target.users = input.users
    if (input.rooms !== undefined) target.rooms = input.rooms
    if (input.roles !== undefined) target.roles = input.roles
    const record: TailRecord = {
      node: this.#o.nodeId,
      time: Date.now(),
      plugin: plugin ?? null,
      namespace: input.namespace ?? '/',
      tenantId: input.tenantId,
      event: input.event,
      eventId,
      target,
      payload: preview(input.payload)
    }
    if (!this.#remote) {
      this.#deliver(record)
      return
    }
    try {
      // Delivered here too (the bus runs this node's handlers first).
      this.#o.bus.emit(EVENT, record)
    } catch {
      this.#deliver(record)
    }
  }

  #deliver (record: TailRecord): void {
    for (const w of this.#watchers) {
      if (!matches(w.filter, record)) continue
      try {
        w.send(record)
      } catch (err) {
        this.#o.log.warn({ err }, 'inspector tail watcher failed')
      }
    }
  }
}
