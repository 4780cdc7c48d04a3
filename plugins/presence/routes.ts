/**
 * REST queries, under `/api/presence`, for an API key or any user token of the tenant (`visibleTo` applies
 * to user tokens; a user asking about a room must be in it):
 * - `GET  /online?namespace&tenantId&room&limit` -> `{ tenantId, namespace, room?, count, users }`
 * - `GET  /users/:userId?namespace&tenantId`     -> the user's state `{ userId, online, connections, since?, lastSeen? }`
 * - `POST /status { namespace?, tenantId?, userIds }` -> `{ users }`
 * Without `namespace`, the first online list answers.
 */
import { Id, Type, type PluginApp, type Principal } from 'realtime-server'
import { NotInRoom, NotVisible, RoomNotTracked, UnknownList } from './errors.js'
import type { ListReply } from './events.js'
import { tracksRoom, visibleTo, type OnlineList } from './online-lists.js'
import type { Presence } from './presence.js'

const Scope = {
  namespace: Type.Optional(Type.String({ pattern: '^/', description: 'The online list; the first configured one when left out.' }))
}
const OnlineQuery = Type.Object({
  ...Scope,
  room: Type.Optional(Id('Only the users online in this room.')),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 }))
}, { additionalProperties: false })
const UserQuery = Type.Object(Scope, { additionalProperties: false })
const UserParams = Type.Object({ userId: Id('The user.') })
const StatusBody = Type.Object({ ...Scope, userIds: Type.Array(Id('A user.'), { minItems: 1, maxItems: 500 }) }, { additionalProperties: false })

export function registerRoutes (app: PluginApp, presence: Presence, maxListSize: number): void {
  const { realtime } = app
  const first = [...presence.lists.values()][0]

  /** The list asked for, checked against the caller's roles. */
  const listFor = (principal: Principal, namespace: string | undefined): OnlineList => {
    const list = namespace === undefined ? first : presence.lists.get(namespace)
    if (list === undefined) throw new UnknownList(namespace ?? '(none configured)')
    if (principal.kind === 'user' && !visibleTo(list, principal.identity.roles)) throw new NotVisible(list.namespace, list.visibleTo.join(', '))
    return list
  }

  realtime.trigger('/online', { method: 'GET', querystring: OnlineQuery, auth: 'user', tenant: true }, async (request) => {
    const { namespace, room, limit: asked } = request.query
    const { principal, tenantId } = request
    const list = listFor(principal, namespace)
    const limit = Math.min(asked ?? maxListSize, maxListSize)
    if (room === undefined) return { tenantId, namespace: list.namespace, ...await presence.online(list, tenantId, limit) }
    if (!tracksRoom(list, room)) throw new RoomNotTracked(room, list.namespace)
    let reply: ListReply
    if (principal.kind === 'user') {
      const all = await presence.inRoom(list, tenantId, room, Infinity)
      if (!all.users.some((u) => u.userId === principal.identity.userId)) throw new NotInRoom(room)
      reply = { count: all.count, users: all.users.slice(0, limit) }
    } else {
      reply = await presence.inRoom(list, tenantId, room, limit)
    }
    return { tenantId, namespace: list.namespace, room, ...reply }
  })

  realtime.trigger('/users/:userId', { method: 'GET', querystring: UserQuery, params: UserParams, auth: 'user', tenant: true }, async (request) => {
    const list = listFor(request.principal, request.query.namespace)
    const [state] = await presence.status(list, request.tenantId, [request.params.userId])
    return state
  })

  realtime.trigger('/status', { body: StatusBody, auth: 'user', tenant: true }, async (request) => {
    const list = listFor(request.principal, request.body.namespace)
    return { users: await presence.status(list, request.tenantId, request.body.userIds) }
  })
}
