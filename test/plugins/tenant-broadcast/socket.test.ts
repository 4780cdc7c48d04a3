import t from 'tap'
import { record, startServer, waitFor } from 'realtime-server/testing'

t.test('ping, join-tenant and test-event in development mode', async (t) => {
  const server = await startServer({ config: { plugins: { 'tenant-broadcast': { options: { developmentMode: true } } } } })
  t.teardown(() => server.close())
  const tenantId = 'tenant-uuid'
  const alice = await server.connect('/', { token: server.token({ sub: 'alice', tenantId }) })
  const bob = await server.connect('/', { token: server.token({ sub: 'bob', tenantId }) })

  const pong = waitFor(alice, 'pong')
  const ack = await server.emitWithAck(alice, 'ping')
  t.type(ack.timestamp, 'number')
  t.same((await pong)[0], ack, 'pong is emitted too, with the same timestamp')

  t.equal((await server.emitWithAck(alice, 'join-tenant', {})).error.field, 'tenantId')
  t.equal((await server.emitWithAck(alice, 'join-tenant', 'tenant-uuid')).error.code, 'RT_ERR_VALIDATION')

  // The CRM tenant events protocol's example test event, to the whole tenant, sender included.
  const payload = { instanceId: 'test-uuid', tenantId, messageId: 'msg_123', phone: '+1234567890' }
  const toBob = waitFor(bob, 'whatsapp_message_sent')
  const toAlice = waitFor(alice, 'whatsapp_message_sent')
  const res = await server.emitWithAck(alice, 'test-event', { type: 'whatsapp_message_sent', payload, language: 'ar' })
  t.equal(res.recipients, 2)
  const [got, meta] = await toBob
  t.same(got, payload)
  t.same(meta, { eventId: res.eventId, timestamp: meta.timestamp, language: 'ar' })
  await toAlice

  const seen = record(bob)
  t.same(await server.emitWithAck(alice, 'test-event', { type: 'nope', payload: {} }), {
    error: { code: 'RT_BROADCAST_UNKNOWN_EVENT', message: 'Unknown event type "nope"', field: 'type' }
  })
  t.same((await server.emitWithAck(alice, 'test-event', { type: 'whatsapp_message_sent', payload: { ...payload, phone: 5 } })).error.field, 'payload.phone')
  t.same((await server.emitWithAck(alice, 'test-event', { type: 'whatsapp_message_sent', payload, language: 'fr' })).error.field, 'language')
  const sentinel = waitFor(bob, 'notification_read')
  await server.emitWithAck(alice, 'test-event', { type: 'notification_read', payload: { notificationId: 'n', tenantId } })
  await sentinel
  t.same(seen.map((e) => e.event), ['notification_read'], 'refused test events published nothing')
})
