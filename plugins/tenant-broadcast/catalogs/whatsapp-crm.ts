/**
 * The WhatsApp CRM rooms protocol's server events ("Socket.io Real-Time Communication"): WhatsApp accounts, backend-pushed
 * message status, campaigns, contacts, flows, system notifications and team activity. Typing belongs to
 * the presence plugin. Timestamps are ISO 8601 strings; enums are the seed's `A|B|C` lists; further
 * properties are allowed. Optional here, because the seed's own examples show them only sometimes:
 * `mediaUrl` (media messages only), `contact.email`, `notification.action`.
 * Each schema's `examples[0]` is the seed's example payload.
 */
import { Type, type TSchema } from 'realtime-server'

const Id = Type.String({ minLength: 1 })
const Count = Type.Integer({ minimum: 0 })
const Percent = Type.Number({ minimum: 0, maximum: 100 })
const DateTime = Type.String({ format: 'date-time' })
const Timestamp = Type.String({ format: 'date-time', description: 'When the server emitted the event (ISO 8601).' })
const MessageStatus = Type.Enum(['Queued', 'Sent', 'Delivered', 'Read', 'Failed'])
const MessageType = Type.Enum(['Text', 'Image', 'Video', 'Audio', 'Document'])

const A = 'wa-account-1'
const TS = '2025-11-05T10:00:00Z'

