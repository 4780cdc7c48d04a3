/**
 * The event catalog of presence, for the enabled options: what clients send (typing, queries, with their acks
 * and error codes) and what the server emits (online/offline in the shapes of the WhatsApp builder gateway and
 * commerce back office protocols, typing in the shapes of the WhatsApp builder gateway and WhatsApp CRM rooms
 * protocols), each on the namespaces the options give it.
 */
import { Id as IdSchema, Type, type ClientEvent, type ServerEvent, type Static, type TSchema } from 'realtime-server'
import type { PresenceOptions, TypingOptions } from './schema.js'

const Id = IdSchema('An id (user, conversation, contact, account).')
const Ms = Type.Integer({ minimum: 0, description: 'Epoch milliseconds.' })

// Client -> server

/** The WhatsApp builder gateway protocol: `typing:start` / `typing:stop` in a conversation. */
export const TypingConversation = Type.Object({ conversationId: Id }, { additionalProperties: false })
/** The WhatsApp CRM rooms protocol: `typing:start` / `typing:stop` on a contact of a WhatsApp account. */
export const TypingContact = Type.Object({ contactId: Id, whatsappAccountId: Id }, { additionalProperties: false })
/** Typing payloads when the typing namespaces use both formats (each namespace then checks its own). */
export const TypingAnyFormat = Type.Union([TypingConversation, TypingContact])

/** The payload schema of `typing:start` / `typing:stop`: the format's, or either when the entries use both. */
export function typingPayload (typing: readonly TypingOptions[]): typeof TypingConversation | typeof TypingContact | typeof TypingAnyFormat {
  const formats = new Set(typing.map((t) => t.format))
  if (formats.size > 1) return TypingAnyFormat
  return formats.has('contact') ? TypingContact : TypingConversation
}

const ListQueryBody = Type.Object({
  room: Type.Optional(IdSchema('Only the users online in this room (the asker must be in it).')),
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

/** `presence:status` reply. */
export const StatusReply = Type.Object({ users: Type.Array(UserState) })
/** The core's ack of a handler that returns nothing. */
const Ok = Type.Object({ ok: Type.Literal(true) })

export type UserState = Static<typeof UserState>
export type ListReply = Static<typeof ListReply>
export type StatusReply = Static<typeof StatusReply>

// ---- the catalog -----------------------------------------------------------------------------------

const NOT_READY = 'RT_ERR_NOT_READY'

/** Adds a server event on a namespace; an event two lists send in two shapes gets either payload. */
function emits (server: Record<string, ServerEvent>, event: string, payload: TSchema, namespace: string, description: string): void {
  const known = server[event]
  if (known === undefined) {
    server[event] = { payload, description, namespaces: [namespace] }
    return
  }
  const namespaces = known.namespaces?.includes(namespace) === true ? known.namespaces : [...known.namespaces ?? [], namespace]
  server[event] = { ...known, namespaces, payload: known.payload === payload ? payload : Type.Union([known.payload, payload]) }
}

/** The catalog for the options: queries on each online list's namespace, typing on each typing namespace. */
export function events (options: PresenceOptions): { client: Record<string, ClientEvent>, server: Record<string, ServerEvent> } {
  const client: Record<string, ClientEvent> = {}
  const server: Record<string, ServerEvent> = {}
  const lists = options.online.map((l) => l.namespace)
  if (lists.length > 0) {
    client['presence:list'] = {
      payload: ListQuery,
      ack: ListReply,
      errors: ['RT_PRESENCE_NOT_VISIBLE', 'RT_PRESENCE_ROOM_NOT_TRACKED', 'RT_PRESENCE_NOT_IN_ROOM', NOT_READY],
      description: 'Who is online in the namespace\'s list, or in one tracked room the asker is in.',
      namespaces: lists
    }
    client['presence:status'] = {
      payload: StatusQuery,
      ack: StatusReply,
      errors: ['RT_PRESENCE_NOT_VISIBLE', NOT_READY],
      description: 'Whether given users are online in the namespace\'s list, and when they were last seen.',
      namespaces: lists
    }
  }
  for (const list of options.online) {
    const payload = list.format === 'customer' ? CustomerStatus : UserPresence
    emits(server, list.events.online, payload, list.namespace, 'A user\'s first socket connected (to the tenant, or the `visibleTo` roles).')
    emits(server, list.events.offline, payload, list.namespace, 'A user\'s last socket is gone and the offline debounce passed.')
  }
  const typing = options.typing.map((t) => t.namespace)
  if (typing.length > 0) {
    const payload = typingPayload(options.typing)
    const errors = ['RT_PRESENCE_NOT_IN_ROOM', NOT_READY]
    client['typing:start'] = { payload, ack: Ok, errors, description: 'The user types in a room they joined.', namespaces: typing }
    client['typing:stop'] = { payload, ack: Ok, errors: [], description: 'The user stopped typing.', namespaces: typing }
  }
  for (const t of options.typing) {
    if (t.format === 'contact') {
      emits(server, 'typing:indicator', ContactTyping, t.namespace, 'To the others in the contact room: typing started or ended.')
    } else {
      emits(server, 'typing:start', ConversationTyping, t.namespace, 'To the others in the conversation room.')
      emits(server, 'typing:stop', ConversationTyping, t.namespace, 'To the others in the conversation room: typing ended (stop, expiry or disconnection).')
    }
  }
  return { client, server }
}
