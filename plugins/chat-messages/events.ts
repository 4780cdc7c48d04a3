/**
 * The event catalog of the plugin: what clients send (`client`, with the ack of a success and the error codes
 * each event may answer) and what the server emits (`server`), for the enabled options. Static types come from
 * these schemas.
 */
import { AccessData, Id as IdSchema, Type, type ClientEvent, type RoomEntry, type ServerEvent, type Static } from 'realtime-server'
import type { ChatMessagesOptions } from './schema.js'

/** A chat id (channel, message, conversation): the core's well-formed id, at most 128 characters. */
export const Id = (description: string) => IdSchema(description, { maxLength: 128 })
const Timestamp = Type.String({ description: 'ISO 8601 timestamp.' })
const TempId = Type.Union([Type.String(), Type.Null()], { description: 'The client\'s temporary id, null when it sent none.' })
const Processed = Type.Literal(true)
export const Cursor = Type.String({ pattern: '^[0-9]{1,15}$', description: 'Opaque cursor from `nextCursor`.' })

// ---- client -> server ----------------------------------------------------------------------------

/** What `message:send` must carry; an invalid one is answered with `message:failed` (and in the ack), as any failed send. */
export const SendMessage = Type.Object({
  content: Type.String({ minLength: 1, description: 'Message text; its length limit is `messages.maxContentLength`.' }),
  channelId: Id('Target channel.'),
  tempId: Type.Optional(Id('Client-side id: duplicates are refused while in flight, retries after success get the original message id.')),
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

export const ConversationJoined = Type.Object({ conversationId: Type.String(), success: Type.Literal(true), data: AccessData })

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

// ---- acks (successful replies) ---------------------------------------------------------------------

/** `{ code, message, field? }` of a failure, as the core sends it. */
const ClientError = Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) })

export const SendAck = Type.Union([
  Type.Object({ ...MessageDelivered.properties, message: Message, duplicate: Type.Optional(Type.Literal(true, { description: 'A retry: the original message, nothing stored again.' })) }),
  Type.Object({ error: ClientError, tempId: TempId, status: Type.Literal('FAILED'), processed: Processed }, { description: 'A failed send is answered too (with `message:failed`).' })
])
export const ReadAck = Type.Object({
  messageId: Type.String(),
  userId: Type.String(),
  status: DeliveryStatus,
  timestamp: Timestamp,
  changed: Type.Boolean({ description: 'False when the user had read it already, or is its author.' })
})
export const ReactionAddAck = Type.Object({ ...ReactionAdded.properties, added: Type.Boolean({ description: 'False when the user had this reaction already.' }) })
export const ReactionRemoveAck = Type.Object({ ...ReactionRemoved.properties, removed: Type.Boolean() })
export const ChannelLeaveAck = Type.Object({ ...ChannelMember.properties, left: Type.Boolean({ description: 'False when the user was not a member.' }) })

// ---- the catalog -----------------------------------------------------------------------------------

/** Shared state unreachable (Redis down). */
const NOT_READY = 'RT_ERR_NOT_READY'

/** The events of one part of the plugin. */
interface Part { client: Record<string, ClientEvent>, server: Record<string, ServerEvent> }

