import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { io } from 'socket.io-client'
import t from 'tap'
import { deleteRedisPrefix, signToken, spawnServer, testRedisUrl, waitFor, type ClientSocket } from 'realtime-server/testing'

const BOUND = 3000
/** Room for a machine shared by many test runs; the design target is 0.8 × BOUND. */
const MARGIN = 5000

t.test('SIGKILL one node: its users go offline on the other node within the bound', async (t) => {
  const prefix = `test-${randomUUID().slice(0, 8)}`
  const redis = new Redis(testRedisUrl())
  const config = { plugins: { presence: { options: { online: [{ namespace: '/messages' }], typing: [], nodeTimeoutMs: BOUND, offlineDelayMs: 200 } } }, shutdown: { drainDelayMs: 0 } }
  const [doomed, survivor] = await Promise.all([spawnServer(config, { redisPrefix: prefix }), spawnServer(config, { redisPrefix: prefix })])
  const clients: ClientSocket[] = []
  t.teardown(async () => {
    for (const c of clients) c.disconnect()
    await Promise.all([doomed.stop('SIGKILL'), survivor.stop()])
    await deleteRedisPrefix(prefix)
    redis.disconnect()
  })
  const connect = async (url: string, sub: string): Promise<ClientSocket> => {
    const socket = io(`${url}/messages`, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: signToken({ sub, tenantId: 'acme' }) } })
    clients.push(socket)
    await new Promise<void>((resolve, reject) => { socket.once('connect', () => { resolve() }).once('connect_error', reject) })
    return socket
  }

  const bob = await connect(survivor.url, 'bob')
  const online = waitFor(bob, 'user:online', { filter: (p) => p.userId === 'alice' })
  await connect(doomed.url, 'alice')
  await online
  t.equal(await redis.zcard(`${prefix}:presence:nodes`), 2, 'both nodes hold a lease')

  const offline = waitFor(bob, 'user:offline', { filter: (p) => p.userId === 'alice', timeoutMs: BOUND + MARGIN + 5000 })
  const killed = Date.now()
  await doomed.stop('SIGKILL')
  const [payload] = await offline
  const elapsed = Date.now() - killed
  t.comment(`SIGKILL -> user:offline on the surviving node: ${elapsed} ms (nodeTimeoutMs ${BOUND})`)
  t.same(payload, { userId: 'alice' })
  t.ok(elapsed <= BOUND + MARGIN, `within the bound plus ${MARGIN} ms for a loaded machine (${elapsed} ms)`)

  const status = await bob.timeout(5000).emitWithAck('presence:status', { userIds: ['alice', 'bob'] })
  t.match(status.users, [{ userId: 'alice', online: false, lastSeen: Number }, { userId: 'bob', online: true }])
  t.equal(await redis.zcard(`${prefix}:presence:nodes`), 1, 'the dead node\'s lease is gone')
  t.equal((await redis.keys(`${prefix}:presence:node:*`)).length, 1, 'and its sockets were released')
})
