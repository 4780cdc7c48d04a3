import t from 'tap'
import { record, startServer, waitFor } from 'realtime-server/testing'
import { crmTenantEvents, whatsappCrmEvents } from '../../../plugins/tenant-broadcast/catalogs/index.js'

type Schema = { examples?: unknown[], required?: string[], properties?: Record<string, unknown> }

// The tenant of the examples of the CRM tenant events protocol (their payload.tenantId).
const TENANT = 'f3b1c2d4-0000-4000-8000-00000000a001'

const catalogs = { 'crm-tenant-events': crmTenantEvents, 'whatsapp-crm': whatsappCrmEvents } as Record<string, Record<string, Schema>>

t.test('the catalogs hold the events of the seeds', async (t) => {
  t.equal(Object.keys(crmTenantEvents).length, 37, 'the CRM tenant events protocol lists 37 events')
  t.same(Object.keys(whatsappCrmEvents).sort(), [
    'campaign:completed', 'campaign:failed', 'campaign:paused', 'campaign:progress', 'campaign:resumed', 'campaign:started',
    'contact:created', 'contact:deleted', 'contact:updated',
    'flow:execution:completed', 'flow:execution:failed', 'flow:execution:started',
    'message:delivered', 'message:failed', 'message:read', 'message:received', 'message:sent', 'message:status:update',
    'system:notification', 'team:activity',
    'whatsapp:connection:status', 'whatsapp:disconnected', 'whatsapp:qr:generated', 'whatsapp:ready'
  ])
  for (const [name, events] of Object.entries(catalogs)) {
    for (const [type, schema] of Object.entries(events)) t.equal(schema.examples?.length, 1, `${name} ${type} has an example payload`)
  }
})

t.test('every catalog event round-trips; an invalid payload is refused naming the field and publishes nothing', async (t) => {
  const server = await startServer({ config: { plugins: { 'tenant-broadcast': {} } } })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: TENANT }) })
  const seen = record(socket)
  let published = 0

  for (const events of Object.values(catalogs)) {
    for (const [type, schema] of Object.entries(events)) {
      const payload = schema.examples![0] as Record<string, unknown>
      const arrived = waitFor(socket, type)
      const res = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type, payload, tenantId: TENANT } })
      t.equal(res.status, 200, `${type} accepted`)
      t.equal(res.body.recipients, 1, `${type} reached the socket`)
      const [got, meta] = await arrived
      t.same(got, payload, `${type} payload arrives exactly as sent`)
      t.strictSame(Object.keys(meta).sort(), ['eventId', 'timestamp'])
      t.equal(meta.eventId, res.body.eventId)
      published++

      // Without its first required field the payload is refused, and the field is named.
      const missing = schema.required![0]!
      const { [missing]: _, ...bad } = payload
      const refused = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type, payload: bad, tenantId: TENANT } })
      t.equal(refused.status, 400, `${type} without ${missing} refused`)
      t.equal(refused.body.code, 'RT_ERR_VALIDATION')
      t.equal(refused.body.field, `payload.${missing}`)
      t.equal(refused.body.message, `Invalid payload: payload.${missing}: is required`)
    }
  }

  const sentinel = waitFor(socket, 'contact_deleted', { filter: (p) => p.contactId === 'sentinel' })
  await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'contact_deleted', payload: { contactId: 'sentinel', tenantId: TENANT }, tenantId: TENANT } })
  await sentinel
  t.equal(seen.length, published + 1, 'only the valid events and the sentinel arrived')
})