/** The events of chat channels (`channels.enabled`). */
const channelEvents: Part = {
  client: {
    'message:send': {
      payload: SendMessage,
      ack: SendAck,
      errors: ['RT_CHAT_RATE_LIMITED', 'RT_CHAT_CONTENT_TOO_LONG', 'RT_CHAT_IN_FLIGHT', 'RT_CHAT_TEMPID_REUSED', 'RT_CHAT_NOT_MEMBER', 'RT_CHAT_MESSAGE_NOT_FOUND', 'RT_CHAT_SEND_FAILED', NOT_READY],
      description: 'Sends a message to a channel; answered with `message:delivered` (and `message:created` to the channel) or `message:failed`.'
    },
    'message:read': { payload: ReadMessage, ack: ReadAck, errors: ['RT_CHAT_MESSAGE_NOT_FOUND', 'RT_CHAT_NOT_MEMBER', NOT_READY], description: 'Marks a message read; the first read by another member announces `message:read`.' },
    'reaction:add': { payload: ReactionRequest, ack: ReactionAddAck, errors: ['RT_CHAT_MESSAGE_NOT_FOUND', 'RT_CHAT_NOT_MEMBER', NOT_READY], description: 'Adds the user\'s reaction of a type to a message.' },
    'reaction:remove': { payload: ReactionRequest, ack: ReactionRemoveAck, errors: ['RT_CHAT_MESSAGE_NOT_FOUND', 'RT_CHAT_NOT_MEMBER', NOT_READY], description: 'Removes the user\'s reaction of a type.' },
    'channel:join': { payload: ChannelRef, ack: ChannelMember, errors: ['RT_CHAT_JOIN_REFUSED', NOT_READY], description: 'Joins a channel (all the user\'s sockets enter its room), as the channels access policy allows.' },
    'channel:leave': { payload: ChannelRef, ack: ChannelLeaveAck, errors: [NOT_READY], description: 'Leaves a channel (all the user\'s sockets).' },
    'channel:history': { payload: HistoryRequest, ack: HistoryPage, errors: ['RT_CHAT_NOT_MEMBER', NOT_READY], description: 'A page of the channel\'s history, oldest first (needs an ack).' }
  },
  server: {
    'connection:success': { payload: ConnectionSuccess, description: 'To a connecting socket: the user\'s channels, whose rooms it joined.' },
    'connection:error': { payload: ConnectionError, description: 'To a connecting socket whose channels could not be loaded.' },
    'message:delivered': { payload: MessageDelivered, description: 'To the sender\'s socket: the message is stored and sent.' },
    'message:created': { rooms: ['channel:{channelId}'], payload: MessageCreated, description: 'To the channel: a new message.' },
    'message:failed': { payload: MessageFailed, description: 'To the sender\'s socket: a send that failed, nothing stored.' },
    'message:read': { rooms: ['channel:{channelId}'], payload: MessageReadReceipt, description: 'To the channel: the first read of a message by a member.' },
    'reaction:added': { rooms: ['channel:{channelId}'], payload: ReactionAdded, description: 'To the channel.' },
    'reaction:removed': { rooms: ['channel:{channelId}'], payload: ReactionRemoved, description: 'To the channel.' },
    'channel:user_joined': { rooms: ['channel:{channelId}'], payload: ChannelMember, description: 'To the channel.' },
    'channel:user_left': { rooms: ['channel:{channelId}'], payload: ChannelMember, description: 'To the channel.' }
  }
}

/** The events of conversation rooms (`conversations.enabled`, the WhatsApp builder gateway). */
const conversationEvents: Part = {
  client: {
    'conversation:join': { payload: ConversationRef, ack: ConversationJoined, errors: ['RT_CHAT_CONVERSATION_REFUSED'], description: 'Joins the conversation room, as the conversations access policy allows; also answered with `conversation:joined`.' },
    'conversation:leave': { payload: ConversationRef, ack: ConversationJoined, errors: [], description: 'Leaves the conversation room.' }
  },
  server: {
    'conversation:joined': { payload: ConversationJoined, description: 'To the socket that joined.' },
    'message:received': { rooms: ['conversation:{conversationId}'], payload: MessageReceived, description: 'To the conversation room: a message pushed by the backend (`POST /message-received`).' },
    'message:status': { rooms: ['conversation:{conversationId}'], payload: MessageStatus, description: 'To the conversation room: a status pushed by the backend (`POST /message-status`).' }
  }
}

/** The entries of the groups, each on these namespaces. */
const on = <E extends ClientEvent | ServerEvent>(namespaces: readonly string[], ...groups: Array<Record<string, E>>): Record<string, E> =>
  Object.fromEntries(groups.flatMap((g) => Object.entries(g)).map(([name, e]) => [name, { ...e, namespaces }]))

/** The catalog for the enabled options: every event is on `options.namespace`. */
export function events (options: ChatMessagesOptions): Part & { rooms: Record<string, RoomEntry> } {
  const namespaces = [options.namespace]
  const parts = [...(options.channels.enabled ? [channelEvents] : []), ...(options.conversations.enabled ? [conversationEvents] : [])]
  return {
    rooms: {
      ...(options.channels.enabled ? { 'channel:{channelId}': { description: 'The members of a channel (`channelRoom`).', namespaces } } : {}),
      ...(options.conversations.enabled ? { 'conversation:{conversationId}': { description: 'The watchers of a conversation (`conversationRoom`).', namespaces } } : {})
    },
    client: on(namespaces, ...parts.map((p) => p.client)),
    server: on(namespaces, ...parts.map((p) => p.server), {
      error: { payload: ErrorEvent, description: 'The core\'s: a refusal of an event sent without an ack.' }
    })
  }
}

export type ChatMessage = Static<typeof Message>
export type ChatReaction = Static<typeof Reaction>
export type HistoryEntry = Static<typeof HistoryMessage>
export type Status = Static<typeof DeliveryStatus>
export type Profile = Static<typeof UserProfile>
