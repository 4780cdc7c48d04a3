/**
 * The online lists as configured, resolved once at start-up: defaults filled in, one list per namespace,
 * and the event each transition sends, in the list's shape.
 */
import type { PublishInput } from 'realtime-server'
import { PresenceConfig } from './errors.js'
import type { OnlineListOptions } from './schema.js'

export interface OnlineList {
  /** The namespace of its events and queries; also its name in the store. */
  readonly namespace: string
  /** Namespaces whose sockets count. */
  readonly track: readonly string[]
  readonly roles: readonly string[]
  readonly visibleTo: readonly string[]
  readonly events: { readonly online: string, readonly offline: string }
  readonly format: 'user' | 'customer'
  readonly envelope: boolean
  readonly rooms: readonly string[]
}

export function resolveLists (configured: readonly OnlineListOptions[]): Map<string, OnlineList> {
  const lists = new Map<string, OnlineList>()
  for (const o of configured) {
    if (lists.has(o.namespace)) throw new PresenceConfig(`two online lists on namespace ${o.namespace}; merge them (one list per namespace)`)
    lists.set(o.namespace, {
      namespace: o.namespace,
      track: o.track ?? [o.namespace],
      roles: o.roles,
      visibleTo: o.visibleTo,
      events: o.events,
      format: o.format,
      envelope: o.envelope,
      rooms: o.rooms
    })
  }
  return lists
}

/** Whether a user with these roles counts in the list. */
export const tracksUser = (list: OnlineList, roles: readonly string[]): boolean =>
  list.roles.length === 0 || roles.some((r) => list.roles.includes(r))

/** Whether a user with these roles may see the list. */
export const visibleTo = (list: OnlineList, roles: readonly string[]): boolean =>
  list.visibleTo.length === 0 || roles.some((r) => list.visibleTo.includes(r))

/** Whether the list tracks who is online in this room. */
export const tracksRoom = (list: OnlineList, room: string): boolean => list.rooms.some((prefix) => room.startsWith(prefix))

/**
 * The publish of an online or offline transition: to the tenant (or the `visibleTo` roles) of the list's
 * namespace, never to the user's own sockets.
 */
export function announcement (list: OnlineList, tenantId: string, userId: string, online: boolean, at: number): PublishInput {
  const event = online ? list.events.online : list.events.offline
  const payload = list.format === 'customer' ? { customerId: userId, isOnline: online, lastSeen: at } : { userId }
  const input: PublishInput = { tenantId, namespace: list.namespace, except: { users: [userId] }, event, payload }
  if (list.visibleTo.length > 0) input.roles = list.visibleTo
  if (list.envelope) {
    const namespace = list.namespace === '/' ? '/' : list.namespace.slice(1)
    input.meta = (base) => ({ type: event, namespace, data: payload, timestamp: base.timestamp })
  }
  return input
}
