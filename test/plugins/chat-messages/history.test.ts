import { randomUUID } from 'node:crypto'
import t from 'tap'
import { deleteRedisPrefix, startServer, type ClientSocket, type TestServer } from 'realtime-server/testing'

/** The plugin, with the rate limit off: these tests send messages back to back. */
const chat = (options: Record<string, unknown> = {}) => ({ plugins: { 'chat-messages': { options: { ...options, messages: { rateLimit: { messages: 0 }, ...(options.messages as object | undefined) } } } } })

async function member (server: TestServer, sub: string, channelId: string): Promise<ClientSocket> {
  const socket = await server.connect('/', { token: server.token({ sub, tenantId: 'acme' }) })
  await server.emitWithAck(socket, 'channel:join', { channelId })
  return socket
}

async function sendMany (server: TestServer, socket: ClientSocket, channelId: string, n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 1; i <= n; i++) {
    const ack = await server.emitWithAck(socket, 'message:send', { content: `m${i}`, channelId })
    if (ack.status !== 'DELIVERED') throw new Error(`send failed: ${JSON.stringify(ack)}`)
    ids.push(ack.messageId)
  }
  return ids
}

const contents = (page: any): string[] => page.messages.map((m: any) => m.content)

for (const redis of [false, true]) {
  t.test(`history pages by cursor, by socket ack and by REST (${redis ? 'redis' : 'memory'})`, async (t) => {
    const server = await startServer({ config: chat({ history: { defaultLimit: 4, maxLimit: 5 } }), redis })
    t.teardown(() => server.close())
    const alice = await member(server, 'alice', 'general')
    await sendMany(server, alice, 'general', 11)
    await member(server, 'alice', 'elsewhere')
    await server.emitWithAck(alice, 'message:send', { content: 'other channel', channelId: 'elsewhere' })

    const first = await server.emitWithAck(alice, 'channel:history', { channelId: 'general' })
    t.equal(first.channelId, 'general')
    t.same(contents(first), ['m8', 'm9', 'm10', 'm11'], 'the last defaultLimit messages, oldest first')
    t.type(first.nextCursor, 'string')
    t.match(first.messages[0], { channelId: 'general', userId: 'alice', deliveryStatus: 'DELIVERED', reactions: [], user: { id: 'alice' } })

    const second = await server.emitWithAck(alice, 'channel:history', { channelId: 'general', limit: 50, before: first.nextCursor })
    t.same(contents(second), ['m3', 'm4', 'm5', 'm6', 'm7'], 'a limit above maxLimit is lowered to it')
    const third = await server.emitWithAck(alice, 'channel:history', { channelId: 'general', limit: 5, before: second.nextCursor })
    t.same(contents(third), ['m1', 'm2'])
    t.equal(third.nextCursor, null, 'no cursor at the beginning')

    // Exactly one page left: no cursor either.
    const exact = await server.emitWithAck(alice, 'channel:history', { channelId: 'general', limit: 2, before: second.nextCursor })
    t.same(contents(exact), ['m1', 'm2'])
    t.equal(exact.nextCursor, null)

    // REST, with the user's token, walks the same pages.
    const token = server.token({ sub: 'alice', tenantId: 'acme' })
    const r1 = await server.request('GET', '/api/chat-messages/channels/general/messages?limit=3', { token })
    t.equal(r1.status, 200)
    t.same(contents(r1.body), ['m9', 'm10', 'm11'])
    const r2 = await server.request('GET', `/api/chat-messages/channels/general/messages?limit=3&before=${r1.body.nextCursor}`, { token })
    t.same(contents(r2.body), ['m6', 'm7', 'm8'])
    t.same(r1.body.messages, first.messages.slice(1), 'REST and socket return the same messages')

    // An API key (a backend) reads any channel of the tenant it names.
    const byKey = await server.request('GET', '/api/chat-messages/channels/general/messages?tenantId=acme&limit=1', { apiKey: true })
    t.same(contents(byKey.body), ['m11'])
    const noTenant = await server.request('GET', '/api/chat-messages/channels/general/messages', { apiKey: true })
    t.equal(noTenant.status, 400)
    t.equal(noTenant.body.field, 'tenantId')
    t.equal((await server.request('GET', '/api/chat-messages/channels/general/messages')).status, 401)
    const badCursor = await server.request('GET', '/api/chat-messages/channels/general/messages?before=abc', { token })
    t.equal(badCursor.status, 400)
    t.equal(badCursor.body.code, 'RT_ERR_VALIDATION')
    const empty = await server.request('GET', '/api/chat-messages/channels/nothing-here/messages?tenantId=acme', { apiKey: true })
    t.same(empty.body, { channelId: 'nothing-here', messages: [], nextCursor: null })
  })

  t.test(`old messages beyond maxPerChannel are deleted with their reactions (${redis ? 'redis' : 'memory'})`, async (t) => {
    const server = await startServer({ config: chat({ messages: { maxPerChannel: 3, rateLimit: { messages: 0 } } }), redis })
    t.teardown(() => server.close())
    const alice = await member(server, 'alice', 'c')
    const [oldest] = await sendMany(server, alice, 'c', 2)
    await server.emitWithAck(alice, 'reaction:add', { messageId: oldest, type: 'x' })
    await sendMany(server, alice, 'c', 2)
    const page = await server.emitWithAck(alice, 'channel:history', { channelId: 'c' })
    t.same(contents(page), ['m2', 'm1', 'm2'])
    t.equal(page.nextCursor, null)
    t.equal((await server.emitWithAck(alice, 'reaction:add', { messageId: oldest, type: 'x' })).error.code, 'RT_CHAT_MESSAGE_NOT_FOUND', 'the trimmed message is gone')
  })
}

t.test('with Redis, history survives a restart', async (t) => {
  const prefix = `test-${randomUUID().slice(0, 8)}`
  t.teardown(async () => { await deleteRedisPrefix(prefix) })
  const before = await startServer({ config: chat(), redis: prefix })
  const alice = await member(before, 'alice', 'general')
  const ids = await sendMany(before, alice, 'general', 3)
  await before.emitWithAck(alice, 'reaction:add', { messageId: ids[0], type: '🎉' })
  await before.close()

  const after = await startServer({ config: chat(), redis: prefix })
  t.teardown(() => after.close())
  const res = await after.request('GET', '/api/chat-messages/channels/general/messages', { token: after.token({ sub: 'alice', tenantId: 'acme' }) })
  t.equal(res.status, 200, 'the membership survived too')
  t.same(res.body.messages.map((m: any) => m.id), ids)
  t.same(res.body.messages[0].reactions.map((r: any) => r.type), ['🎉'])
  const again = await after.connect('/', { token: after.token({ sub: 'alice', tenantId: 'acme' }) })
  const next = await after.emitWithAck(again, 'message:send', { content: 'm4', channelId: 'general' })
  const page = await after.emitWithAck(again, 'channel:history', { channelId: 'general' })
  t.same(page.messages.map((m: any) => m.id), [...ids, next.messageId], 'new messages follow the old ones')
})
