// The inspector API's inputs: every id is hostile input (well-formed, bounded), every object closed.
import { Type, type Static } from 'typebox'
import { Id, WELL_FORMED } from '../../lib/ids.js'

const Namespace = Type.String({ minLength: 1, maxLength: 200, pattern: '^/', format: WELL_FORMED, description: 'A Socket.IO namespace, e.g. `/`.' })
const Tenant = Id('The tenant; a tenant-bound admin key may only name its own.')

export const SocketsQuery = Type.Object({
  tenantId: Type.Optional(Tenant),
  namespace: Type.Optional(Namespace),
  search: Type.Optional(Type.String({ maxLength: 200, format: WELL_FORMED, description: 'Part of a socket id, user id or room name.' }))
}, { additionalProperties: false })
export type SocketsQuery = Static<typeof SocketsQuery>

export const TailQuery = Type.Object({
  tenantId: Type.Optional(Tenant),
  namespace: Type.Optional(Namespace),
  event: Type.Optional(Id('An event name.'))
}, { additionalProperties: false })
export type TailQuery = Static<typeof TailQuery>

export const DisconnectBody = Type.Object({
  tenantId: Type.Optional(Tenant),
  userId: Type.Optional(Id('Every socket of this user (of the tenant) is disconnected.')),
  socketId: Type.Optional(Id('This socket is disconnected.', { maxLength: 100 })),
  namespace: Type.Optional(Namespace)
}, { additionalProperties: false })
export type DisconnectBody = Static<typeof DisconnectBody>

export const PublishBody = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 300, pattern: '^/api/', format: WELL_FORMED, description: 'A trigger route, as `GET /inspector/api/overview` lists them.' }),
  body: Type.Record(Type.String(), Type.Unknown(), { description: 'The trigger\'s JSON body, validated by the trigger.' })
}, { additionalProperties: false })
export type PublishBody = Static<typeof PublishBody>
