import t from 'tap'
import { record, startServer, waitFor, type ClientSocket, type TestServer } from 'realtime-server/testing'
import { roomsFixture } from '../../fixtures/presence-rooms.js'

const DEBOUNCE = 400

async function start (redis: boolean, presence: Record<string, unknown> = {}): Promise<TestServer> {
  return await startServer({
    redis,
    config: {
      plugins: {
        presence: {
          options: {
            online: [{ namespace: '/messages', rooms: ['conversation:'] }],
            typing: [],
            offlineDelayMs: DEBOUNCE,
            ...presence
          }
        }
      }
    },
    plugins: [{ plugin: roomsFixture }]
  })
}

const user = (server: TestServer, sub: string, tenantId = 'acme'): Promise<ClientSocket> =>
  server.connect('/messages', { token: server.token({ sub, tenantId, role: 'agent' }) })

const online = (userId: string) => ({ filter: (p: { userId: string }) => p.userId === userId })
const ids = (seen: Array<{ args: any[] }>) => seen.map((e) => e.args[0].userId)

for (const redis of [false, true]) {
  const store = redis ? 'redis' : 'memory'

  t.test(`${store}: two tabs — closing one keeps the user online, closing both gives one offline after the debounce`, async (t) => {
    const server = await start(redis)
    t.teardown(() => server.close())
    const bob = await user(server, 'bob')
    const onlines = record(bob, 'user:online')
    const offlines = record(bob, 'user:offline')

    const aliceOnline = waitFor(bob, 'user:online', online('alice'))
    const tab1 = await user(server, 'alice')
    const [payload, meta] = await aliceOnline
    t.same(payload, { userId: 'alice' }, 'the WhatsApp builder gateway protocol payload')
    t.type(meta.timestamp, 'number')
    const tab2 = await user(server, 'alice')
    const tab2Saw = record(tab2)

    tab1.disconnect()
    // Sentinel: carol comes and goes after tab 1 closed; her offline is due after any offline of alice would be.
    const carol = await user(server, 'carol')
    await waitFor(bob, 'user:online', online('carol'))
    carol.disconnect()
    await waitFor(bob, 'user:offline', online('carol'))
    t.same(ids(offlines), ['carol'], 'alice stayed online with one tab left')
    t.same(ids(onlines), ['alice', 'carol'], 'one online for alice, however many tabs')

    const closed = Date.now()
    const aliceOffline = waitFor(bob, 'user:offline', online('alice'))
    tab2.disconnect()
    t.same((await aliceOffline)[0], { userId: 'alice' })
    t.ok(Date.now() - closed >= DEBOUNCE - 50, `offline came after the debounce (${Date.now() - closed} ms)`)

    const dave = await user(server, 'dave')
    await waitFor(bob, 'user:online', online('dave'))
    dave.disconnect()
    await waitFor(bob, 'user:offline', online('dave'))
    t.same(ids(offlines), ['carol', 'alice', 'dave'], 'alice went offline exactly once')
    t.same(tab2Saw.filter((e) => e.args[0].userId === 'alice'), [], 'a user is not told about themself')
    t.ok(tab2Saw.some((e) => e.event === 'user:online' && e.args[0].userId === 'carol'), 'though it hears about others')
  })

  t.test(`${store}: a reload within the debounce does not flap`, async (t) => {
    const server = await start(redis, { offlineDelayMs: 1500 })
    t.teardown(() => server.close())
    const bob = await user(server, 'bob')
    const seen = record(bob)
    const first = await user(server, 'alice')
    await waitFor(bob, 'user:online', online('alice'))

    first.disconnect()
    // The server saw the socket go: alice is still online, with no socket, her offline pending.
    let state: { online: boolean, connections: number }
    const deadline = Date.now() + 5000
    do state = (await server.emitWithAck(bob, 'presence:status', { userIds: ['alice'] })).users[0]
    while (state.connections !== 0 && Date.now() < deadline)
    t.match(state, { online: true, connections: 0 }, 'pending offline')
    const reloaded = await user(server, 'alice')

    // Sentinel: carol leaves after the reload; her offline is due after alice's would have been.
    const carol = await user(server, 'carol')
    await waitFor(bob, 'user:online', online('carol'))
    carol.disconnect()
    await waitFor(bob, 'user:offline', online('carol'))
    t.same(seen.map((e) => `${e.event} ${e.args[0].userId}`), ['user:online alice', 'user:online carol', 'user:offline carol'])

    const status = await server.emitWithAck(bob, 'presence:status', { userIds: ['alice'] })
    t.match(status, { users: [{ userId: 'alice', online: true, connections: 1 }] })
    reloaded.disconnect()
  })

  t.test(`${store}: who is online, in the tenant and in a room, by ack; lastSeen is kept`, async (t) => {
    const server = await start(redis, { maxListSize: 2 })
    t.teardown(() => server.close())
    const bob = await user(server, 'bob')
    const alice = await user(server, 'alice')
    const carol = await user(server, 'carol')

    const list = await server.emitWithAck(alice, 'presence:list')
    t.equal(list.count, 3)
    t.same(list.users.map((u: { userId: string }) => u.userId), ['alice', 'bob'], 'sorted, at most maxListSize')
    t.match(list.users[0], { userId: 'alice', online: true, connections: 1, since: Number })
    const one = await server.emitWithAck(alice, 'presence:list', { limit: 1 })
    t.same([one.count, one.users.length], [3, 1])

    await server.emitWithAck(alice, 'test:join', { room: 'conversation:c1' })
    await server.emitWithAck(bob, 'test:join', { room: 'conversation:c1' })
    await server.emitWithAck(bob, 'test:join', { room: 'misc:1' })
    await server.emitWithAck(bob, 'presence:list') // a query waits for the asker's own updates
    const room = await server.emitWithAck(alice, 'presence:list', { room: 'conversation:c1' })
    t.same(room.users.map((u: { userId: string }) => u.userId), ['alice', 'bob'])
    t.equal(room.count, 2)

    t.match(await server.emitWithAck(carol, 'presence:list', { room: 'conversation:c1' }), { error: { code: 'RT_PRESENCE_NOT_IN_ROOM' } }, 'only members see a room')
    t.match(await server.emitWithAck(bob, 'presence:list', { room: 'misc:1' }), { error: { code: 'RT_PRESENCE_ROOM_NOT_TRACKED' } })
    t.match(await server.emitWithAck(bob, 'presence:list', { limit: 0 }), { error: { code: 'RT_ERR_VALIDATION', field: 'limit' } })

    await server.emitWithAck(bob, 'test:leave', { room: 'conversation:c1' })
    await server.emitWithAck(bob, 'presence:list')
    const after = await server.emitWithAck(alice, 'presence:list', { room: 'conversation:c1' })
    t.same(after.users.map((u: { userId: string }) => u.userId), ['alice'], 'leaving a room is followed')

    const before = Date.now()
    const gone = waitFor(bob, 'user:offline', online('carol'))
    carol.disconnect()
    await gone
    const status = await server.emitWithAck(bob, 'presence:status', { userIds: ['carol', 'alice', 'nobody'] })
    const [c, a, n] = status.users
    t.match(c, { userId: 'carol', online: false, connections: 0 })
    t.ok(c.lastSeen >= before - 1000 && c.lastSeen <= Date.now() + 1000, 'lastSeen is when her last socket closed')
    t.match(a, { userId: 'alice', online: true, connections: 1, since: Number })
    t.same(n, { userId: 'nobody', online: false, connections: 0 })
    t.match(await server.emitWithAck(bob, 'presence:status', { userIds: [] }), { error: { code: 'RT_ERR_VALIDATION' } })
  })

  t.test(`${store}: online and offline stay within the tenant`, async (t) => {
    const server = await start(redis)
    t.teardown(() => server.close())
    const bob = await user(server, 'bob')
    const eve = await user(server, 'eve', 'other')
    const eveSaw = record(eve)
    const bobSaw = record(bob)

    const seen = waitFor(bob, 'user:online', online('alice'))
    const alice = await user(server, 'alice')
    await seen
    // The same user id in the other tenant is another user.
    const otherAlice = waitFor(eve, 'user:online', online('alice'))
    const alice2 = await user(server, 'alice', 'other')
    await otherAlice
    t.same(eveSaw.map((e) => e.args[0]), [{ userId: 'alice' }], 'eve saw only her own tenant\'s alice')

    const list = await server.emitWithAck(eve, 'presence:list')
    t.same(list.users.map((u: { userId: string }) => u.userId), ['alice', 'eve'])
    alice2.disconnect()
    await waitFor(eve, 'user:offline', online('alice'))
    t.match(await server.emitWithAck(bob, 'presence:status', { userIds: ['alice'] }), { users: [{ online: true }] }, 'acme\'s alice is still online')
    alice.disconnect()
    await waitFor(bob, 'user:offline', online('alice'))
    t.same(bobSaw.map((e) => `${e.event} ${e.args[0].userId}`), ['user:online alice', 'user:offline alice'])
  })
}
