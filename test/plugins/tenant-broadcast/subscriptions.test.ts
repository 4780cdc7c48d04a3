// The WhatsApp CRM rooms profile checks every subscription against the user's token, and an undeclared room kind is answered, never left hanging.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { record, startServer, waitFor } from 'realtime-server/testing'

const profile = JSON.parse(readFileSync(new URL('../../../config/examples/whatsapp-crm-rooms.json', import.meta.url), 'utf8'))

t.test('whatsapp-crm-rooms.json: whatsapp, campaign and contact rooms are checked against the token claims', async (t) => {
  const server = await startServer({ config: profile })
  t.teardown(() => server.close())
  const agent = await server.connect('/', { token: server.token({ sub: 'agent-1', tenantId: 'crm-1', whatsappAccounts: ['wa-1'], campaigns: ['c-1'], contacts: ['ct-1'] }) })
  const nobody = await server.connect('/', { token: server.token({ sub: 'agent-2', tenantId: 'crm-1' }) })
  const manager = await server.connect('/', { token: server.token({ sub: 'manager-1', tenantId: 'crm-1', whatsappAccounts: '*', campaigns: '*', contacts: '*' }) })

  for (const [kind, mine, other] of [['whatsapp', 'wa-1', 'wa-2'], ['campaign', 'c-1', 'c-2'], ['contact', 'ct-1', 'ct-2']]) {
    t.same(await server.emitWithAck(agent, `subscribe:${kind}`, mine), { ok: true, kind, id: mine }, `${kind}: an id listed in the token`)
    const refused = await server.emitWithAck(agent, `subscribe:${kind}`, other)
    t.equal(refused.error.code, 'RT_BROADCAST_SUBSCRIBE_REFUSED', `${kind}: an id the token does not list is refused`)
    t.equal((await server.emitWithAck(nobody, `subscribe:${kind}`, mine)).error.code, 'RT_BROADCAST_SUBSCRIBE_REFUSED', `${kind}: a token without the claim is refused`)
    t.same(await server.emitWithAck(manager, `subscribe:${kind}`, other), { ok: true, kind, id: other }, `${kind}: "*" allows every id`)
  }
  t.match((await server.emitWithAck(agent, 'subscribe:campaign', 'c-2')).error.message, /campaigns claim/, 'the refusal names the claim')

  // A refused subscriber gets nothing of that campaign.
  const seen = record(nobody)
  const arrived = waitFor(manager, 'campaign:paused')
  const res = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { tenantId: 'crm-1', type: 'campaign:paused', to: { room: { kind: 'campaign', id: 'c-1' } }, payload: { campaignId: 'c-1', timestamp: '2025-11-05T10:00:00Z' } } })
  t.equal(res.body.recipients, 1, 'only the agent listed for c-1')
  await server.emitWithAck(manager, 'subscribe:campaign', 'c-1')
  const second = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { tenantId: 'crm-1', type: 'campaign:paused', to: { room: { kind: 'campaign', id: 'c-1' } }, payload: { campaignId: 'c-1', timestamp: '2025-11-05T10:00:00Z' } } })
  t.equal(second.body.recipients, 2)
  await arrived
  t.same(seen, [], 'the refused agent received nothing')
})

t.test('subscribe:/unsubscribe: an undeclared kind is answered with an error naming the event and the declared kinds', async (t) => {
  const server = await startServer({ config: profile })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'agent-1', tenantId: 'crm-1' }) })

  const typo = await server.emitWithAck(socket, 'subscribe:flow', 'f-1')
  t.same(typo, {
    error: { code: 'RT_ERR_UNKNOWN_EVENT', field: 'event', message: 'Unknown event "subscribe:flow" on namespace / (handled: subscribe:campaign, subscribe:contact, subscribe:whatsapp)' }
  })
  t.match(await server.emitWithAck(socket, 'unsubscribe:flow', 'f-1'), { error: { code: 'RT_ERR_UNKNOWN_EVENT', message: /unsubscribe:campaign, unsubscribe:contact, unsubscribe:whatsapp/ } })

  // The protocol's clients emit without an ack: they get the error as an `error` event.
  const error = waitFor(socket, 'error')
  socket.emit('subscribe:flow', 'f-1')
  t.match((await error)[0], { code: 'RT_ERR_UNKNOWN_EVENT', event: 'subscribe:flow', message: /subscribe:whatsapp/ })
})

t.test('with no room kinds declared, subscribe: says so', async (t) => {
  const server = await startServer({ config: { plugins: { 'tenant-broadcast': {} } } })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'u', tenantId: 't' }) })
  t.same((await server.emitWithAck(socket, 'subscribe:whatsapp', 'wa-1')).error.message, 'Unknown event "subscribe:whatsapp" on namespace / (no subscribe:* event is handled here)')
})

t.test('to.room without declared room kinds is refused saying so (single and batch)', async (t) => {
  const server = await startServer({ config: { plugins: { 'tenant-broadcast': {} } } })
  t.teardown(() => server.close())
  const body = { tenantId: 't', type: 'campaign:paused', to: { room: { kind: 'campaign', id: 'c-1' } }, payload: { campaignId: 'c-1', timestamp: '2025-11-05T10:00:00Z' } }
  const one = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body })
  t.equal(one.status, 400)
  t.match(one.body, { code: 'RT_ERR_VALIDATION', field: 'to.room', message: /no room kinds are declared on this server \(plugins\.tenant-broadcast\.options\.rooms is empty\)/ })
  const { tenantId, ...item } = body
  const batch = await server.request('POST', '/api/tenant-broadcast/events/batch', { apiKey: true, body: { tenantId, events: [{ ...item, to: undefined }, item] } })
  t.match(batch.body, { code: 'RT_ERR_VALIDATION', field: 'events.1.to.room' })
})

t.test('a bare-string payload where an object or id is expected names `payload`, not ""', async (t) => {
  const server = await startServer({ config: profile })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'agent-1', tenantId: 'crm-1', campaigns: '*' }) })
  t.match(await server.emitWithAck(socket, 'join-tenant', 'tA'), { error: { code: 'RT_ERR_VALIDATION', field: 'payload' } })
  t.match(await server.emitWithAck(socket, 'subscribe:campaign', ''), { error: { code: 'RT_ERR_VALIDATION', field: 'payload' } })
  const error = waitFor(socket, 'error')
  socket.emit('join-tenant', 'tA')
  t.match((await error)[0], { code: 'RT_ERR_VALIDATION', field: 'payload', event: 'join-tenant' })
})
