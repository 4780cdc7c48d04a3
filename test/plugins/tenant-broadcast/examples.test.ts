import { readFileSync } from 'node:fs'
import t from 'tap'
import { record, startServer, waitFor } from 'realtime-server/testing'

const load = (file: string): Record<string, any> => JSON.parse(readFileSync(new URL(`../../../config/examples/${file}`, import.meta.url), 'utf8'))

t.test('the CRM tenant events protocol: config/examples/crm-tenant-events.json serves tenant-scoped CRM events', async (t) => {
  const server = await startServer({ config: load('crm-tenant-events.json') })
  t.teardown(() => server.close())
  const tenantId = 'f3b1c2d4-0000-4000-8000-00000000a001'
  const socket = await server.connect('/', { token: server.token({ sub: 'user-1', tenantId }) })
  const other = await server.connect('/', { token: server.token({ sub: 'user-2', tenantId: 'another-tenant' }) })
  const otherSaw = record(other)

  // The seed's reconnect habit.
  t.same(await server.emitWithAck(socket, 'join-tenant', { tenantId }), { ok: true, tenantId })
  t.equal((await server.emitWithAck(socket, 'join-tenant', { tenantId: 'another-tenant' })).error.code, 'RT_BROADCAST_TENANT_MISMATCH')

  // The backend's notifyTenantUsers(tenantId, type, payload).
  const payload = { instanceId: 'test-uuid', tenantId, messageId: 'msg_123', phone: '+1234567890' }
  const sent = waitFor(socket, 'whatsapp_message_sent')
  const res = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'whatsapp_message_sent', payload, tenantId, language: 'en' } })
  t.same([res.status, res.body.recipients], [200, 1])
  const [got, meta] = await sent
  t.same(got, payload)
  t.same(meta, { eventId: res.body.eventId, timestamp: meta.timestamp, language: 'en' })

  const status = { campaignId: 'c-1', tenantId, status: 'running', previousStatus: 'draft', queuedMessages: 20 }
  const changed = waitFor(socket, 'campaign_status_changed')
  await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'campaign_status_changed', payload: status, tenantId } })
  t.same((await changed)[0], status)

  // test-event is for development only; this profile is production.
  t.same(await server.emitWithAck(socket, 'test-event', { type: 'whatsapp_message_sent', payload }), {
    error: { code: 'RT_BROADCAST_DEVELOPMENT_ONLY', message: 'test-event is only available in development mode' }
  })
  // Only the CRM tenant events protocol's catalog is enabled.
  const foreign = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'campaign:paused', payload: { campaignId: 'c', timestamp: '2025-11-05T10:00:00Z' }, tenantId } })
  t.equal(foreign.body.code, 'RT_BROADCAST_UNKNOWN_EVENT')

  const sentinel = waitFor(other, 'tenant_updated')
  await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'tenant_updated', payload: { tenantId: 'another-tenant', changes: {} }, tenantId: 'another-tenant' } })
  await sentinel
  t.same(otherSaw.map((e) => e.event), ['tenant_updated'], 'the other tenant saw only its own event')
})

t.test('the WhatsApp CRM rooms protocol: config/examples/whatsapp-crm-rooms.json serves rooms, events, heartbeat and stats', async (t) => {
  const server = await startServer({ config: load('whatsapp-crm-rooms.json') })
  t.teardown(() => server.close())
  const TS = '2025-11-05T10:00:00Z'
  // The claims the profile checks subscriptions against: listed ids, or "*" for every id of the tenant.
  const socket = await server.connect('/', { token: server.token({ sub: 'agent-1', tenantId: 'crm-1', whatsappAccounts: ['wa-1'], campaigns: ['c-42'], contacts: '*' }) })

  t.same(await server.emitWithAck(socket, 'subscribe:whatsapp', 'wa-1'), { ok: true, kind: 'whatsapp', id: 'wa-1' })
  t.equal((await server.emitWithAck(socket, 'subscribe:whatsapp', 'wa-2')).error.code, 'RT_BROADCAST_SUBSCRIBE_REFUSED', 'accounts not in the token are refused')
  t.same(await server.emitWithAck(socket, 'subscribe:campaign', 'c-42'), { ok: true, kind: 'campaign', id: 'c-42' })
  t.same(await server.emitWithAck(socket, 'subscribe:contact', { id: 'ct-7' }), { ok: true, kind: 'contact', id: 'ct-7' })

  const pong = waitFor(socket, 'pong')
  socket.emit('ping')
  const [p] = await pong
  t.type(p.timestamp, 'number')
  t.same(Object.keys(p), ['timestamp'])

  const publish = async (type: string, payload: object, to?: object): Promise<any> => {
    const arrived = waitFor(socket, type)
    const res = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type, payload, tenantId: 'crm-1', to } })
    t.equal(res.status, 200, type)
    t.equal(res.body.recipients, 1, `${type} reached the socket`)
    t.same((await arrived)[0], payload, `${type} arrives as documented`)
  }
  await publish('message:received', {
    message: { id: 'm-1', contactId: 'ct-7', whatsappAccountId: 'wa-1', direction: 'Inbound', type: 'Text', content: 'Hi', createdAt: TS },
    timestamp: TS
  }, { room: { kind: 'whatsapp', id: 'wa-1' } })
  await publish('message:status:update', { messageId: 'm-1', status: 'Read', contactId: 'ct-7', whatsappAccountId: 'wa-1', timestamp: TS }, { room: { kind: 'whatsapp', id: 'wa-1' } })
  await publish('campaign:progress', { campaignId: 'c-42', progress: { sent: 500, total: 1000, percentage: 50, failed: 5 }, timestamp: TS }, { room: { kind: 'campaign', id: 'c-42' } })
  await publish('contact:updated', { contactId: 'ct-7', updates: { name: 'John Smith' }, timestamp: TS }, { room: { kind: 'contact', id: 'ct-7' } })
  await publish('whatsapp:qr:generated', { accountId: 'wa-1', qrCode: 'qr', expiresAt: TS, timestamp: TS }, { users: ['agent-1'] })
  await publish('system:notification', { notification: { type: 'success', title: 'Done', message: 'All good' }, timestamp: TS })

  const stats = await server.request('GET', '/api/tenant-broadcast/stats', { apiKey: true })
  t.equal(stats.status, 200)
  t.equal(stats.body.connected, 1)
  t.same(stats.body.tenants, { 'crm-1': 1 })
  t.ok(stats.body.rooms >= 3, 'the subscribed rooms are counted')
  t.equal((await server.request('GET', '/api/tenant-broadcast/stats')).status, 401)

  const foreign = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'contact_deleted', payload: { contactId: 'c', tenantId: 'crm-1' }, tenantId: 'crm-1' } })
  t.equal(foreign.body.code, 'RT_BROADCAST_UNKNOWN_EVENT', 'only the WhatsApp CRM rooms protocol\'s catalog is enabled')
})
