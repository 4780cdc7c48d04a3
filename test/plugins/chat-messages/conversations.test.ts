import { readFileSync } from 'node:fs'
import t from 'tap'
import { record, startServer, waitFor, type ClientSocket, type TestServer } from 'realtime-server/testing'

/** The chat-messages entry of the WhatsApp builder gateway protocol's example config. */
const example = JSON.parse(readFileSync(new URL('../../../config/examples/whatsapp-builder-gateway.json', import.meta.url), 'utf8'))
const builderGateway = { plugins: { 'chat-messages': example.plugins['chat-messages'] } }

async function watcher (server: TestServer, sub: string, tenantId: string, conversationId?: string): Promise<ClientSocket> {
  const socket = await server.connect('/messages', { token: server.token({ sub, tenantId }) })
  if (conversationId !== undefined) {
    const joined = waitFor(socket, 'conversation:joined')
    const ack = await server.emitWithAck(socket, 'conversation:join', { conversationId })
    if (ack.success !== true) throw new Error(JSON.stringify(ack))
    await joined
  }
  return socket
}

const received = (conversationId: string, messageId: string) => ({
  conversationId, messageId, senderId: '905551112233', type: 'text', content: { body: 'Merhaba' }, status: 'delivered', timestamp: '2025-01-01T10:00:00.000Z'
})

t.test('the WhatsApp builder gateway protocol: conversation rooms on /messages receive the backend-pushed events', async (t) => {
  const server = await startServer({ config: builderGateway })
  t.teardown(() => server.close())
  t.equal(example.plugins['chat-messages'].options.namespace, '/messages')

  const agent = await server.connect('/messages', { token: server.token({ sub: 'agent-1', tenantId: 'acme' }) })
  const agentSaw = record(agent)
  const joinedEvent = waitFor(agent, 'conversation:joined')
  const ack = await server.emitWithAck(agent, 'conversation:join', { conversationId: 'conv-1' })
  t.same(ack, { conversationId: 'conv-1', success: true })
  t.same((await joinedEvent)[0], { conversationId: 'conv-1', success: true }, 'the seed\'s conversation:joined event')
  const other = await watcher(server, 'agent-2', 'acme', 'conv-2')
  const otherSaw = record(other)
  const elsewhere = await watcher(server, 'agent-1', 'globex', 'conv-1')
  const elsewhereSaw = record(elsewhere)

  // message:received, as the backend's webhook processor pushes it.
  const got = waitFor(agent, 'message:received')
  const res = await server.request('POST', '/api/chat-messages/message-received', { apiKey: true, body: { tenantId: 'acme', ...received('conv-1', 'wamid.1') } })
  t.equal(res.status, 200)
  t.equal(res.body.recipients, 1)
  t.type(res.body.eventId, 'string')
  const [payload, meta] = await got
  t.same(payload, received('conv-1', 'wamid.1'), 'the DTO as the backend sent it')
  t.equal(meta.eventId, res.body.eventId)

  // message:status, pushed by a service token (a publisher JWT acts in its own tenant).
  const status = waitFor(agent, 'message:status')
  const service = server.token({ sub: 'backend', tenantId: 'acme', role: 'service' })
  const res2 = await server.request('POST', '/api/chat-messages/message-status', { token: service, body: { conversationId: 'conv-1', messageId: 'wamid.1', status: 'read' } })
  t.equal(res2.status, 200)
  t.same((await status)[0], { conversationId: 'conv-1', messageId: 'wamid.1', status: 'read' })

  // Sentinels: the other conversation and the other tenant got nothing of conv-1.
  const sentinel = waitFor(other, 'message:status')
  await server.request('POST', '/api/chat-messages/message-status', { apiKey: true, body: { tenantId: 'acme', conversationId: 'conv-2', messageId: 'w2', status: 'sent' } })
  await sentinel
  t.same(otherSaw.map((e) => e.event), ['message:status'])
  const globexSentinel = waitFor(elsewhere, 'message:status')
  await server.request('POST', '/api/chat-messages/message-status', { apiKey: true, body: { tenantId: 'globex', conversationId: 'conv-1', messageId: 'g1', status: 'sent' } })
  await globexSentinel
  t.same(elsewhereSaw.map((e) => e.args[0].messageId), ['g1'], 'the same conversation id of another tenant is another room')

  // Leaving: nothing more arrives.
  t.same(await server.emitWithAck(agent, 'conversation:leave', { conversationId: 'conv-1' }), { conversationId: 'conv-1', success: true })
  const rejoinedOther = waitFor(other, 'message:received')
  const after = await server.request('POST', '/api/chat-messages/message-received', { apiKey: true, body: { tenantId: 'acme', ...received('conv-1', 'wamid.2') } })
  t.equal(after.body.recipients, 0)
  await server.request('POST', '/api/chat-messages/message-received', { apiKey: true, body: { tenantId: 'acme', ...received('conv-2', 'sentinel') } })
  await rejoinedOther
  t.same(agentSaw.map((e) => e.event), ['conversation:joined', 'message:received', 'message:status'], 'the agent saw nothing after leaving, and no channel events')
})

t.test('the WhatsApp builder gateway protocol: REST triggers check their caller and body', async (t) => {
  const server = await startServer({ config: builderGateway })
  t.teardown(() => server.close())
  const url = '/api/chat-messages/message-received'
  t.equal((await server.request('POST', url, { body: received('c', 'm') })).status, 401)
  const userToken = server.token({ sub: 'u', tenantId: 'acme' })
  t.equal((await server.request('POST', url, { token: userToken, body: received('c', 'm') })).status, 403, 'a user token may not push')
  const noTenant = await server.request('POST', url, { apiKey: true, body: received('c', 'm') })
  t.equal(noTenant.status, 400)
  t.equal(noTenant.body.field, 'tenantId')
  const bad = await server.request('POST', url, { apiKey: true, body: { ...received('c', 'm'), tenantId: 'acme', senderId: undefined } })
  t.equal(bad.status, 400)
  t.equal(bad.body.field, 'senderId')
  const badStatus = await server.request('POST', '/api/chat-messages/message-status', { apiKey: true, body: { tenantId: 'acme', conversationId: 'c', messageId: 'm', status: 'seen' } })
  t.equal(badStatus.status, 400)
  t.equal(badStatus.body.field, 'status')
  const service = server.token({ sub: 'backend', tenantId: 'acme', role: 'service' })
  const other = await server.request('POST', url, { token: service, body: { ...received('c', 'm'), tenantId: 'globex' } })
  t.equal(other.status, 403, 'a service token pushes only into its own tenant')
})

t.test('the WhatsApp builder gateway protocol: errors reach the client as an `error` event with message and timestamp', async (t) => {
  const server = await startServer({ config: { plugins: { 'chat-messages': { options: { namespace: '/messages', channels: { enabled: false }, conversations: { access: { mode: 'claim', claim: 'conversations' } } } } } } })
  t.teardown(() => server.close())
  const socket = await server.connect('/messages', { token: server.token({ sub: 'u', tenantId: 'acme', conversations: ['mine'] }) })
  const error = waitFor(socket, 'error')
  socket.emit('conversation:join', { conversationId: 'theirs' })
  const [e] = await error
  t.match(e, { code: 'RT_CHAT_CONVERSATION_REFUSED', message: 'Cannot join conversation theirs: not listed in the token\'s conversations claim', event: 'conversation:join' })
  t.ok(!Number.isNaN(Date.parse(e.timestamp)))
  t.same(await server.emitWithAck(socket, 'conversation:join', { conversationId: 'mine' }), { conversationId: 'mine', success: true })
})
