/** A plugin's event catalog: the events it handles and emits, and the start-up check that keeps it true. */
import type { TSchema } from 'typebox'
import { PluginInvalid } from '../../lib/errors.js'

/** A client-to-server event: what the client sends, what a successful ack carries, which catalog errors it may answer. */
export interface ClientEvent {
  payload: TSchema
  /** The reply of a successful ack (`{ ok: true }` when the handler returns nothing). */
  ack?: TSchema
  /** Catalog codes (`RT_ERR_...`) the event may answer besides `RT_ERR_VALIDATION`. */
  errors?: readonly string[]
  description?: string
  /** The namespaces it is handled on; checked at start-up when given. */
  namespaces?: readonly string[]
  /**
   * Forwarded to the backends' webhook endpoints as `client.<event>` (`{ plugin, namespace, event, userId, socketId,
   * payload }`) once its handler succeeded, when an endpoint takes that type; the ack waits until it is queued.
   */
  forward?: boolean
}

/** A server-to-client event: the payload argument (the meta argument follows it unless the publish says `meta: false`). */
export interface ServerEvent {
  payload: TSchema
  description?: string
  namespaces?: readonly string[]
  /** The meta argument when the plugin's publishes extend or drop it (`false`); `{ eventId, timestamp }` otherwise. */
  meta?: TSchema | false
  /** The room templates (keys of the catalog's `rooms`) the event is published to; the whole namespace otherwise. */
  rooms?: readonly string[]
}

/** A room a plugin publishes to, by its address template (`channel:{channelId}`); the core scopes it to the tenant. */
export interface RoomEntry {
  description?: string
  namespaces?: readonly string[]
}

/** A plain WebSocket endpoint of the plugin's own: its path and its JSON messages, by `action` (client) and `type` (server). */
export interface WebSocketCatalog {
  path: string
  description?: string
  /** Client messages, by the value of their discriminator. */
  client: Record<string, TSchema>
  /** Server messages (replies, errors and event envelopes), by the value of their discriminator. */
  server: Record<string, TSchema>
  /** The discriminating fields: `action` and `type` by default. */
  discriminators?: { client: string, server: string }
}

/**
 * The events of a plugin, by name. A bare schema is the payload. The catalog is load-bearing: at start-up every
 * event the plugin handles must be in `client` with the schema its handler validates with, and every `client`
 * event must be handled; generated documents and client types (docs, AsyncAPI) are made from it.
 *
 * @example
 * events: {
 *   client: { 'room:join': { payload: Join, ack: Joined, errors: ['RT_ERR_FORBIDDEN'] } },
 *   server: { 'room:message': Message }
 * }
 */
export interface EventCatalog {
  client?: Record<string, TSchema | ClientEvent>
  /** Server events by name; `'*'` declares every other event (a relay whose event names come from its callers). */
  server?: Record<string, TSchema | ServerEvent>
  /** The rooms the plugin publishes to, by address template: in the documents, and the rooms the control routes may move users into (docs/control.md). */
  rooms?: Record<string, RoomEntry>
  /** A plain WebSocket endpoint of the plugin's own (documents and client types only). */
  websocket?: WebSocketCatalog
}

/** A handler a plugin registered: on which namespace, for which event, validated with which schema. */
export interface HandledEvent {
  readonly namespace: string
  readonly event: string
  readonly schema: TSchema
}

/** Whether a catalog entry is the long form (`{ payload, ... }`) rather than a bare TypeBox schema. */
function isEntry (value: TSchema | ClientEvent | ServerEvent): value is ClientEvent | ServerEvent {
  return !('~kind' in value) && typeof (value as { payload?: unknown }).payload === 'object'
}

/** The long form of a client event entry. */
export const clientEvent = (value: TSchema | ClientEvent): ClientEvent => isEntry(value) ? value : { payload: value }
/** The long form of a server event entry. */
export const serverEvent = (value: TSchema | ServerEvent): ServerEvent => isEntry(value) ? value : { payload: value }

const sameSchema = (a: TSchema, b: TSchema): boolean => a === b || JSON.stringify(a) === JSON.stringify(b)

/** Refuses a plugin whose handlers and catalog disagree (RT_ERR_PLUGIN_INVALID naming the plugin and the event). */
export function checkCatalog (plugin: string, catalog: EventCatalog, handled: readonly HandledEvent[]): void {
  const client = catalog.client ?? {}
  const problems: string[] = []
  const namespacesOf = new Map<string, Set<string>>()
  for (const h of handled) {
    const declared = Object.hasOwn(client, h.event) ? client[h.event] : undefined
    if (declared === undefined) {
      problems.push(`client event "${h.event}" is handled on ${h.namespace} but not declared in its events catalog`)
      continue
    }
    if (!sameSchema(clientEvent(declared).payload, h.schema)) {
      problems.push(`client event "${h.event}" is handled on ${h.namespace} with a schema other than its catalog's payload`)
    }
    let set = namespacesOf.get(h.event)
    if (set === undefined) namespacesOf.set(h.event, set = new Set())
    set.add(h.namespace)
  }
  for (const [event, value] of Object.entries(client)) {
    const on = namespacesOf.get(event)
    if (on === undefined) {
      problems.push(`client event "${event}" is declared in its events catalog but not handled`)
      continue
    }
    const expected = clientEvent(value).namespaces
    if (expected !== undefined && (expected.length !== on.size || !expected.every((n) => on.has(n)))) {
      problems.push(`client event "${event}" is declared for ${expected.join(', ')} but handled on ${[...on].join(', ')}`)
    }
  }
  if (problems.length > 0) throw new PluginInvalid(`"${plugin}": ${problems.join('; ')}`)
}

/** The client events a catalog marks `forward: true`. */
export function forwardedEvents (catalog: EventCatalog): Set<string> {
  const out = new Set<string>()
  for (const [event, entry] of Object.entries(catalog.client ?? {})) if (isEntry(entry) && (entry as ClientEvent).forward === true) out.add(event)
  return out
}
