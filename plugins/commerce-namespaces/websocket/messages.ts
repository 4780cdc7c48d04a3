/**
 * The plain WebSocket protocol of commerce-namespaces, as schemas: what a client sends (`clientMessages`, by
 * action), the server's control messages (`serverMessages`, by type: replies, errors, `auth_expired`) and its
 * event messages (`eventMessages`, by event type: the envelopes). All JSON text; times in epoch ms.
 * Control messages never carry `namespace` (nor `data`): that is how a client tells them from events.
 */
import { Type, type Static } from 'realtime-server'
import { envelopeOf, eventTypes } from '../events.js'

const strict = { additionalProperties: false } as const

const MessageId = Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Number()], { description: 'Echoed in the reply.' }))
const Namespaces = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
  minItems: 1,
  maxItems: 100,
  description: 'Configured namespace names (a leading slash is accepted).'
})

/** Messages a client may send, by action. */
export const clientMessages = {
  subscribe: Type.Object({ action: Type.Literal('subscribe'), namespaces: Namespaces, id: MessageId }, { ...strict, description: 'Adds namespaces; answered `subscribed`.' }),
  unsubscribe: Type.Object({ action: Type.Literal('unsubscribe'), namespaces: Namespaces, id: MessageId }, { ...strict, description: 'Removes namespaces; answered `unsubscribed`.' }),
  ping: Type.Object({ action: Type.Literal('ping'), id: MessageId }, { ...strict, description: 'Answered `pong`.' }),
  session: Type.Object({ action: Type.Literal('session'), id: MessageId }, { ...strict, description: 'Answered `session`: the id a publish\'s `excludeSessionIds` names to skip this connection.' }),
  refresh: Type.Object({ action: Type.Literal('refresh'), token: Type.String({ minLength: 1 }), id: MessageId }, {
    ...strict,
    description: 'A new token for the same user and tenant (roles may change); answered `refreshed`.'
  })
}

/** Any client message: checked first, so that an unknown action is answered naming `action`. */
export const AnyClientMessage = Type.Object({ action: Type.Enum(Object.keys(clientMessages)), id: MessageId })

/** A valid client message, whatever its action. */
export const ClientMessage = Type.Union([clientMessages.subscribe, clientMessages.unsubscribe, clientMessages.ping, clientMessages.session, clientMessages.refresh])
export type ClientMessage = Static<typeof ClientMessage>

const ReplyId = Type.Optional(Type.Union([Type.String(), Type.Number()], { description: 'The `id` of the message answered, when it had one.' }))
const Subscriptions = Type.Array(Type.String(), { description: 'Every namespace the connection is subscribed to now, sorted.' })
const EpochMs = (description: string) => Type.Number({ minimum: 0, description: `${description} (epoch ms).` })

/** Control messages the server sends, by `type`. */
export const serverMessages = {
  subscribed: Type.Object({ type: Type.Literal('subscribed'), namespaces: Subscriptions, id: ReplyId }, strict),
  unsubscribed: Type.Object({ type: Type.Literal('unsubscribed'), namespaces: Subscriptions, id: ReplyId }, strict),
  pong: Type.Object({ type: Type.Literal('pong'), timestamp: EpochMs('Server time'), id: ReplyId }, strict),
  session: Type.Object({ type: Type.Literal('session'), sessionId: Type.String({ description: 'This connection\'s id.' }), id: ReplyId }, strict),
  refreshed: Type.Object({
    type: Type.Literal('refreshed'),
    exp: Type.Union([Type.Number(), Type.Null()], { description: 'The new token\'s own `exp` claim, in seconds as JWT writes it; null when it has none.' }),
    id: ReplyId
  }, strict),
  error: Type.Object({
    type: Type.Literal('error'),
    error: Type.Object({
      code: Type.String({ description: 'A catalog code (docs/errors.md).' }),
      message: Type.String(),
      field: Type.Optional(Type.String({ description: 'The field of the message at fault, as a dot path.' }))
    }, strict),
    id: ReplyId
  }, { ...strict, description: 'A message was refused; the connection stays open.' }),
  auth_expired: Type.Object({
    type: Type.Literal('auth_expired'),
    expiredAt: EpochMs('When the token expired'),
    graceMs: Type.Integer({ minimum: 0, description: 'Time left to send `refresh` before the connection is closed (4401).' })
  }, { ...strict, description: 'The token expired.' })
}

/** A control message of the server. */
export const ServerMessage = Type.Union([
  serverMessages.subscribed, serverMessages.unsubscribed, serverMessages.pong, serverMessages.session,
  serverMessages.refreshed, serverMessages.error, serverMessages.auth_expired
])
export type ServerMessage = Static<typeof ServerMessage>

/** Event messages, by event type: the envelope `{ type, namespace, data, timestamp }`. */
export const eventMessages = Object.fromEntries(eventTypes.map((type) => [type, envelopeOf(type)]))

/** A control message answering a client message (it echoes the message's `id`). */
export type Reply = Exclude<ServerMessage, { type: 'auth_expired' }>
