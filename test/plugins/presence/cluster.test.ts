import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { deleteRedisPrefix, pluginRedis, record, startServer, testRedisUrl, waitFor, type ClientSocket, type TestServer } from 'realtime-server/testing'
import { roomsFixture } from '../../fixtures/presence-rooms.js'
import { RedisPresenceStore } from '../../../plugins/presence/store/redis.js'
import { eventLua } from '../../../src/core/webhooks/webhooks.js'

/** Two (or more) nodes in this process sharing one Redis prefix. */
async function cluster (t: Test, presence: Array<Record<string, unknown>>): Promise<{ nodes: TestServer[], prefix: string, redis: Redis }> {
  const prefix = `test-${randomUUID().slice(0, 8)}`
  const redis = new Redis(testRedisUrl())
  const nodes: TestServer[] = []
  t.teardown(async () => {
    for (const n of nodes) await n.close().catch(() => {})
    await deleteRedisPrefix(prefix)
    redis.disconnect()
  })
  for (const options of presence) {
    nodes.push(await startServer({
      redis: prefix,
      config: { plugins: { presence: { options: { online: [{ namespace: '/messages', rooms: ['conversation:'] }], typing: [], offlineDelayMs: 400, ...options } } } },
      plugins: [{ plugin: roomsFixture }]
    }))
  }
  return { nodes, prefix, redis }
}

const user = (server: TestServer, sub: string): Promise<ClientSocket> =>
  server.connect('/messages', { token: server.token({ sub, tenantId: 'acme' }) })
const about = (userId: string) => ({ filter: (p: { userId: string }) => p.userId === userId, timeoutMs: 15000 })
const names = (seen: Array<{ event: string, args: any[] }>) => seen.map((e) => `${e.event} ${e.args[0].userId}`)

t.test('two nodes on Redis: presence, tabs and rooms are seen across nodes', async (t) => {
  const { nodes: [a, b] } = await cluster(t, [{}, {}])
  const bob = await user(b!, 'bob')
  const seen = record(bob)

  const aliceOnline = waitFor(bob, 'user:online', about('alice'))
  const tab1 = await user(a!, 'alice')
  await aliceOnline
  const list = await b!.emitWithAck(bob, 'presence:list')
  t.same(list.users.map((u: { userId: string }) => u.userId), ['alice', 'bob'], 'node B lists the user of node A')

  await a!.emitWithAck(tab1, 'test:join', { room: 'conversation:c1' })
  await a!.emitWithAck(tab1, 'presence:list') // a query waits for the asker's own updates
  await b!.emitWithAck(bob, 'test:join', { room: 'conversation:c1' })
  const room = await b!.emitWithAck(bob, 'presence:list', { room: 'conversation:c1' })
  t.same(room.users.map((u: { userId: string }) => u.userId), ['alice', 'bob'], 'room members of both nodes')

  const tab2 = await user(b!, 'alice')
  t.match(await b!.emitWithAck(tab2, 'presence:status', { userIds: ['alice'] }), { users: [{ online: true, connections: 2 }] }, 'two tabs on two nodes')
  tab1.disconnect()
  const carol = await user(a!, 'carol')
  await waitFor(bob, 'user:online', about('carol'))
  carol.disconnect()
  await waitFor(bob, 'user:offline', about('carol'))
  t.same(names(seen), ['user:online alice', 'user:online carol', 'user:offline carol'], 'closing the tab on A kept alice online')

  const offline = waitFor(bob, 'user:offline', about('alice'))
  tab2.disconnect()
  await offline
  t.same(names(seen), ['user:online alice', 'user:online carol', 'user:offline carol', 'user:offline alice'])
})

