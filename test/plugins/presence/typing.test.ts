import t from 'tap'
import { definePlugin, Type } from 'realtime-server'
import { record, startServer, waitFor, type ClientSocket, type TestServer } from 'realtime-server/testing'

/** Joins rooms as chat (conversation:join) and tenant-broadcast (subscribe:contact) would; `test:ping` is a sentinel. */
const Room = Type.Object({ room: Type.String() })
const Ping = Type.Unknown()
const roomsFixture = definePlugin({
  name: 'rooms-fixture',
  options: Type.Object({}),
  events: { client: { 'test:join': Room, 'test:leave': Room, 'test:ping': Ping }, server: { 'test:pong': Type.Undefined() } },
  setup (app) {
    for (const name of ['/', '/messages']) {
      app.realtime.namespace(name)
        .handle('test:join', Room, (ctx, { room }) => { ctx.join(room) })
        .handle('test:leave', Room, (ctx, { room }) => { ctx.leave(room) })
        .handle('test:ping', Ping, (ctx) => { ctx.emit('test:pong') })
    }
  }
})

async function start (typing: Array<Record<string, unknown>>, redis = false): Promise<TestServer> {
  return await startServer({
    redis,
    config: { plugins: { presence: { options: { online: [{ namespace: '/messages' }], typing } } } },
    plugins: [{ plugin: roomsFixture }]
  })
}

async function member (server: TestServer, sub: string, room: string, options: { ns?: string, tenantId?: string } = {}): Promise<ClientSocket> {
  const socket = await server.connect(options.ns ?? '/messages', { token: server.token({ sub, tenantId: options.tenantId ?? 'acme' }) })
  await server.emitWithAck(socket, 'test:join', { room })
  return socket
}

/** Resolves once every event sent to the socket before this call has arrived. */
async function flushed (server: TestServer, socket: ClientSocket): Promise<void> {
  const pong = waitFor(socket, 'test:pong')
  await server.emitWithAck(socket, 'test:ping', null)
  await pong
}

const builderGateway = { namespace: '/messages', format: 'conversation', throttleMs: 10000, timeoutMs: 60000 }

t.test('the WhatsApp builder gateway protocol: throttled to one broadcast, the sender excluded, stop broadcast once', async (t) => {
  const server = await start([builderGateway])
  t.teardown(() => server.close())
  const alice = await member(server, 'alice', 'conversation:c1')
  const aliceTab2 = await member(server, 'alice', 'conversation:c1')
  const bob = await member(server, 'bob', 'conversation:c1')
  const carol = await member(server, 'carol', 'conversation:c2')
  const aliceSaw = record(alice)
  const tab2Saw = record(aliceTab2)
  const bobSaw = record(bob)
  const carolSaw = record(carol)

  for (let i = 0; i < 10; i++) t.same(await server.emitWithAck(alice, 'typing:start', { conversationId: 'c1' }), { ok: true })
  const stopped = waitFor(bob, 'typing:stop')
  t.same(await server.emitWithAck(alice, 'typing:stop', { conversationId: 'c1' }), { ok: true })
  t.same((await stopped)[0], { conversationId: 'c1', userId: 'alice', isTyping: false })
  t.same(await server.emitWithAck(alice, 'typing:stop', { conversationId: 'c1' }), { ok: true }, 'a second stop is harmless')

  await flushed(server, bob)
  t.same(bobSaw.filter((e) => e.event.startsWith('typing:')).map((e) => [e.event, e.args[0]]), [
    ['typing:start', { conversationId: 'c1', userId: 'alice', isTyping: true }],
    ['typing:stop', { conversationId: 'c1', userId: 'alice', isTyping: false }]
  ], 'ten starts, one broadcast; two stops, one broadcast')
  await flushed(server, alice)
  await flushed(server, aliceTab2)
  await flushed(server, carol)
  t.same([...aliceSaw, ...tab2Saw].filter((e) => e.event.startsWith('typing:')), [], 'the sender (and their other tab) hear nothing')
  t.same(carolSaw.filter((e) => e.event.startsWith('typing:')), [], 'another room hears nothing')
})

t.test('the WhatsApp builder gateway protocol: starts after the throttle interval are broadcast again', async (t) => {
  const server = await start([{ ...builderGateway, throttleMs: 300 }])
  t.teardown(() => server.close())
  const alice = await member(server, 'alice', 'conversation:c1')
  const bob = await member(server, 'bob', 'conversation:c1')
  const starts = record(bob, 'typing:start')
  const first = waitFor(bob, 'typing:start')
  await server.emitWithAck(alice, 'typing:start', { conversationId: 'c1' })
  await first
  await new Promise((resolve) => setTimeout(resolve, 450))
  const again = waitFor(bob, 'typing:start')
  await server.emitWithAck(alice, 'typing:start', { conversationId: 'c1' })
  await again
  t.equal(starts.length, 2)
})

t.test('the WhatsApp builder gateway protocol: typing expires without a new start', async (t) => {
  const server = await start([{ ...builderGateway, timeoutMs: 300 }])
  t.teardown(() => server.close())
  const alice = await member(server, 'alice', 'conversation:c1')
  const bob = await member(server, 'bob', 'conversation:c1')

  const started = Date.now()
  const expired = waitFor(bob, 'typing:stop')
  await server.emitWithAck(alice, 'typing:start', { conversationId: 'c1' })
  t.same((await expired)[0], { conversationId: 'c1', userId: 'alice', isTyping: false })
  t.ok(Date.now() - started >= 250, `expired after the timeout (${Date.now() - started} ms)`)
})

