/** Publishes one validated event into a tenant: the path shared by the REST triggers and `test-event`. */
import type { PluginNamespace, PublishResult } from 'realtime-server'
import { kindRoom } from './rooms.js'
import type { Target } from './target.js'

export interface EventInput {
  type: string
  payload: unknown
  to?: Target
  language?: string
}

export type PublishEvent = (tenantId: string, event: EventInput) => Promise<PublishResult>

/**
 * Clients get `emit(type, payload, { eventId, timestamp, language? })`; the result counts the sockets
 * reached on every node.
 */
export function createPublisher (ns: PluginNamespace): PublishEvent {
  return async (tenantId, { type, payload, to, language }) => await ns.publish({
    tenantId,
    users: to?.users,
    rooms: to?.room === undefined ? undefined : [kindRoom(to.room.kind, to.room.id)],
    roles: to?.roles,
    event: type,
    payload,
    meta: language === undefined ? undefined : { language },
    count: true
  })
}