t.test('graceful shutdown: the node releases its users at once; those with a socket elsewhere stay online', async (t) => {
  // A long bound: the offline below can only come from the release, not from the lease expiring.
  const options = { nodeTimeoutMs: 20000, offlineDelayMs: 2500 }
  const { nodes: [c, d], prefix, redis } = await cluster(t, [options, options])
  const dave = await user(d!, 'dave')
  const seen = record(dave)
  const online = Promise.all(['alice', 'carol', 'frank'].map(async (u) => await waitFor(dave, 'user:online', about(u))))
  await user(c!, 'alice')
  await user(c!, 'carol')
  await user(d!, 'carol')
  await user(c!, 'frank')
  await online
  t.equal(await redis.zcard(`${prefix}:presence:nodes`), 2)

  const offline = waitFor(dave, 'user:offline', about('alice'))
  const closing = c!.close()
  // Once node C released frank (his offline is pending), his client reconnects to node D within the debounce.
  const deadline = Date.now() + 10000
  let pending: string | null = null
  while (pending === null && Date.now() < deadline) {
    pending = await redis.zscore(`${prefix}:presence:pending`, '%2Fmessages:acme\nfrank')
    if (pending === null) await new Promise((resolve) => setTimeout(resolve, 5))
  }
  t.ok(pending, 'frank\'s offline was pending')
  await user(d!, 'frank')
  await closing
  t.equal(await redis.zcard(`${prefix}:presence:nodes`), 1, 'the closed node dropped its lease')
  t.equal((await redis.keys(`${prefix}:presence:node:*`)).length, 1, 'and holds no sockets')
  t.same((await offline)[0], { userId: 'alice' }, 'the surviving node announced alice offline after the debounce')

  // Sentinel: erin's offline is due after any offline of carol or frank would have been.
  const erin = await user(d!, 'erin')
  await waitFor(dave, 'user:online', about('erin'))
  erin.disconnect()
  await waitFor(dave, 'user:offline', about('erin'))
  t.same(seen.filter((e) => e.event === 'user:offline').map((e) => e.args[0].userId), ['alice', 'erin'], 'carol (still on D) and frank (back on D) did not go offline')
  t.same(seen.filter((e) => e.event === 'user:online').map((e) => e.args[0].userId).sort(), ['alice', 'carol', 'erin', 'frank'], 'nor online again')
  t.match(await d!.emitWithAck(dave, 'presence:status', { userIds: ['carol', 'frank'] }), { users: [{ userId: 'carol', online: true, connections: 1 }, { userId: 'frank', online: true, connections: 1 }] })
})

t.test('a node taken for dead registers its sockets again', async (t) => {
  const { nodes: [a, b], prefix, redis } = await cluster(t, [{ nodeTimeoutMs: 2000 }, {}])
  const bob = await user(b!, 'bob')
  const onlines = record(bob, 'user:online')
  const first = waitFor(bob, 'user:online', about('alice'))
  await user(a!, 'alice')
  await first

  // Find node A, and release its sockets as a sweeping node would after its lease expired.
  let nodeA: string | undefined
  for (const id of await redis.zrange(`${prefix}:presence:nodes`, '0', '-1')) {
    const held = await redis.hgetall(`${prefix}:presence:node:${id}`)
    if (Object.values(held).some((v) => v.includes('"alice"'))) nodeA = id
  }
  t.ok(nodeA, 'node A holds alice')
  const again = waitFor(bob, 'user:online', about('alice'))
  await new RedisPresenceStore(await pluginRedis(t, 'presence', prefix), { nodeId: nodeA!, leaseMs: 1000, lastSeenTtlMs: 60000, webhooks: { stream: '', types: ',', lua: eventLua } }).leave(0)
  // No read of the node's hash here: node A's next heartbeat may already have written it again. The second
  // user:online is the proof that the release happened, since presence announces alice only from offline.
  await again
  t.same(onlines.map((e) => e.args[0].userId), ['alice', 'alice'], 'alice was announced again once node A renewed its lease')
  t.match(await b!.emitWithAck(bob, 'presence:status', { userIds: ['alice'] }), { users: [{ online: true, connections: 1 }] })
  t.not(await redis.zscore(`${prefix}:presence:nodes`, nodeA!), null, 'node A holds a lease again')
})
