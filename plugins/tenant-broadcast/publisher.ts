/** Publishes one validated event into a tenant: the path shared by the REST triggers and `test-event`. */
import type { PublishResult, RealtimeApi } from 'realtime-server'
import { roomName, type Target } from './target.js'

export interface EventInput {
  type: string
  payload: unknown
  to?: Target
  language?: string
}

export type PublishEvent = (tenantId: string, event: EventInput) => Promise<PublishResult>

/**
 * Clients get `emit(type, payload, { eventId, timestamp, language? })`; the result counts the sockets
 * reached on every node. Nothing but the publish input is allocated for a tenant-wide event.
 */
export function createPublisher (realtime: RealtimeApi, namespace: string): PublishEvent {
  return async (tenantId, { type, payload, to, language }) => await realtime.publish({
    tenantId,
    namespace,
    users: to?.users,
    rooms: to?.room === undefined ? undefined : [roomName(to.room.kind, to.room.id)],
    roles: to?.roles,
    event: type,
    payload,
    meta: language === undefined ? undefined : { language },
    count: true
  })
}
