/**
 * The REST trigger: `POST /api/commerce-namespaces/events` publishes one event of any of the 23 types,
 * with the seed's broadcasting options, in the caller's tenant (`tenantId` for an unbound API key). Behind the
 * core's publisher auth (API key or a JWT with a publish role).
 */
import { Id, Type, type PluginApp } from 'realtime-server'
import { eventTypes } from './events.js'
import type { UncheckedPublish } from './publisher.js'

const UserIds = (description: string, minItems: number) =>
  Type.Array(Id('A user id or a role.'), { minItems, maxItems: 1000, uniqueItems: true, description })

export const PublishBody = Type.Object({
  type: Type.Enum(eventTypes, { description: 'One of the 23 event types.' }),
  data: Type.Object({}, { description: 'The payload; validated against the type\'s schema (errors name `data.<field>`).' }),
  roles: Type.Optional(UserIds('Only these roles, within those the matrix allows.', 1)),
  userIds: Type.Optional(UserIds('Only these users, if they hold a role the matrix allows.', 1)),
  excludeUserIds: Type.Optional(UserIds('Never these users.', 0)),
  excludeSessionIds: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), {
    minItems: 0,
    maxItems: 1000,
    uniqueItems: true,
    description: 'Never these sessions: Socket.IO socket ids (`socket.id` in the event\'s namespace) or plain-WebSocket session ids (the `session` message). Typically the sender\'s own.'
  })),
  namespace: Type.Optional(Type.String({ minLength: 1, description: 'Deliver in this configured namespace instead of the event\'s own.' })),
  count: Type.Optional(Type.Boolean({ description: 'Answer with the number of Socket.IO sockets reached.' }))
}, { additionalProperties: false })

/** The routes; `publish` checks `type` and `data` itself (400 naming `data.<field>`). */
export function registerRoutes (app: PluginApp, publish: UncheckedPublish): void {
  const { realtime } = app
  // tenant: true adds `tenantId` to the body: required with an API key not bound to a tenant, otherwise the caller's own.
  realtime.trigger('/events', { body: PublishBody, tenant: true }, async (request) => {
    const { type, data, roles, userIds, excludeUserIds, excludeSessionIds, namespace, count } = request.body
    return await publish(request.tenantId, type, data, { roles, userIds, excludeUserIds, excludeSessionIds, namespace, count })
  })
}