t.test('the WhatsApp builder gateway protocol: a disconnect clears typing (long before the timeout)', async (t) => {
  const server = await start([builderGateway])
  t.teardown(() => server.close())
  const bob = await member(server, 'bob', 'conversation:c1')
  const dave = await member(server, 'dave', 'conversation:c1')
  const daveTyping = waitFor(bob, 'typing:start', { filter: (p) => p.userId === 'dave' })
  await server.emitWithAck(dave, 'typing:start', { conversationId: 'c1' })
  await daveTyping
  const cleared = waitFor(bob, 'typing:stop', { filter: (p) => p.userId === 'dave' })
  dave.disconnect()
  t.same((await cleared)[0], { conversationId: 'c1', userId: 'dave', isTyping: false }, 'the disconnect ended dave\'s typing')
})

t.test('the WhatsApp builder gateway protocol: only rooms the socket joined, valid payloads only, within the tenant', async (t) => {
  const server = await start([builderGateway])
  t.teardown(() => server.close())
  const alice = await member(server, 'alice', 'conversation:c1')
  const bob = await member(server, 'bob', 'conversation:c1')
  const eve = await member(server, 'eve', 'conversation:c1', { tenantId: 'other' })
  const eveSaw = record(eve)

  t.match(await server.emitWithAck(alice, 'typing:start', { conversationId: 'c9' }), { error: { code: 'RT_PRESENCE_NOT_IN_ROOM', message: 'Not in room conversation:c9' } })
  t.match(await server.emitWithAck(alice, 'typing:start', {}), { error: { code: 'RT_ERR_VALIDATION', field: 'conversationId' } })
  await server.emitWithAck(alice, 'test:leave', { room: 'conversation:c1' })
  t.match(await server.emitWithAck(alice, 'typing:start', { conversationId: 'c1' }), { error: { code: 'RT_PRESENCE_NOT_IN_ROOM' } }, 'left rooms too')

  await server.emitWithAck(bob, 'typing:start', { conversationId: 'c1' })
  const sentinel = waitFor(eve, 'typing:start')
  const eveMate = await member(server, 'mallory', 'conversation:c1', { tenantId: 'other' })
  await server.emitWithAck(eveMate, 'typing:start', { conversationId: 'c1' })
  await sentinel
  t.same(eveSaw.filter((e) => e.event.startsWith('typing:')).map((e) => e.args[0].userId), ['mallory'], 'eve hears her tenant\'s conversation c1 only')
})

t.test('the WhatsApp CRM rooms protocol: typing:indicator to the others viewing the contact', async (t) => {
  const server = await start([{ namespace: '/', format: 'contact', timeoutMs: 300 }])
  t.teardown(() => server.close())
  const agent1 = await member(server, 'agent1', 'contact:k1', { ns: '/' })
  const agent2 = await member(server, 'agent2', 'contact:k1', { ns: '/' })
  const agent1Saw = record(agent1, 'typing:indicator')

  const on = waitFor(agent2, 'typing:indicator')
  await server.emitWithAck(agent1, 'typing:start', { contactId: 'k1', whatsappAccountId: 'wa1' })
  const [payload] = await on
  t.match(payload, { contactId: 'k1', whatsappAccountId: 'wa1', isTyping: true, userId: 'agent1' })
  t.same(Object.keys(payload).sort(), ['contactId', 'isTyping', 'timestamp', 'userId', 'whatsappAccountId'])
  t.ok(new Date(payload.timestamp).toISOString() === payload.timestamp, 'timestamp is ISO 8601')

  const off = waitFor(agent2, 'typing:indicator')
  const [stopped] = await off
  t.match(stopped, { contactId: 'k1', whatsappAccountId: 'wa1', isTyping: false, userId: 'agent1' }, 'expired')
  t.match(await server.emitWithAck(agent1, 'typing:start', { contactId: 'k1' }), { error: { code: 'RT_ERR_VALIDATION', field: 'whatsappAccountId' } })
  t.match(await server.emitWithAck(agent1, 'typing:start', { contactId: 'k2', whatsappAccountId: 'wa1' }), { error: { code: 'RT_PRESENCE_NOT_IN_ROOM' } })
  await flushed(server, agent1)
  t.same(agent1Saw, [])
})

t.test('a room template of its own, on Redis', async (t) => {
  const server = await start([{ namespace: '/', format: 'contact', room: 'wa:{whatsappAccountId}:contact:{contactId}' }], true)
  t.teardown(() => server.close())
  const agent1 = await member(server, 'agent1', 'wa:wa1:contact:k1', { ns: '/' })
  const agent2 = await member(server, 'agent2', 'wa:wa1:contact:k1', { ns: '/' })
  const on = waitFor(agent2, 'typing:indicator')
  await server.emitWithAck(agent1, 'typing:start', { contactId: 'k1', whatsappAccountId: 'wa1' })
  t.match((await on)[0], { contactId: 'k1', isTyping: true })
  const off = waitFor(agent2, 'typing:indicator')
  await server.emitWithAck(agent1, 'typing:stop', { contactId: 'k1', whatsappAccountId: 'wa1' })
  t.match((await off)[0], { contactId: 'k1', isTyping: false })
  t.match(await server.emitWithAck(agent1, 'typing:start', { contactId: 'k1', whatsappAccountId: 'wa2' }), { error: { code: 'RT_PRESENCE_NOT_IN_ROOM', message: 'Not in room wa:wa2:contact:k1' } })
})
