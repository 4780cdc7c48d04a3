import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { deleteRedisPrefix, record, startServer, waitFor, type ClientSocket, type TestServer } from 'realtime-server/testing'

/** The chat channels protocol's example config: path /api/socket.io, single tenant (Clerk-style tokens without a tenant), the plugin's options. */
const example = JSON.parse(readFileSync(new URL('../../../config/examples/chat-channels.json', import.meta.url), 'utf8'))
const chatChannels = (redis: boolean) => ({
  config: { socketio: example.socketio, auth: example.auth, plugins: { 'chat-messages': example.plugins['chat-messages'] } },
  redis
})

/** Connects like the chat channels protocol's client and resolves with the socket and its `connection:success`. */
async function connect (server: TestServer, userId: string, claims: Record<string, unknown> = {}): Promise<{ socket: ClientSocket, success: any }> {
  const socket = server.client('/', { auth: { token: `Bearer ${server.token({ sub: userId, ...claims })}`, userId } })
  const success = waitFor(socket, 'connection:success')
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('connect_error', reject) })
  return { socket, success: (await success)[0] }
}

for (const redis of [false, true]) {
  t.test(`the chat channels protocol lifecycle with three clients (${redis ? 'redis' : 'memory'})`, async (t) => {
    const server = await startServer(chatChannels(redis))
    t.teardown(() => server.close())
    t.equal(server.config.socketio.path, '/api/socket.io')

    const alice = await connect(server, 'user_alice', { name: 'Alice', imageUrl: 'https://img/alice.png' })
    t.same(alice.success, { userId: 'user_alice', channels: [] }, 'connection:success before any join')
    const bob = await connect(server, 'user_bob', { name: 'Bob' })
    const carol = await connect(server, 'user_carol')

    // channel:join is announced to the channel, the joiner included.
    const bobSeesAlice = waitFor(bob.socket, 'channel:user_joined', { filter: (p) => p.userId === 'user_alice' })
    t.match(await server.emitWithAck(bob.socket, 'channel:join', { channelId: 'general' }), { userId: 'user_bob', channelId: 'general' })
    const aliceJoin = await server.emitWithAck(alice.socket, 'channel:join', { channelId: 'general' })
    t.equal(aliceJoin.channelId, 'general')
    t.type(aliceJoin.timestamp, 'string')
    const [joined] = await bobSeesAlice
    t.same(joined, aliceJoin, 'bob saw alice join with the same payload')
    t.ok(!Number.isNaN(Date.parse(joined.timestamp)), 'timestamp is ISO')

    const carolSaw = record(carol.socket)
    const bobCreated = waitFor(bob.socket, 'message:created')
    const aliceCreated = waitFor(alice.socket, 'message:created')
    const aliceDelivered = waitFor(alice.socket, 'message:delivered')
    alice.socket.emit('message:send', { content: 'Hello world', channelId: 'general', tempId: 'temp-123' })

    const [delivered] = await aliceDelivered
    t.match(delivered, { tempId: 'temp-123', status: 'DELIVERED', processed: true })
    t.type(delivered.messageId, 'string')
    t.same(Object.keys(delivered).sort(), ['messageId', 'processed', 'status', 'tempId'])

    const [created, meta] = await bobCreated
    t.same(Object.keys(created).sort(), ['message', 'processed', 'tempId'])
    t.equal(created.tempId, 'temp-123')
    t.equal(created.processed, true)
    t.same(Object.keys(created.message).sort(), ['channelId', 'content', 'createdAt', 'deliveryStatus', 'id', 'replyToId', 'updatedAt', 'user', 'userId'])
    t.match(created.message, {
      id: delivered.messageId,
      content: 'Hello world',
      channelId: 'general',
      userId: 'user_alice',
      replyToId: null,
      deliveryStatus: 'DELIVERED',
      user: { id: 'user_alice', name: 'Alice', imageUrl: 'https://img/alice.png' }
    })
    t.ok(!Number.isNaN(Date.parse(created.message.createdAt)))
    t.ok(created.message.updatedAt >= created.message.createdAt)
    t.type(meta.eventId, 'string', 'the core adds its meta argument')
    t.same((await aliceCreated)[0], created, 'the sender is in the channel too')

    // Bob answers; a user without name claim shows the user id, and no image.
    const replyCreated = waitFor(alice.socket, 'message:created')
    const ack = await server.emitWithAck(bob.socket, 'message:send', { content: 'Hi Alice', channelId: 'general', tempId: 'b-1', replyToId: delivered.messageId })
    t.match(ack, { tempId: 'b-1', status: 'DELIVERED', processed: true, message: { replyToId: delivered.messageId, user: { id: 'user_bob', name: 'Bob', imageUrl: null } } })
    t.equal((await replyCreated)[0].message.id, ack.messageId)

    // Carol, not a member, saw none of the channel's events (the sentinel is her own join).
    const carolJoined = waitFor(carol.socket, 'channel:user_joined')
    await server.emitWithAck(carol.socket, 'channel:join', { channelId: 'general' })
    await carolJoined
    t.same(carolSaw.map((e) => e.event), ['channel:user_joined'], 'only her own join reached carol')

    // Now the three of them receive the next message.
    const all = [alice, bob, carol].map((c) => waitFor(c.socket, 'message:created', { filter: (p) => p.tempId === 'c-1' }))
    const carolAck = await server.emitWithAck(carol.socket, 'message:send', { content: 'Me too', channelId: 'general', tempId: 'c-1' })
    for (const [p] of await Promise.all(all)) t.equal(p.message.id, carolAck.messageId)
    t.same(carolAck.message.user, { id: 'user_carol', name: 'user_carol', imageUrl: null })

    // A reconnecting member gets the channel back in connection:success, and its room.
    bob.socket.disconnect()
    const again = await connect(server, 'user_bob', { name: 'Bob' })
    t.same(again.success, { userId: 'user_bob', channels: ['general'] })
    const back = waitFor(again.socket, 'message:created')
    await server.emitWithAck(alice.socket, 'message:send', { content: 'welcome back', channelId: 'general' })
    const [wb] = await back
    t.equal(wb.message.content, 'welcome back')
    t.equal(wb.tempId, null, 'no tempId sent: null')
  })
}

