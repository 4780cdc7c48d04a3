/**
 * The CRM tenant events protocol's catalog: the 37 tenant-scoped CRM events ("Socket Events Documentation"). Every payload
 * carries its entity id and the tenant id; fields marked `?` in the seed are optional here, `Date`
 * fields travel as ISO 8601 strings, and further properties are allowed (the seed's `...data`).
 * Each schema's `examples[0]` is a valid payload, used by the README and the tests.
 */
import { Type, type TSchema } from 'realtime-server'

const Id = Type.String({ minLength: 1 })
const Count = Type.Integer({ minimum: 0 })
const Amount = Type.Number({ minimum: 0 })
const Changes = Type.Object({}, { description: 'The changed fields and their new values.' })
const DateTime = Type.String({ format: 'date-time', description: 'ISO 8601 date-time (a JavaScript Date serialized).' })

const T = 'f3b1c2d4-0000-4000-8000-00000000a001'
const I = '9c6e1d1a-1111-4111-8111-000000000001'

export const crmTenantEvents = {
  // WhatsApp instances
  whatsapp_instance_created: Type.Object({ instanceId: Id, tenantId: Id, name: Type.String(), sessionName: Type.String() }, {
    description: 'A WhatsApp instance was created (whatsapp.create).',
    examples: [{ instanceId: I, tenantId: T, name: 'My WhatsApp', sessionName: 'session_123' }]
  }),
  whatsapp_instance_updated: Type.Object({
    instanceId: Id,
    tenantId: Id,
    changes: Type.Object({ name: Type.Optional(Type.String()), status: Type.Optional(Type.String()), isActive: Type.Optional(Type.Boolean()) })
  }, {
    description: 'An instance was updated (whatsapp.update).',
    examples: [{ instanceId: I, tenantId: T, changes: { name: 'Support line', isActive: true } }]
  }),
  whatsapp_instance_deleted: Type.Object({ instanceId: Id, tenantId: Id, name: Type.String() }, {
    description: 'An instance was deleted (whatsapp.delete).',
    examples: [{ instanceId: I, tenantId: T, name: 'My WhatsApp' }]
  }),
  whatsapp_instance_connected: Type.Object({ instanceId: Id, tenantId: Id, phoneNumber: Type.Optional(Type.String()) }, {
    description: 'An instance connected (webhook, status check).',
    examples: [{ instanceId: I, tenantId: T, phoneNumber: '+1234567890' }]
  }),
  whatsapp_instance_disconnected: Type.Object({ instanceId: Id, tenantId: Id, sessionName: Type.String() }, {
    description: 'An instance disconnected (whatsapp.disconnect, connection loss).',
    examples: [{ instanceId: I, tenantId: T, sessionName: 'session_123' }]
  }),
  whatsapp_qr_generated: Type.Object({ instanceId: Id, tenantId: Id, qrCode: Type.String() }, {
    description: 'A new QR code was generated (whatsapp.getQrCode, whatsapp.reconnect).',
    examples: [{ instanceId: I, tenantId: T, qrCode: 'data:image/png;base64,iVBORw0KGgo=' }]
  }),
  whatsapp_message_sent: Type.Object({ instanceId: Id, tenantId: Id, messageId: Type.String(), phone: Type.String() }, {
    description: 'A message was sent (whatsapp.sendMessage, sendWithTemplate, queue worker).',
    examples: [{ instanceId: I, tenantId: T, messageId: 'msg_123', phone: '+1234567890' }]
  }),
  whatsapp_message_received: Type.Object({ instanceId: Id, tenantId: Id, messageId: Type.String(), from: Type.String(), message: Type.String() }, {
    description: 'A message was received (WhatsApp webhook).',
    examples: [{ instanceId: I, tenantId: T, messageId: 'msg_124', from: '+1987654321', message: 'Hello!' }]
  }),
  whatsapp_bulk_sent: Type.Object({
    instanceId: Id,
    tenantId: Id,
    queued: Count,
    total: Count,
    type: Type.Enum(['contacts', 'group']),
    groupName: Type.Optional(Type.String())
  }, {
    description: 'Bulk messages were queued (whatsapp.sendBulkToContacts, sendBulkToGroup).',
    examples: [{ instanceId: I, tenantId: T, queued: 48, total: 50, type: 'group', groupName: 'VIP customers' }]
  }),

  // Campaigns
  campaign_created: Type.Object({ campaignId: Id, tenantId: Id, name: Type.String(), totalRecipients: Count }, {
    description: 'A campaign was created (campaigns.create).',
    examples: [{ campaignId: 'c-42', tenantId: T, name: 'Spring sale', totalRecipients: 1000 }]
  }),
  campaign_updated: Type.Object({ campaignId: Id, tenantId: Id, changes: Changes }, {
    description: 'A campaign was updated (campaigns.update).',
    examples: [{ campaignId: 'c-42', tenantId: T, changes: { name: 'Spring sale 2' } }]
  }),
  campaign_deleted: Type.Object({ campaignId: Id, tenantId: Id, name: Type.String() }, {
    description: 'A campaign was deleted (campaigns.delete).',
    examples: [{ campaignId: 'c-42', tenantId: T, name: 'Spring sale' }]
  }),
  campaign_status_changed: Type.Object({
    campaignId: Id,
    tenantId: Id,
    status: Type.Enum(['running', 'completed', 'cancelled']),
    previousStatus: Type.String(),
    queuedMessages: Type.Optional(Count)
  }, {
    description: 'A campaign\'s status changed (campaigns.start, campaigns.cancel, completion).',
    examples: [{ campaignId: 'c-42', tenantId: T, status: 'running', previousStatus: 'draft', queuedMessages: 1000 }]
  }),

  // Contacts
  contact_created: Type.Object({ contactId: Id, tenantId: Id, name: Type.String(), phoneNumber: Type.String() }, {
    description: 'A contact was created (contacts.create).',
    examples: [{ contactId: 'ct-7', tenantId: T, name: 'John Doe', phoneNumber: '+1234567890' }]
  }),
  contact_updated: Type.Object({ contactId: Id, tenantId: Id, changes: Changes }, {
    description: 'A contact was updated (contacts.update).',
    examples: [{ contactId: 'ct-7', tenantId: T, changes: { name: 'John Smith' } }]
  }),
  contact_deleted: Type.Object({ contactId: Id, tenantId: Id }, {
    description: 'A contact was deleted (contacts.delete).',
    examples: [{ contactId: 'ct-7', tenantId: T }]
  }),
  contacts_bulk_deleted: Type.Object({ contactId: Type.Literal('bulk'), tenantId: Id, count: Count, ids: Type.Array(Id) }, {
    description: 'Several contacts were deleted (contacts.bulkDelete); contactId is always "bulk".',
    examples: [{ contactId: 'bulk', tenantId: T, count: 2, ids: ['ct-7', 'ct-8'] }]
  }),

  // Groups
  group_created: Type.Object({ groupId: Id, tenantId: Id, name: Type.String() }, {
    description: 'A group was created (groups.create).',
    examples: [{ groupId: 'g-3', tenantId: T, name: 'VIP customers' }]
  }),
  group_updated: Type.Object({ groupId: Id, tenantId: Id, changes: Changes }, {
    description: 'A group was updated (groups.update).',
    examples: [{ groupId: 'g-3', tenantId: T, changes: { name: 'VIP' } }]
  }),
  group_deleted: Type.Object({ groupId: Id, tenantId: Id }, {
    description: 'A group was deleted (groups.delete).',
    examples: [{ groupId: 'g-3', tenantId: T }]
  }),

  // Subscriptions and usage
  subscription_created: Type.Object({ subscriptionId: Id, tenantId: Id, planId: Id, status: Type.String() }, {
    description: 'A subscription was created (subscriptions.create).',
    examples: [{ subscriptionId: 's-1', tenantId: T, planId: 'plan-pro', status: 'active' }]
  }),
  subscription_updated: Type.Object({ subscriptionId: Id, tenantId: Id, changes: Changes }, {
    description: 'A subscription was updated (subscriptions.update).',
    examples: [{ subscriptionId: 's-1', tenantId: T, changes: { planId: 'plan-business' } }]
  }),
  subscription_cancelled: Type.Object({ subscriptionId: Id, tenantId: Id, cancelAtPeriodEnd: Type.Boolean() }, {
    description: 'A subscription was cancelled (subscriptions.cancel).',
    examples: [{ subscriptionId: 's-1', tenantId: T, cancelAtPeriodEnd: true }]
  }),
  subscription_renewed: Type.Object({ subscriptionId: Id, tenantId: Id, periodStart: DateTime, periodEnd: DateTime }, {
    description: 'A subscription was renewed (subscriptions.renew).',
    examples: [{ subscriptionId: 's-1', tenantId: T, periodStart: '2025-11-01T00:00:00.000Z', periodEnd: '2025-12-01T00:00:00.000Z' }]
  }),
  usage_limit_reached: Type.Object({ subscriptionId: Id, tenantId: Id, featureKey: Type.String(), limit: Amount, current: Amount }, {
    description: 'A usage limit was reached (usage tracking).',
    examples: [{ subscriptionId: 's-1', tenantId: T, featureKey: 'messages', limit: 10000, current: 10000 }]
  }),
  usage_updated: Type.Object({ subscriptionId: Id, tenantId: Id, featureKey: Type.String(), usageCount: Amount, limit: Amount }, {
    description: 'Usage was updated (usage tracking).',
    examples: [{ subscriptionId: 's-1', tenantId: T, featureKey: 'messages', usageCount: 9500, limit: 10000 }]
  }),

  // Message templates
  template_created: Type.Object({ templateId: Id, tenantId: Id, name: Type.String() }, {
    description: 'A message template was created (messageTemplates.create).',
    examples: [{ templateId: 'tp-5', tenantId: T, name: 'Welcome' }]
  }),
  template_updated: Type.Object({ templateId: Id, tenantId: Id, changes: Changes }, {
    description: 'A template was updated (messageTemplates.update).',
    examples: [{ templateId: 'tp-5', tenantId: T, changes: { name: 'Welcome v2' } }]
  }),
  template_deleted: Type.Object({ templateId: Id, tenantId: Id }, {
    description: 'A template was deleted (messageTemplates.delete).',
    examples: [{ templateId: 'tp-5', tenantId: T }]
  }),

  // Notifications
  notification_created: Type.Object({ notificationId: Id, tenantId: Id, title: Type.String(), message: Type.String(), type: Type.String() }, {
    description: 'A notification was created (notifications.create, system events).',
    examples: [{ notificationId: 'n-9', tenantId: T, title: 'Campaign finished', message: 'Spring sale reached 1000 contacts', type: 'success' }]
  }),
  notification_read: Type.Object({ notificationId: Id, tenantId: Id }, {
    description: 'A notification was marked as read (notifications.markAsRead).',
    examples: [{ notificationId: 'n-9', tenantId: T }]
  }),
  notification_deleted: Type.Object({ notificationId: Id, tenantId: Id }, {
    description: 'A notification was deleted (notifications.delete).',
    examples: [{ notificationId: 'n-9', tenantId: T }]
  }),

  // Tenants
  tenant_created: Type.Object({ tenantId: Id, name: Type.String(), slug: Type.String() }, {
    description: 'A tenant was created (tenants.create).',
    examples: [{ tenantId: T, name: 'Acme', slug: 'acme' }]
  }),
  tenant_updated: Type.Object({ tenantId: Id, changes: Changes }, {
    description: 'A tenant was updated (tenants.update).',
    examples: [{ tenantId: T, changes: { name: 'Acme Inc.' } }]
  }),
  tenant_member_added: Type.Object({ tenantId: Id, userId: Id, role: Type.String() }, {
    description: 'A member was added (tenants.addMember, invitation acceptance).',
    examples: [{ tenantId: T, userId: 'u-1', role: 'agent' }]
  }),
  tenant_member_removed: Type.Object({ tenantId: Id, userId: Id }, {
    description: 'A member was removed (tenants.removeMember).',
    examples: [{ tenantId: T, userId: 'u-1' }]
  }),
  tenant_member_role_changed: Type.Object({ tenantId: Id, userId: Id, oldRole: Type.String(), newRole: Type.String() }, {
    description: 'A member\'s role changed (tenants.updateMemberRole).',
    examples: [{ tenantId: T, userId: 'u-1', oldRole: 'agent', newRole: 'admin' }]
  })
} satisfies Record<string, TSchema>
