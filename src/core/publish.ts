// Publishing: who a target selects, the emit through the adapter, the wait for Redis, the count of recipients, and the onPublish hooks.
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { performance } from 'node:perf_hooks'
import type { ClusterBus } from './cluster/bus.js'
import type { Metrics } from './metrics/metrics.js'
import { NotReady, PluginLifecycle } from '../lib/errors.js'
import type { NamespaceEntry, NamespaceRegistry, PublishedEvent } from './namespaces/registry.js'
import { roleRoom, scopedRoom, tenantRoom, userRoom } from './rooms.js'
import type { RealtimeNamespace } from './socket-types.js'

/**
 * Who receives a publish. Without users, rooms or roles: the whole tenant. Users, rooms and roles add up;
 * lists that are given but empty select nobody.
 */
export interface PublishTarget {
  /** The tenant; every room targeted is within it. */
  tenantId: string
  /** RealtimeNamespace name; `/` when omitted. */
  namespace?: string
  users?: readonly string[]
  /** Plugin rooms such as `campaign:42`. */
  rooms?: readonly string[]
  roles?: readonly string[]
  except?: {
    users?: readonly string[]
    roles?: readonly string[]
    rooms?: readonly string[]
    /** One socket, usually the sender's. */
    socketId?: string
    /** Several sockets (ids as Socket.IO gives them: every socket is in the room of its own id). */
    socketIds?: readonly string[]
  }
}

/** The base metadata of an event: sent as the last argument unless `meta` is `false`. */
export interface EventMeta {
  eventId: string
  /** Epoch ms when the event was published. */
  timestamp: number
  [key: string]: unknown
}

/**
 * One publish: its target, event and payload.
 *
 * @example
 * await realtime.publish({ tenantId, rooms: [`campaign:${id}`], except: { roles: ['customer'] }, event: 'campaign:progress', payload, count: true })
 */
export interface PublishInput extends PublishTarget {
  event: string
  payload: unknown
  /**
   * The argument after the payload: by default `{ eventId, timestamp }`; an object is merged into it;
   * a function builds it from the base; `false` sends the payload alone.
   */
  meta?: false | Record<string, unknown> | ((base: EventMeta) => unknown)
  /** Use a known id (for idempotent triggers) instead of a new UUID. */
  eventId?: string
  /** Count the sockets reached, on every node (costs one cluster round trip with Redis). */
  count?: boolean
  /** Drop the event for clients that are not ready to receive (typing indicators and the like). */
  volatile?: boolean
}

export interface PublishResult {
  eventId: string
  /** Sockets reached, when `count` was asked. */
  recipients?: number
  /** True when some node did not report its count in time. */
  partial?: boolean
}

export interface RoomSelection {
  rooms: string[]
  except: string[]
}

/** The Socket.IO rooms of a target, all within its tenant. */
export function selectRooms (t: PublishTarget): RoomSelection {
  const rooms: string[] = []
  const tid = t.tenantId
  if (t.users !== undefined) for (const u of t.users) rooms.push(userRoom(tid, u))
  if (t.rooms !== undefined) for (const r of t.rooms) rooms.push(scopedRoom(tid, r))
  if (t.roles !== undefined) for (const r of t.roles) rooms.push(roleRoom(tid, r))
  if (t.users === undefined && t.rooms === undefined && t.roles === undefined) rooms.push(tenantRoom(tid))
  const except: string[] = []
  const ex = t.except
  if (ex !== undefined) {
    if (ex.users !== undefined) for (const u of ex.users) except.push(userRoom(tid, u))
    if (ex.roles !== undefined) for (const r of ex.roles) except.push(roleRoom(tid, r))
    if (ex.rooms !== undefined) for (const r of ex.rooms) except.push(scopedRoom(tid, r))
    if (ex.socketId !== undefined) except.push(ex.socketId)
    if (ex.socketIds !== undefined) for (const id of ex.socketIds) except.push(id)
  }
  return { rooms, except }
}

/** Sockets of this node in any of `rooms` and none of `except`. */
export function countLocal (nsp: RealtimeNamespace, { rooms, except }: RoomSelection): number {
  const all = nsp.adapter.rooms
  if (rooms.length === 1 && except.length === 0) return all.get(rooms[0]!)?.size ?? 0
  const excluded = new Set<string>()
  for (const r of except) for (const id of all.get(r) ?? []) excluded.add(id)
  const seen = new Set<string>()
  for (const r of rooms) for (const id of all.get(r) ?? []) if (!excluded.has(id)) seen.add(id)
  return seen.size
}

/** The sizes of the selected rooms on this node, added: exact for one room, else an upper bound (a socket in two rooms counts twice, `except` is not taken off). */
function roomSizes (nsp: RealtimeNamespace, { rooms }: RoomSelection): number {
  const all = nsp.adapter.rooms
  let n = 0
  for (const r of rooms) n += all.get(r)?.size ?? 0
  return n
}

