// Presence's webhooks through a real receiver: user, member and room events, silent through a page reload, once per
// cluster for a user on two nodes, and nothing lost when a node is SIGKILLed with deliveries queued.
import { randomUUID } from 'node:crypto'
import { io } from 'socket.io-client'
import t, { type Test } from 'tap'
import { deleteRedisPrefix, eventually, signToken, spawnServer, startServer, type ClientSocket, type TestServer } from 'realtime-server/testing'
import { roomsFixture } from '../../fixtures/presence-rooms.js'
import { receiver, SECRET, verify, type Receiver } from '../../fixtures/webhook-receiver.js'

/** One endpoint taking every event, one attempt at a time: deliveries arrive in the order they were queued. */
const webhooks = (url: string, retry = { attempts: 8, initialDelayMs: 50, maxDelayMs: 200 }) =>
  ({ endpoints: [{ name: 'backend', url, secret: SECRET }], concurrency: 1, retry })

const presence = (extra: Record<string, unknown> = {}) =>
  ({ options: { online: [{ namespace: '/messages', rooms: ['conversation:'] }], typing: [], offlineDelayMs: 3000, ...extra } })

async function node (t: Test, hook: Receiver, redis?: string): Promise<TestServer> {
  const server = await startServer({
    ...(redis === undefined ? {} : { redis }),
    config: { webhooks: webhooks(hook.url), plugins: { presence: presence() } },
    plugins: [{ plugin: roomsFixture }]
  })
  t.teardown(async () => { await server.close() })
  return server
}

const user = async (server: TestServer, sub: string, tenantId = 'acme'): Promise<ClientSocket> =>
  await server.connect('/messages', { token: server.token({ sub, tenantId }) })

/** `type user` or `type room user` of every accepted delivery. */
const summary = (hook: Receiver): string[] =>
  hook.accepted().map((b) => [b.type, b.data.room, b.data.userId].filter((x) => x !== undefined).join(' '))

const arrived = async (hook: Receiver, line: string): Promise<void> => {
  await eventually(`webhook "${line}"`, () => summary(hook).includes(line) ? true : undefined, { timeoutMs: 20_000 })
}

for (const store of ['memory', 'redis'] as const) {
  t.test(`${store}: user, member and room events; a page reload sends nothing`, async (t) => {
    const hook = await receiver(t)
    const prefix = `test-${randomUUID().slice(0, 8)}`
    t.teardown(async () => { if (store === 'redis') await deleteRedisPrefix(prefix) })
    const server = await node(t, hook, store === 'redis' ? prefix : undefined)

    const alice = await user(server, 'alice')
    await server.emitWithAck(alice, 'test:join', { room: 'conversation:c1' })
    await arrived(hook, 'member.added conversation:c1 alice')
    t.same(summary(hook), ['user.online alice', 'room.occupied conversation:c1', 'member.added conversation:c1 alice'])
    for (const r of hook.got) t.ok(verify(r), 'signed with the endpoint\'s secret')
    t.match(hook.accepted()[0], { type: 'user.online', tenantId: 'acme', data: { userId: 'alice', namespace: '/messages' }, timestamp: String })

    // A page reload: the socket goes, a new one comes and joins the room again, within the debounce.
    alice.disconnect()
    const reloaded = await user(server, 'alice')
    await server.emitWithAck(reloaded, 'test:join', { room: 'conversation:c1' })
    // A probe whose offline is due after alice's would have been: once it arrives, alice's would have too.
    const probe = await user(server, 'probe')
    probe.disconnect()
    await arrived(hook, 'user.offline probe')
    t.same(summary(hook).filter((l) => l.endsWith('alice')), ['user.online alice', 'member.added conversation:c1 alice'], 'the reload sent nothing')

    reloaded.disconnect()
    await arrived(hook, 'room.vacated conversation:c1')
    t.same(summary(hook).slice(-3), ['user.offline alice', 'member.removed conversation:c1 alice', 'room.vacated conversation:c1'])
    t.match(hook.accepted().find((b) => b.type === 'user.offline' && b.data.userId === 'alice'), { data: { lastSeen: Number } })
  })
}

