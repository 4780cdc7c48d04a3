/**
 * Options of presence: the online lists (who is online, announced per namespace), the typing rooms, the
 * offline debounce and the cluster bound. Every field has its default; `{}` tracks `/` with the WhatsApp builder gateway protocol's
 * `user:online` / `user:offline` and conversation typing.
 */
import { Type, type Static } from 'realtime-server'

const NamespaceName = Type.String({ pattern: '^/', description: 'A Socket.IO namespace, e.g. `/messages`.' })
const RoleList = (description: string) =>
  Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true, default: [], description })

/** One online list: whose sockets count, where `online` / `offline` go, who sees them, in which shape. */
export const OnlineList = Type.Object({
  namespace: Type.String({
    pattern: '^/',
    default: '/',
    description: 'Namespace of the online/offline events and of the `presence:*` queries; it names the list (one list per namespace).'
  }),
  track: Type.Optional(Type.Array(NamespaceName, {
    minItems: 1,
    uniqueItems: true,
    description: 'Namespaces whose sockets make a user online (commerce back office: the namespaces customers use). Default: `[namespace]`.'
  })),
  roles: RoleList('Only users whose token has one of these roles are tracked (commerce back office: `["customer"]`). Empty: every user.'),
  visibleTo: RoleList('Roles that receive the events and may query the list (commerce back office: admin, manager, staff). Empty: every user of the tenant.'),
  events: Type.Object({
    online: Type.String({ minLength: 1, maxLength: 100, default: 'user:online', description: 'Event sent when a user\'s first socket connects.' }),
    offline: Type.String({ minLength: 1, maxLength: 100, default: 'user:offline', description: 'Event sent once the last socket is gone and `offlineDelayMs` passed.' })
  }, { additionalProperties: false, default: {} }),
  format: Type.Enum(['user', 'customer'], {
    default: 'user',
    description: 'Payload: `user` is `{ userId }` (WhatsApp builder gateway); `customer` is `{ customerId, isOnline, lastSeen }` (commerce back office).'
  }),
  envelope: Type.Boolean({
    default: false,
    description: 'Send the commerce back office protocol\'s envelope `{ type, namespace, data, timestamp }` as the second argument instead of `{ eventId, timestamp }`.'
  }),
  rooms: Type.Array(Type.String({ maxLength: 200 }), {
    uniqueItems: true,
    default: [],
    description: 'Prefixes of the rooms whose online members are tracked for room queries, e.g. `conversation:`. `""` tracks every room. Empty: no room queries.'
  })
}, { additionalProperties: false })

/** One namespace's typing events. */
export const TypingRooms = Type.Object({
  namespace: Type.String({ pattern: '^/', default: '/', description: 'Namespace of `typing:start` / `typing:stop` (one entry per namespace).' }),
  format: Type.Enum(['conversation', 'contact'], {
    default: 'conversation',
    description: '`conversation` (WhatsApp builder gateway): `{ conversationId }` in, `typing:start`/`typing:stop` `{ conversationId, userId, isTyping }` out. `contact` (WhatsApp CRM rooms): `{ contactId, whatsappAccountId }` in, `typing:indicator` `{ contactId, whatsappAccountId, isTyping, userId, timestamp }` out.'
  }),
  room: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'Room a typing event goes to, with payload fields in braces. Default: `conversation:{conversationId}` or `contact:{contactId}`. The sender must have joined it.'
  })),
  timeoutMs: Type.Integer({ minimum: 100, maximum: 600000, default: 5000, description: 'Typing ends this long after the last `typing:start`.' }),
  throttleMs: Type.Integer({
    minimum: 0,
    maximum: 600000,
    default: 2000,
    description: 'At most one `isTyping: true` broadcast per user and room in this interval, however often `typing:start` arrives.'
  })
}, { additionalProperties: false })

export const options = Type.Object({
  online: Type.Array(OnlineList, { default: [{}], description: 'The online lists, one per namespace.' }),
  typing: Type.Array(TypingRooms, { default: [{}], description: 'Typing indicators, one entry per namespace. `[]` disables them.' }),
  offlineDelayMs: Type.Integer({
    minimum: 0,
    maximum: 3600000,
    default: 5000,
    description: 'Debounce of `offline`: a user whose last socket closed is announced offline only if none reconnected within this time (a page reload does not flap).'
  }),
  nodeTimeoutMs: Type.Integer({
    minimum: 1000,
    maximum: 600000,
    default: 10000,
    description: 'With Redis: the users of a node that died without closing (SIGKILL, power loss) are announced offline by the surviving nodes within this bound.'
  }),
  lastSeenTtlMs: Type.Integer({
    minimum: 60000,
    default: 2592000000,
    description: '`lastSeen` of a list and tenant is kept this long after its last write (30 days).'
  }),
  maxListSize: Type.Integer({ minimum: 1, maximum: 100000, default: 1000, description: 'Most users a query returns (`count` is always the full count).' })
}, { additionalProperties: false })

export type PresenceOptions = Static<typeof options>
export type OnlineListOptions = Static<typeof OnlineList>
export type TypingOptions = Static<typeof TypingRooms>