/** What one emit sent: its id, and the argument after the payload (undefined with `meta: false`). */
export interface Emitted {
  eventId: string
  meta: unknown
}

/**
 * Emits `event` to the selected rooms through the namespace's adapter, so that one node and many
 * nodes behave the same. Returns synchronously what is known without asking other nodes.
 */
export function emitTo (nsp: RealtimeNamespace, input: PublishInput, sel: RoomSelection): Emitted {
  const base: EventMeta = { eventId: input.eventId ?? randomUUID(), timestamp: Date.now() }
  const m = input.meta
  const meta = m === false ? undefined : m === undefined ? base : typeof m === 'function' ? m(base) : { ...base, ...m }
  // Empty target lists select nobody (`to([])` would be the whole namespace, every tenant).
  if (sel.rooms.length === 0) return { eventId: base.eventId, meta }
  let op = nsp.to(sel.rooms)
  if (sel.except.length > 0) op = op.except(sel.except)
  if (input.volatile === true) op = op.volatile
  if (m === false) op.emit(input.event, input.payload)
  else op.emit(input.event, input.payload, meta)
  return { eventId: base.eventId, meta }
}

export interface PublisherOptions {
  registry: NamespaceRegistry
  bus: ClusterBus
  log: FastifyBaseLogger
  metrics: Metrics
}

/** The one publish primitive of the core, behind `app.realtime.publish`, `ns.publish` and `ctx.publish`. */
export class Publisher {
  readonly #o: PublisherOptions
  /** Publishes `input` for `plugin` (undefined for `ctx.publish` from a socket handler). */
  readonly publish = (input: PublishInput, plugin?: string): Promise<PublishResult> => this.#publish(input, plugin)
  /** Checks each publish against the event catalogs (contracts.validateEmits); undefined, the default, checks nothing. */
  checkEmit: ((input: PublishInput, plugin?: string) => void) | undefined = undefined

  constructor (options: PublisherOptions) {
    this.#o = options
  }

  async #publish (input: PublishInput, plugin?: string): Promise<PublishResult> {
    this.checkEmit?.(input, plugin)
    const name = input.namespace ?? '/'
    const entry = this.#o.registry.get(name)
    if (entry === undefined) throw new PluginLifecycle(`publish to namespace "${name}", which no plugin uses`)
    const { bus, metrics } = this.#o
    const start = metrics.enabled ? performance.now() : 0
    const selection = selectRooms(input)
    const link = bus.link
    // Refused while Redis is down rather than delivered on this node only (docs/operations.md, "Redis outage").
    if (link !== undefined) {
      bus.assertUp()
      link.last = undefined
    }
    const { eventId, meta } = emitTo(entry.nsp, input, selection)
    // The XADD the adapter started inside `emit` (none for an empty selection): resolved means Redis took
    // the event and every node will read it; this node's sockets get it once it resolves.
    const accepted = link?.last
    if (entry.onPublish.length > 0) this.#notify(entry, { input, eventId, meta, plugin })
    // The sockets of this node in the selection, exactly for `count`; for the metrics alone, the rooms' sizes
    // (a map read each: never a walk over the recipients, which cost 7% per delivered message).
    let recipients = selection.rooms.length === 0 ? 0 : input.count === true ? countLocal(entry.nsp, selection) : metrics.enabled ? roomSizes(entry.nsp, selection) : 0
    if (metrics.enabled) metrics.published(plugin, name, input.tenantId, recipients)
    if (input.count !== true) {
      if (accepted !== undefined) await reachedRedis(accepted)
      if (metrics.enabled) metrics.publishDuration.observe((performance.now() - start) / 1000)
      return { eventId }
    }
    // Empty target lists select nobody, on every node.
    if (selection.rooms.length === 0) return { eventId, recipients: 0 }
    if (link === undefined) {
      if (metrics.enabled) metrics.publishDuration.observe((performance.now() - start) / 1000)
      return { eventId, recipients }
    }
    // Asked before waiting for the XADD: the two round trips overlap.
    const elsewhere = bus.countElsewhere(entry.nsp, selection)
    if (accepted !== undefined) await reachedRedis(accepted)
    if (metrics.enabled) metrics.publishDuration.observe((performance.now() - start) / 1000)
    const { count, partial } = await elsewhere
    recipients += count
    return partial ? { eventId, recipients, partial } : { eventId, recipients }
  }

  /** The `onPublish` hooks of the namespace, but the publishing plugin's own. */
  #notify (entry: NamespaceEntry, event: PublishedEvent): void {
    for (const { plugin, fn } of entry.onPublish) {
      if (plugin === event.plugin) continue
      try {
        fn(event)
      } catch (err) {
        this.#o.log.error({ err, plugin, event: event.input.event }, 'publish hook failed')
      }
    }
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
