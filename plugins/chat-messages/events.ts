/**
 * Payload schemas of every event of the plugin: what clients send (`client`), what the server emits
 * (`server`), and the bodies of the REST triggers. Static types come from these schemas.
 */
import { Type, type Static } from 'realtime-server'

const Id = (description: string) => Type.String({ minLength: 1, maxLength: 128, description })
const Timestamp = Type.String({ description: 'ISO 8601 timestamp.' })
const TempId = Type.Union([Type.String(), Type.Null()], { description: 'The client\'s temporary id, null when it sent none.' })
const Processed = Type.Literal(true)
const Cursor = Type.String({ pattern: '^[0-9]{1,15}$', description: 'Opaque cursor from `nextCursor`.' })

// ---- client -> server ----------------------------------------------------------------------------

export const SendMessage = Type.Object({
  content: Type.String({ minLength: 1, description: 'Message text; its length limit is `messages.maxContentLength`.' }),
  channelId: Id('Target channel.'),
  tempId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Client-side id: duplicates are refused while in flight, retries after success get the original message id.' })),
  replyToId: Type.Optional(Id('A message of the same channel this one answers.'))
}, { additionalProperties: false })

export const ReadMessage = Type.Object({
  messageId: Id('The message read.'),
  channelId: Type.Optional(Id('When given, must be the message\'s channel.'))
}, { additionalProperties: false })

export const ReactionRequest = Type.Object({
  messageId: Id('The message reacted to.'),
  type: Type.String({ minLength: 1, maxLength: 64, description: 'Reaction type, e.g. an emoji.' })
}, { additionalProperties: false })

export const ChannelRef = Type.Object({ channelId: Id('The channel.') }, { additionalProperties: false })

export const HistoryRequest = Type.Object({
  channelId: Id('The channel.'),
  limit: Type.Optional(Type.Integer({ minimum: 1, description: 'Messages per page (`history.defaultLimit` when omitted, at most `history.maxLimit`).' })),
  before: Type.Optional(Cursor)
}, { additionalProperties: false })

export const ConversationRef = Type.Object({ conversationId: Id('The conversation.') }, { additionalProperties: false })

// ---- server -> client ----------------------------------------------------------------------------

export const DeliveryStatus = Type.Union([Type.Literal('SENT'), Type.Literal('DELIVERED'), Type.Literal('READ')], {
  description: 'Stored status; it only moves forward: SENT (stored) -> DELIVERED (broadcast) -> READ (read by another member).'
})

export const UserProfile = Type.Object({
  id: Type.String(),
  name: Type.String(),
  imageUrl: Type.Union([Type.String(), Type.Null()])
})

export const Message = Type.Object({
  id: Type.String(),
  content: Type.String(),
  channelId: Type.String(),
  userId: Type.String(),
  replyToId: Type.Union([Type.String(), Type.Null()]),
  deliveryStatus: DeliveryStatus,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  user: UserProfile
})

export const Reaction = Type.Object({
  id: Type.String(),
  type: Type.String(),
  userId: Type.String(),
  messageId: Type.String(),
  createdAt: Timestamp
})

export const HistoryMessage = Type.Intersect([Message, Type.Object({ reactions: Type.Array(Reaction) })])

export const HistoryPage = Type.Object({
  channelId: Type.String(),
  messages: Type.Array(HistoryMessage, { description: 'Oldest first.' }),
  nextCursor: Type.Union([Cursor, Type.Null()], { description: 'Pass as `before` for the previous page; null at the beginning.' })
})

export const ConnectionSuccess = Type.Object({ userId: Type.String(), channels: Type.Array(Type.String()) })
export const ConnectionError = Type.Object({ error: Type.String(), reason: Type.String(), reconnectAttempt: Type.Integer() })

export const MessageDelivered = Type.Object({
  messageId: Type.String(),
  tempId: TempId,
  status: Type.Literal('DELIVERED'),
  processed: Processed
})

export const MessageCreated = Type.Object({ message: Message, tempId: TempId, processed: Processed })

