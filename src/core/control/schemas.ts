// The control routes' inputs and answers: every id is hostile input (well-formed, bounded), every object closed.
import { Type, type Static, type TString } from 'typebox'
import { Id, WELL_FORMED } from '../../lib/ids.js'

const UserId = Id('The user: the user claim (`sub` by default) of their tokens.')
const namespace = (description: string): TString => Type.String({ minLength: 1, maxLength: 200, pattern: '^/', format: WELL_FORMED, description })
const OneNamespace = namespace('Only the sockets of this namespace (one a plugin uses, e.g. `/`); all namespaces otherwise.')
const Reason = Type.String({
  maxLength: 500,
  format: WELL_FORMED,
  description: 'Sent to each socket as `rt:disconnect` { reason } right before it is disconnected.'
})

export const SocketsQuery = Type.Object({
  userId: UserId,
  namespace: Type.Optional(OneNamespace)
}, { additionalProperties: false })
export type SocketsQuery = Static<typeof SocketsQuery>

export const DisconnectUserBody = Type.Object({
  userId: UserId,
  namespace: Type.Optional(OneNamespace),
  reason: Type.Optional(Reason)
}, { additionalProperties: false })
export type DisconnectUserBody = Static<typeof DisconnectUserBody>

export const DisconnectSocketBody = Type.Object({
  socketId: Id('A socket id, as `GET /api/control/sockets` lists them (the client\'s `socket.id`).', { maxLength: 100 }),
  reason: Type.Optional(Reason)
}, { additionalProperties: false })
export type DisconnectSocketBody = Static<typeof DisconnectSocketBody>

export const RoomBody = Type.Object({
  userId: UserId,
  room: Id('A room of a template that a plugin on the namespace declares in its events catalog (`channel:42` for `channel:{channelId}`); the core scopes it to the tenant.'),
  namespace: Type.Optional(namespace('The namespace of the room; `/` by default.'))
}, { additionalProperties: false })
export type RoomBody = Static<typeof RoomBody>

const SocketEntry = Type.Object({
  id: Type.String({ description: 'The socket id (the client\'s `socket.id`).' }),
  node: Type.String({ description: 'The id of the node it is connected to (random per process start).' }),
  namespace: Type.String(),
  transport: Type.String({ description: '`websocket` or `polling`.' }),
  connectedAt: Type.String({ description: 'ISO time of its handshake.' }),
  rooms: Type.Array(Type.String(), { description: 'Its rooms within the tenant, as plugins name them (`channel:42`), and `user:<id>`, `role:<name>`.' })
})

const Partial = Type.Boolean({ description: 'A node did not answer within publish.countTimeoutMs: its sockets are missing from the answer.' })

export const SocketsAnswer = Type.Object({
  tenantId: Type.String(),
  userId: Type.String(),
  partial: Partial,
  sockets: Type.Array(SocketEntry, { description: 'Sorted by namespace, then connection time.' })
}, { description: 'The user\'s sockets on the nodes that answered.' })

export const DisconnectUserAnswer = Type.Object({
  disconnected: Type.Integer({ description: 'The user\'s sockets found on the nodes that answered (each was sent the disconnect).' }),
  partial: Partial
}, { description: 'Every socket of the user was sent `rt:disconnect` and the disconnection.' })

export const DisconnectSocketAnswer = Type.Object({
  disconnected: Type.Literal(1),
  namespace: Type.String(),
  node: Type.String({ description: 'The node it was connected to.' })
}, { description: 'The socket was sent `rt:disconnect` and the disconnection.' })

export const RoomAnswer = Type.Object({
  namespace: Type.String(),
  room: Type.String(),
  template: Type.String({ description: 'The declared template the room matched.' }),
  plugin: Type.String({ description: 'The plugin that declares the template.' }),
  sockets: Type.Integer({ description: 'The user\'s sockets on the namespace, on the nodes that answered.' }),
  partial: Partial
}, { description: 'The user\'s sockets joined (or left) the room, on every node.' })
