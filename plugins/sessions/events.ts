/**
 * The event catalog: payload schemas of the session events, as the seed ("Session Tracking Events") documents
 * them, with the acks. Client events are validated by the socket handlers (with these schemas), server events
 * by the REST triggers that cause them.
 */
import { AccessData, Id, Type, type EventCatalog, type Static } from 'realtime-server'

export const SessionId = Id('The chatbot session.')

/** `session:join` / `session:leave`: watch or stop watching one session. */
export const SessionRoomRequest = Type.Object({ sessionId: SessionId }, { additionalProperties: false })

/** The four statuses the seed knows. */
export const SessionStatus = Type.Union([
  Type.Literal('running'),
  Type.Literal('waiting_input'),
  Type.Literal('completed'),
  Type.Literal('expired'),
  Type.Literal('stopped')
], { description: 'running | waiting_input | completed | expired | stopped' })

/** `session:message-sent`: a new message in the session. */
export const MessageSent = Type.Object({
  sessionId: SessionId,
  messageId: Type.String({ minLength: 1 }),
  senderId: Type.String({ minLength: 1 }),
  senderName: Type.Optional(Type.String()),
  senderPhone: Type.Optional(Type.String()),
  isFromBot: Type.Optional(Type.Boolean({ description: 'Backend-determined bot flag.' })),
  type: Type.String({ minLength: 1 }),
  content: Type.Unknown({ description: 'Any JSON value (text, media descriptor, ...).' }),
  status: Type.String({ minLength: 1, description: 'The message status (sent, delivered, ...).' }),
  timestamp: Type.String({ minLength: 1 })
}, { additionalProperties: false })

/** `session:node-executed`: the chatbot executed a node. */
export const NodeExecuted = Type.Object({
  sessionId: SessionId,
  nodeId: Type.String({ minLength: 1 }),
  nodeLabel: Type.String()
}, { additionalProperties: false })

/** `session:status-changed`: the session's status changed. */
export const StatusChanged = Type.Object({
  sessionId: SessionId,
  newStatus: SessionStatus,
  currentNodeId: Type.Optional(Type.String()),
  currentNodeLabel: Type.Optional(Type.String()),
  updatedAt: Type.String({ minLength: 1 })
}, { additionalProperties: false })

/** `session:completed`: the session completed, with its totals. */
export const SessionCompleted = Type.Object({
  sessionId: SessionId,
  completedAt: Type.String({ minLength: 1 }),
  completionReason: Type.Optional(Type.String()),
  totalNodes: Type.Integer({ minimum: 0 }),
  totalMessages: Type.Integer({ minimum: 0 })
}, { additionalProperties: false })

/** One event kept in a session's recent history (and the snapshot). */
export const RecentEvent = Type.Object({
  seq: Type.Integer({ minimum: 1, description: 'Position in the session; the `seq` of the live event\'s meta.' }),
  eventId: Type.String(),
  event: Type.String(),
  payload: Type.Unknown(),
  at: Type.String({ description: 'When the server applied it (ISO 8601).' })
})

/** The live state of a session: what a late joiner receives first. */
export const SessionSnapshot = Type.Object({
  sessionId: Type.String(),
  status: SessionStatus,
  currentNodeId: Type.Optional(Type.String()),
  currentNodeLabel: Type.Optional(Type.String()),
  messageCount: Type.Integer({ description: 'session:message-sent events accepted.' }),
  nodeCount: Type.Integer({ description: 'session:node-executed events accepted.' }),
  startedAt: Type.String({ description: 'When the server saw the first event (ISO 8601).' }),
  lastEventAt: Type.String({ description: 'When the server applied the last event (ISO 8601).' }),
  statusUpdatedAt: Type.Optional(Type.String({ description: '`updatedAt` of the last session:status-changed.' })),
  completedAt: Type.Optional(Type.String()),
  completionReason: Type.Optional(Type.String()),
  totalNodes: Type.Optional(Type.Integer()),
  totalMessages: Type.Optional(Type.Integer()),
  seq: Type.Integer({ minimum: 1, description: 'The seq of the last event the snapshot includes.' }),
  recent: Type.Array(RecentEvent, { description: 'The last events, oldest first (options.recentEvents).' })
})

/** `session:state`: the snapshot sent to a socket that joins (state null: no event yet). */
export const SessionState = Type.Object({
  sessionId: Type.String(),
  state: Type.Union([SessionSnapshot, Type.Null()]),
  data: AccessData
})

export type SessionStatus = Static<typeof SessionStatus>
export type MessageSent = Static<typeof MessageSent>
export type NodeExecuted = Static<typeof NodeExecuted>
export type StatusChanged = Static<typeof StatusChanged>
export type SessionCompleted = Static<typeof SessionCompleted>
export type RecentEvent = Static<typeof RecentEvent>
export type SessionSnapshot = Static<typeof SessionSnapshot>

/** The events that change a session, by name, with their payloads. */
export interface SessionEvents {
  'session:message-sent': MessageSent
  'session:node-executed': NodeExecuted
  'session:status-changed': StatusChanged
  'session:completed': SessionCompleted
}
export type SessionEventName = keyof SessionEvents
/** One event as the state machine receives it. */
export type SessionEvent = { [E in SessionEventName]: { event: E, payload: SessionEvents[E] } }[SessionEventName]

/** The ack of `session:join`: the snapshot, as `session:state` sends it too. */
export const SessionJoinAck = Type.Object({
  sessionId: Type.String(),
  success: Type.Literal(true),
  state: Type.Union([SessionSnapshot, Type.Null()])
})

/** The ack of `session:leave`. */
export const SessionLeaveAck = Type.Object({ sessionId: Type.String(), success: Type.Literal(true) })

/** The event catalog of the plugin (`events` export). */
export const events = {
  client: {
    'session:join': {
      payload: SessionRoomRequest,
      ack: SessionJoinAck,
      errors: ['RT_SESSIONS_FORBIDDEN', 'RT_ERR_NOT_READY'],
      description: 'Watch a session: joins its room, then sends `session:state` with the snapshot (also in the ack).'
    },
    'session:leave': {
      payload: SessionRoomRequest,
      ack: SessionLeaveAck,
      description: 'Stop watching a session.'
    }
  },
  server: {
    'session:message-sent': { payload: MessageSent, description: 'POST /api/sessions/message-sent, to the session\'s watchers; meta `{ eventId, timestamp, seq }`.' },
    'session:node-executed': { payload: NodeExecuted, description: 'POST /api/sessions/node-executed, to the session\'s watchers; meta `{ eventId, timestamp, seq }`.' },
    'session:status-changed': { payload: StatusChanged, description: 'POST /api/sessions/status-changed, to the session\'s watchers; meta `{ eventId, timestamp, seq }`.' },
    'session:completed': { payload: SessionCompleted, description: 'POST /api/sessions/completed, to the session\'s watchers; meta `{ eventId, timestamp, seq }`.' },
    'session:state': { payload: SessionState, description: 'The snapshot, to a socket that joined (state null: no event yet).' }
  }
} satisfies EventCatalog