t.test('types, enums, literals, formats and optional fields are checked as the seeds document them', async (t) => {
  const server = await startServer({ config: { plugins: { 'tenant-broadcast': {} } } })
  t.teardown(() => server.close())
  const post = async (type: string, payload: unknown, extra: object = {}): Promise<{ status: number, body: any }> =>
    await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type, payload, tenantId: TENANT, ...extra } })
  const base = { campaignId: 'c-1', tenantId: TENANT, previousStatus: 'draft' }

  t.equal((await post('campaign_status_changed', { ...base, status: 'running' })).status, 200, 'queuedMessages is optional')
  let res = await post('campaign_status_changed', { ...base, status: 'paused' })
  t.same([res.status, res.body.field, res.body.message], [400, 'payload.status', 'Invalid payload: payload.status: must be one of: running, completed, cancelled'])
  res = await post('whatsapp_bulk_sent', { instanceId: 'i', tenantId: TENANT, queued: 1, total: 2, type: 'broadcast' })
  t.same([res.status, res.body.field], [400, 'payload.type'])
  res = await post('whatsapp_bulk_sent', { instanceId: 'i', tenantId: TENANT, queued: '1', total: 2, type: 'contacts' })
  t.same([res.status, res.body.field, res.body.message], [400, 'payload.queued', 'Invalid payload: payload.queued: must be integer'])
  res = await post('contacts_bulk_deleted', { contactId: 'ct-1', tenantId: TENANT, count: 1, ids: ['ct-1'] })
  t.same([res.status, res.body.field, res.body.message], [400, 'payload.contactId', 'Invalid payload: payload.contactId: must be "bulk"'])
  res = await post('subscription_renewed', { subscriptionId: 's', tenantId: TENANT, periodStart: 'yesterday', periodEnd: '2025-12-01T00:00:00Z' })
  t.same([res.status, res.body.field], [400, 'payload.periodStart'])
  res = await post('whatsapp_instance_updated', { instanceId: 'i', tenantId: TENANT, changes: { isActive: 'yes' } })
  t.same([res.status, res.body.field], [400, 'payload.changes.isActive'])
  t.equal((await post('whatsapp_instance_connected', { instanceId: 'i', tenantId: TENANT })).status, 200, 'phoneNumber is optional')

  res = await post('message:status:update', { messageId: 'm', status: 'sent', contactId: 'c', whatsappAccountId: 'w', timestamp: '2025-11-05T10:00:00Z' })
  t.same([res.status, res.body.message], [400, 'Invalid payload: payload.status: must be one of: Queued, Sent, Delivered, Read, Failed'])
  res = await post('message:received', { message: { id: 'm', contactId: 'c', whatsappAccountId: 'w', direction: 'Outbound', type: 'Text', content: 'hi', createdAt: '2025-11-05T10:00:00Z' }, timestamp: '2025-11-05T10:00:00Z' })
  t.same([res.status, res.body.field], [400, 'payload.message.direction'], 'a received message is Inbound')
  res = await post('message:received', { message: { id: 'm', contactId: 'c', whatsappAccountId: 'w', direction: 'Inbound', type: 'Text', content: 'hi', createdAt: '2025-11-05T10:00:00Z' }, timestamp: '2025-11-05T10:00:00Z' })
  t.equal(res.status, 200, 'mediaUrl is optional')
  res = await post('system:notification', { notification: { type: 'fatal', title: 't', message: 'm' }, timestamp: '2025-11-05T10:00:00Z' })
  t.same([res.status, res.body.field], [400, 'payload.notification.type'])
  res = await post('campaign:progress', { campaignId: 'c', progress: { sent: 1, total: 2, percentage: 150, failed: 0 }, timestamp: '2025-11-05T10:00:00Z' })
  t.same([res.status, res.body.field], [400, 'payload.progress.percentage'])
  res = await post('campaign:paused', 'c-1')
  t.same([res.status, res.body.field, res.body.message], [400, 'payload', 'Invalid payload: payload: must be object'])

  res = await post('campaign_paused', {})
  t.same(res.body, { statusCode: 400, error: 'Bad Request', code: 'RT_BROADCAST_UNKNOWN_EVENT', message: 'Unknown event type "campaign_paused"', field: 'type' })
  res = await post('contact_deleted', { contactId: 'c', tenantId: TENANT }, { language: 'fr' })
  t.same([res.status, res.body.field], [400, 'language'])
  res = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'contact_deleted', tenantId: TENANT } })
  t.same([res.status, res.body.field], [400, 'payload'], 'the payload is required')
})

t.test('language reaches clients in the meta; payload.tenantId must be the target tenant', async (t) => {
  const server = await startServer({ config: { plugins: { 'tenant-broadcast': {} } } })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: TENANT }) })
  const seen = record(socket, 'notification_read')

  const arrived = waitFor(socket, 'notification_read')
  const res = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'notification_read', payload: { notificationId: 'n1', tenantId: TENANT }, tenantId: TENANT, language: 'ar' } })
  t.equal(res.status, 200)
  const [, meta] = await arrived
  t.same(meta, { eventId: res.body.eventId, timestamp: meta.timestamp, language: 'ar' })
  t.type(meta.timestamp, 'number')

  const other = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'notification_read', payload: { notificationId: 'n2', tenantId: 'someone-else' }, tenantId: TENANT } })
  t.equal(other.status, 400)
  t.equal(other.body.field, 'payload.tenantId')
  t.equal(other.body.message, `Invalid payload: payload.tenantId: must be the tenant the event is published to (${TENANT})`)

  const sentinel = waitFor(socket, 'notification_read', { filter: (p) => p.notificationId === 'n3' })
  await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'notification_read', payload: { notificationId: 'n3', tenantId: TENANT }, tenantId: TENANT } })
  await sentinel
  t.same(seen.map((e) => e.args[0].notificationId), ['n1', 'n3'], 'the mismatched event was not published')
})

t.test('only the selected catalogs are accepted; GET /events lists them', async (t) => {
  const server = await startServer({ config: { plugins: { 'tenant-broadcast': { options: { catalogs: ['whatsapp-crm'] } } } } })
  t.teardown(() => server.close())
  const res = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'contact_deleted', payload: { contactId: 'c', tenantId: TENANT }, tenantId: TENANT } })
  t.same([res.status, res.body.code], [400, 'RT_BROADCAST_UNKNOWN_EVENT'])
  const list = await server.request('GET', '/api/tenant-broadcast/events', { token: server.token({ sub: 'u1', tenantId: TENANT }) })
  t.equal(list.status, 200)
  t.same(list.body.catalogs, ['whatsapp-crm'])
  t.same(Object.keys(list.body.events).sort(), Object.keys(whatsappCrmEvents).sort())
  t.equal(list.body.events['campaign:progress'].catalog, 'whatsapp-crm')
  t.same(list.body.events['campaign:progress'].schema.required, ['campaignId', 'progress', 'timestamp'])
  t.equal((await server.request('GET', '/api/tenant-broadcast/events')).status, 401, 'the list needs credentials')
})