export const MessageFailed = Type.Object({
  error: Type.String({ description: 'What went wrong, for people (chat channels).' }),
  code: Type.String({ description: 'The error code (see the README), for programs.' }),
  field: Type.Optional(Type.String({ description: 'The payload field at fault (validation errors).' })),
  tempId: TempId,
  status: Type.Literal('FAILED'),
  processed: Processed,
  timestamp: Timestamp
})

export const MessageReadReceipt = Type.Object({
  messageId: Type.String(),
  userId: Type.String(),
  status: Type.Literal('READ'),
  timestamp: Timestamp
})

export const ReactionAdded = Type.Object({ messageId: Type.String(), reaction: Reaction, processed: Processed })
export const ReactionRemoved = Type.Object({ messageId: Type.String(), userId: Type.String(), type: Type.String(), processed: Processed })

export const ChannelMember = Type.Object({ userId: Type.String(), channelId: Type.String(), timestamp: Timestamp })

export const ConversationJoined = Type.Object({ conversationId: Type.String(), success: Type.Literal(true) })

export const MessageReceived = Type.Object({
  conversationId: Id('Conversation room the event goes to.'),
  messageId: Type.String({ minLength: 1 }),
  senderId: Type.String({ minLength: 1 }),
  type: Type.String({ minLength: 1, description: 'MessageType of the backend (text, image, ...).' }),
  content: Type.Unknown({ description: 'Any JSON, relayed as is.' }),
  status: Type.String({ minLength: 1 }),
  timestamp: Type.String({ minLength: 1 })
}, { additionalProperties: false })

export const MessageStatus = Type.Object({
  conversationId: Id('Conversation room the event goes to.'),
  messageId: Type.String({ minLength: 1 }),
  status: Type.Union([Type.Literal('sent'), Type.Literal('delivered'), Type.Literal('read')])
}, { additionalProperties: false })

/** The core's `error` event, which carries failures of events sent without an ack (the WhatsApp builder gateway protocol's `{ message, timestamp }` plus fields). */
export const ErrorEvent = Type.Object({
  code: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
  event: Type.String(),
  timestamp: Timestamp
})

// ---- REST ------------------------------------------------------------------------------------------

const TenantField = { tenantId: Type.Optional(Type.String({ minLength: 1, description: 'Required with an API key not bound to a tenant.' })) }

export const MessageReceivedBody = Type.Object({ ...TenantField, ...MessageReceived.properties }, { additionalProperties: false })
export const MessageStatusBody = Type.Object({ ...TenantField, ...MessageStatus.properties }, { additionalProperties: false })

export const HistoryParams = Type.Object({ channelId: Id('The channel.') })
export const HistoryQuery = Type.Object({
  ...TenantField,
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
  before: Type.Optional(Cursor)
}, { additionalProperties: false })

export const events = {
  client: {
    'message:send': SendMessage,
    'message:read': ReadMessage,
    'reaction:add': ReactionRequest,
    'reaction:remove': ReactionRequest,
    'channel:join': ChannelRef,
    'channel:leave': ChannelRef,
    'channel:history': HistoryRequest,
    'conversation:join': ConversationRef,
    'conversation:leave': ConversationRef
  },
  server: {
    'connection:success': ConnectionSuccess,
    'connection:error': ConnectionError,
    'message:delivered': MessageDelivered,
    'message:created': MessageCreated,
    'message:failed': MessageFailed,
    'message:read': MessageReadReceipt,
    'reaction:added': ReactionAdded,
    'reaction:removed': ReactionRemoved,
    'channel:user_joined': ChannelMember,
    'channel:user_left': ChannelMember,
    'conversation:joined': ConversationJoined,
    'message:received': MessageReceived,
    'message:status': MessageStatus,
    error: ErrorEvent
  }
}

export type ChatMessage = Static<typeof Message>
export type ChatReaction = Static<typeof Reaction>
export type HistoryEntry = Static<typeof HistoryMessage>
export type Status = Static<typeof DeliveryStatus>
export type Profile = Static<typeof UserProfile>