export const whatsappCrmEvents = {
  // WhatsApp accounts (room whatsapp:{accountId})
  'whatsapp:qr:generated': Type.Object({ accountId: Id, qrCode: Type.String(), expiresAt: DateTime, timestamp: Timestamp }, {
    description: 'A QR code was generated for connecting a WhatsApp account.',
    examples: [{ accountId: A, qrCode: 'base64-qr-code-string', expiresAt: '2025-11-05T10:02:00Z', timestamp: TS }]
  }),
  'whatsapp:ready': Type.Object({
    accountId: Id,
    accountInfo: Type.Object({ phoneNumber: Type.String(), displayName: Type.String() }),
    timestamp: Timestamp
  }, {
    description: 'A WhatsApp account connected.',
    examples: [{ accountId: A, accountInfo: { phoneNumber: '1234567890', displayName: 'Business Name' }, timestamp: TS }]
  }),
  'whatsapp:connection:status': Type.Object({
    accountId: Id,
    status: Type.Enum(['Connected', 'Connecting', 'Disconnected', 'Failed', 'Reconnecting']),
    message: Type.String(),
    timestamp: Timestamp
  }, {
    description: 'A WhatsApp account\'s connection status changed.',
    examples: [{ accountId: A, status: 'Connected', message: 'Status message', timestamp: TS }]
  }),
  'whatsapp:disconnected': Type.Object({ accountId: Id, reason: Type.String(), timestamp: Timestamp }, {
    description: 'A WhatsApp account disconnected.',
    examples: [{ accountId: A, reason: 'Disconnection reason', timestamp: TS }]
  }),

  // Messages pushed by the backend (message delivery itself belongs to the chat-messages plugin)
  'message:status:update': Type.Object({
    messageId: Id,
    status: MessageStatus,
    contactId: Id,
    whatsappAccountId: Id,
    timestamp: Timestamp
  }, {
    description: 'A message\'s status changed.',
    examples: [{ messageId: 'm-1', status: 'Delivered', contactId: 'ct-7', whatsappAccountId: A, timestamp: TS }]
  }),
  'message:received': Type.Object({
    message: Type.Object({
      id: Id,
      contactId: Id,
      whatsappAccountId: Id,
      direction: Type.Literal('Inbound'),
      type: MessageType,
      content: Type.String(),
      mediaUrl: Type.Optional(Type.String()),
      createdAt: DateTime
    }),
    timestamp: Timestamp
  }, {
    description: 'An incoming message was received.',
    examples: [{
      message: { id: 'm-2', contactId: 'ct-7', whatsappAccountId: A, direction: 'Inbound', type: 'Image', content: 'Message content', mediaUrl: 'https://cdn.example.com/m-2.jpg', createdAt: TS },
      timestamp: TS
    }]
  }),
  'message:sent': Type.Object({
    message: Type.Object({
      id: Id,
      contactId: Id,
      whatsappAccountId: Id,
      direction: Type.Literal('Outbound'),
      type: MessageType,
      content: Type.String(),
      mediaUrl: Type.Optional(Type.String()),
      status: MessageStatus,
      sentAt: DateTime
    }),
    timestamp: Timestamp
  }, {
    description: 'An outbound message was sent.',
    examples: [{
      message: { id: 'm-3', contactId: 'ct-7', whatsappAccountId: A, direction: 'Outbound', type: 'Text', content: 'Message content', status: 'Sent', sentAt: TS },
      timestamp: TS
    }]
  }),
  'message:delivered': Type.Object({ messageId: Id, deliveredAt: DateTime, timestamp: Timestamp }, {
    description: 'A message was delivered to the recipient.',
    examples: [{ messageId: 'm-3', deliveredAt: TS, timestamp: TS }]
  }),
  'message:read': Type.Object({ messageId: Id, readAt: DateTime, timestamp: Timestamp }, {
    description: 'A message was read by the recipient.',
    examples: [{ messageId: 'm-3', readAt: TS, timestamp: TS }]
  }),
  'message:failed': Type.Object({ messageId: Id, error: Type.String(), timestamp: Timestamp }, {
    description: 'A message failed to send.',
    examples: [{ messageId: 'm-4', error: 'Error message', timestamp: TS }]
  }),

  // Campaigns (room campaign:{campaignId})
  'campaign:started': Type.Object({
    campaignId: Id,
    campaign: Type.Object({ name: Type.String(), totalRecipients: Count }),
    timestamp: Timestamp
  }, {
    description: 'A campaign started.',
    examples: [{ campaignId: 'c-42', campaign: { name: 'Campaign Name', totalRecipients: 1000 }, timestamp: TS }]
  }),
  'campaign:progress': Type.Object({
    campaignId: Id,
    progress: Type.Object({ sent: Count, total: Count, percentage: Percent, failed: Count }),
    timestamp: Timestamp
  }, {
    description: 'Campaign progress (every 100 messages).',
    examples: [{ campaignId: 'c-42', progress: { sent: 500, total: 1000, percentage: 50, failed: 5 }, timestamp: TS }]
  }),
  'campaign:completed': Type.Object({
    campaignId: Id,
    stats: Type.Object({
      totalRecipients: Count,
      sentCount: Count,
      deliveredCount: Count,
      readCount: Count,
      failedCount: Count,
      deliveryRate: Percent,
      readRate: Percent
    }),
    timestamp: Timestamp
  }, {
    description: 'A campaign completed.',
    examples: [{
      campaignId: 'c-42',
      stats: { totalRecipients: 1000, sentCount: 995, deliveredCount: 990, readCount: 850, failedCount: 5, deliveryRate: 99.5, readRate: 85.0 },
      timestamp: TS
    }]
  }),
  'campaign:paused': Type.Object({ campaignId: Id, timestamp: Timestamp }, {
    description: 'A campaign was paused.',
    examples: [{ campaignId: 'c-42', timestamp: TS }]
  }),
  'campaign:resumed': Type.Object({ campaignId: Id, timestamp: Timestamp }, {
    description: 'A campaign was resumed.',
    examples: [{ campaignId: 'c-42', timestamp: TS }]
  }),
  'campaign:failed': Type.Object({ campaignId: Id, error: Type.String(), timestamp: Timestamp }, {
    description: 'A campaign failed.',
    examples: [{ campaignId: 'c-42', error: 'Error message', timestamp: TS }]
  }),

  // Contacts (room contact:{contactId})
  'contact:created': Type.Object({
    contact: Type.Object({ id: Id, name: Type.String(), phone: Type.String(), email: Type.Optional(Type.String()) }),
    timestamp: Timestamp
  }, {
    description: 'A contact was created.',
    examples: [{ contact: { id: 'ct-7', name: 'John Doe', phone: '+1234567890', email: 'john@example.com' }, timestamp: TS }]
  }),
  'contact:updated': Type.Object({ contactId: Id, updates: Type.Object({}, { description: 'The changed fields.' }), timestamp: Timestamp }, {
    description: 'A contact was updated.',
    examples: [{ contactId: 'ct-7', updates: { name: 'John Smith', email: 'john.smith@example.com' }, timestamp: TS }]
  }),
  'contact:deleted': Type.Object({ contactId: Id, timestamp: Timestamp }, {
    description: 'A contact was deleted.',
    examples: [{ contactId: 'ct-7', timestamp: TS }]
  }),

  // Flows
  'flow:execution:started': Type.Object({ flowId: Id, executionId: Id, timestamp: Timestamp }, {
    description: 'A flow execution started.',
    examples: [{ flowId: 'f-1', executionId: 'x-1', timestamp: TS }]
  }),
  'flow:execution:completed': Type.Object({
    flowId: Id,
    executionId: Id,
    result: Type.Object({ status: Type.String(), steps: Count }),
    timestamp: Timestamp
  }, {
    description: 'A flow execution completed.',
    examples: [{ flowId: 'f-1', executionId: 'x-1', result: { status: 'Completed', steps: 5 }, timestamp: TS }]
  }),
  'flow:execution:failed': Type.Object({ flowId: Id, executionId: Id, error: Type.String(), timestamp: Timestamp }, {
    description: 'A flow execution failed.',
    examples: [{ flowId: 'f-1', executionId: 'x-1', error: 'Error message', timestamp: TS }]
  }),

  // System
  'system:notification': Type.Object({
    notification: Type.Object({
      type: Type.Enum(['info', 'warning', 'error', 'success']),
      title: Type.String(),
      message: Type.String(),
      action: Type.Optional(Type.Object({ label: Type.String(), url: Type.String() }))
    }),
    timestamp: Timestamp
  }, {
    description: 'A system-wide notification.',
    examples: [{
      notification: { type: 'info', title: 'Notification Title', message: 'Notification message', action: { label: 'View Details', url: '/path/to/resource' } },
      timestamp: TS
    }]
  }),
  'team:activity': Type.Object({
    activity: Type.Object({
      userId: Id,
      userName: Type.String(),
      action: Type.String(),
      resource: Type.String(),
      metadata: Type.Object({})
    }),
    timestamp: Timestamp
  }, {
    description: 'A team activity log entry.',
    examples: [{ activity: { userId: 'u-1', userName: 'John Doe', action: 'created_campaign', resource: 'Campaign Name', metadata: {} }, timestamp: TS }]
  })
} satisfies Record<string, TSchema>
