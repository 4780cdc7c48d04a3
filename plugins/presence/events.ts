/**
 * Payloads of presence: what clients send (typing, queries) and what the server emits (online/offline in
 * the shapes of the WhatsApp builder gateway and commerce back office protocols, typing in the shapes of the WhatsApp builder gateway and WhatsApp CRM rooms protocols), with the query replies.
 */
import { Type, type Static } from 'realtime-server'

const Id = Type.String({ minLength: 1, maxLength: 200 })
const Ms = Type.Integer({ minimum: 0, description: 'Epoch milliseconds.' })

// Client -> server

/** The WhatsApp builder gateway protocol: `typing:start` / `typing:stop` in a conversation. */
export const TypingConversation = Type.Object({ conversationId: Id }, { additionalProperties: false })
/** The WhatsApp CRM rooms protocol: `typing:start` / `typing:stop` on a contact of a WhatsApp account. */
export const TypingContact = Type.Object({ contactId: Id, whatsappAccountId: Id }, { additionalProperties: false })

const ListQueryBody = Type.Object({
  room: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only the users online in this room (the asker must be in it).' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, description: 'Most users returned; `maxListSize` at most.' }))
}, { additionalProperties: false })
/** `presence:list` (ack): who is online in the namespace's list, or in one room. The payload may be left out. */
export const ListQuery = Type.Union([Type.Undefined(), ListQueryBody])
/** `presence:status` (ack): whether given users are online, and when they were last seen. */
export const StatusQuery = Type.Object({ userIds: Type.Array(Id, { minItems: 1, maxItems: 500 }) }, { additionalProperties: false })

// Server -> client

/** The WhatsApp builder gateway protocol: `user:online` / `user:offline`. */
export const UserPresence = Type.Object({ userId: Id })
/** The commerce back office protocol: `customer:online` / `customer:offline`. `lastSeen` is now (online) or when the last socket closed (offline). */
export const CustomerStatus = Type.Object({ customerId: Id, isOnline: Type.Boolean(), lastSeen: Ms })
/** The WhatsApp builder gateway protocol: `typing:start` / `typing:stop`, to the conversation room except the sender. */
export const ConversationTyping = Type.Object({ conversationId: Id, userId: Id, isTyping: Type.Boolean() })
/** The WhatsApp CRM rooms protocol: `typing:indicator`, to the others in the contact room. */
export const ContactTyping = Type.Object({
  contactId: Id,
  whatsappAccountId: Id,
  isTyping: Type.Boolean(),
  userId: Id,
  timestamp: Type.String({ format: 'date-time' })
})

/** One user in a query reply. Users whose last socket closed stay online (`connections: 0`) until the offline debounce ends. */
export const UserState = Type.Object({
  userId: Id,
  online: Type.Boolean(),
  connections: Type.Integer({ minimum: 0, description: 'Sockets of the user in the list (or in the room), on every node.' }),
  since: Type.Optional(Ms),
  lastSeen: Type.Optional(Ms)
})
export const ListReply = Type.Object({
  count: Type.Integer({ minimum: 0, description: 'Users online (all of them, even beyond `limit`).' }),
  users: Type.Array(UserState)
})

export type UserState = Static<typeof UserState>
export type ListReply = Static<typeof ListReply>

export const events = {
  client: {
    'typing:start': Type.Union([TypingConversation, TypingContact]),
    'typing:stop': Type.Union([TypingConversation, TypingContact]),
    'presence:list': ListQuery,
    'presence:status': StatusQuery
  },
  server: {
    'user:online': UserPresence,
    'user:offline': UserPresence,
    'customer:online': CustomerStatus,
    'customer:offline': CustomerStatus,
    'typing:start': ConversationTyping,
    'typing:stop': ConversationTyping,
    'typing:indicator': ContactTyping
  }
}