t.test('redis: a user with sockets on two nodes who leaves both is one user.offline; a room over two nodes is occupied and vacated once', async (t) => {
  const hook = await receiver(t)
  const prefix = `test-${randomUUID().slice(0, 8)}`
  t.teardown(async () => { await deleteRedisPrefix(prefix) })
  const a = await node(t, hook, prefix)
  const b = await node(t, hook, prefix)
  const onA = await user(a, 'alice')
  await a.emitWithAck(onA, 'test:join', { room: 'conversation:c1' })
  const onB = await user(b, 'alice')
  await b.emitWithAck(onB, 'test:join', { room: 'conversation:c1' })
  const bob = await user(b, 'bob')
  await b.emitWithAck(bob, 'test:join', { room: 'conversation:c1' })
  await arrived(hook, 'member.added conversation:c1 bob')
  onA.disconnect()
  onB.disconnect()
  bob.disconnect()
  await arrived(hook, 'room.vacated conversation:c1')
  await arrived(hook, 'user.offline bob')
  const lines = summary(hook)
  t.same(lines.filter((l) => l.endsWith(' alice')).sort(), ['member.added conversation:c1 alice', 'member.removed conversation:c1 alice', 'user.offline alice', 'user.online alice'], 'once each, whichever node')
  t.equal(lines.filter((l) => l === 'room.occupied conversation:c1').length, 1)
  t.equal(lines.filter((l) => l === 'room.vacated conversation:c1').length, 1)
  t.equal(new Set(hook.got.map((r) => r.headers['webhook-id'])).size, hook.got.length, 'one delivery per event')
})

t.test('redis: a node SIGKILLed while deliveries wait for retries loses none; another node delivers them and its users\' offline', async (t) => {
  // The receiver refuses until it is told to accept: deliveries pile up as retries.
  let accepting = false
  const hook = await receiver(t, () => accepting ? 204 : 503)
  const prefix = `test-${randomUUID().slice(0, 8)}`
  const config = {
    webhooks: webhooks(hook.url, { attempts: 50, initialDelayMs: 100, maxDelayMs: 300 }),
    plugins: { presence: presence({ nodeTimeoutMs: 2000, offlineDelayMs: 200 }) },
    shutdown: { drainDelayMs: 0 }
  }
  const doomed = await spawnServer(config, { redisPrefix: prefix })
  t.teardown(async () => {
    await doomed.stop('SIGKILL')
    await deleteRedisPrefix(prefix)
  })
  const clients: ClientSocket[] = []
  t.teardown(() => { for (const c of clients) c.disconnect() })
  for (const sub of ['alice', 'bob', 'carol']) {
    const socket = io(`${doomed.url}/messages`, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: signToken({ sub, tenantId: 'acme' }) } })
    clients.push(socket)
    await new Promise<void>((resolve, reject) => { socket.once('connect', () => { resolve() }).once('connect_error', reject) })
  }
  await eventually('the three user.online refused at least once', () =>
    new Set(hook.got.map((r) => JSON.parse(r.body).data.userId)).size === 3 ? true : undefined, { timeoutMs: 20_000 })
  await doomed.stop('SIGKILL')
  const firstIds = new Map(hook.got.map((r) => [JSON.parse(r.body).data.userId, r.headers['webhook-id']]))

  accepting = true
  const survivor = await spawnServer(config, { redisPrefix: prefix })
  t.teardown(async () => { await survivor.stop() })
  await eventually('online and offline of the three delivered', () => hook.accepted().length >= 6 ? true : undefined, { timeoutMs: 60_000 })
  const accepted = hook.got.filter((r) => r.status === 204)
  const online = accepted.filter((r) => JSON.parse(r.body).type === 'user.online')
  t.same(online.map((r) => JSON.parse(r.body).data.userId).sort(), ['alice', 'bob', 'carol'], 'every queued delivery survived the crash')
  for (const r of online) t.equal(r.headers['webhook-id'], firstIds.get(JSON.parse(r.body).data.userId), 'with the webhook-id of its first attempt')
  t.same(accepted.filter((r) => JSON.parse(r.body).type === 'user.offline').map((r) => JSON.parse(r.body).data.userId).sort(), ['alice', 'bob', 'carol'],
    'the dead node\'s users went offline, announced by the other node')
  t.equal(new Set(accepted.map((r) => r.headers['webhook-id'])).size, accepted.length, 'each accepted once')
})