t.test('the chat channels protocol handshake: a userId that does not match the token is refused', async (t) => {
  const server = await startServer(chatChannels(false))
  t.teardown(() => server.close())
  const socket = server.client('/', { auth: { token: `Bearer ${server.token({ sub: 'user_a' })}`, userId: 'user_b' } })
  const [err] = await waitFor(socket, 'connect_error')
  t.equal(err.data.code, 'RT_ERR_AUTH_USER_MISMATCH')
})

t.test('two clients: sender and receiver in a two-member channel, on two nodes sharing Redis', async (t) => {
  const prefix = `test-${randomUUID().slice(0, 8)}`
  const a = await startServer({ ...chatChannels(true), redis: prefix })
  const b = await startServer({ ...chatChannels(true), redis: prefix })
  t.teardown(async () => {
    await a.close()
    await b.close()
    await deleteRedisPrefix(prefix)
  })
  const alice = await connect(a, 'alice')
  const bob = await connect(b, 'bob')
  await a.emitWithAck(alice.socket, 'channel:join', { channelId: 'dm-1' })
  await b.emitWithAck(bob.socket, 'channel:join', { channelId: 'dm-1' })
  const got = waitFor(bob.socket, 'message:created')
  const ack = await a.emitWithAck(alice.socket, 'message:send', { content: 'across nodes', channelId: 'dm-1', tempId: 't1' })
  const [created] = await got
  t.equal(created.message.id, ack.messageId)
  t.equal(created.message.content, 'across nodes')
  // Bob reads the history from the other node: the same stored message.
  const page = await b.emitWithAck(bob.socket, 'channel:history', { channelId: 'dm-1' })
  t.same(page.messages.map((m: any) => m.id), [ack.messageId])
})

t.test('user name and image come from the configured claims', async (t) => {
  const server = await startServer({ config: { plugins: { 'chat-messages': { options: { profile: { nameClaim: 'profile.fullName', imageUrlClaim: 'picture' } } } } } })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme', profile: { fullName: 'Ada Lovelace' }, picture: 'https://img/ada.png', name: 'ignored' }) })
  await server.emitWithAck(socket, 'channel:join', { channelId: 'c' })
  const ack = await server.emitWithAck(socket, 'message:send', { content: 'hi', channelId: 'c' })
  t.same(ack.message.user, { id: 'u1', name: 'Ada Lovelace', imageUrl: 'https://img/ada.png' })
})
