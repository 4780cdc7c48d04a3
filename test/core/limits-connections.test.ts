// Connection limits through real clients: per user, per tenant (with tenant overrides), per node; counted across nodes with Redis, dead nodes dropped.
import { Redis } from 'ioredis'
import { Manager } from 'socket.io-client'
import t from 'tap'
import { eventually, startServer, testRedisUrl, type ClientSocket, type TestServer } from 'realtime-server/testing'

const probe = { from: './test/fixtures/plugins/probe' }
const LIMIT = { code: 'RT_ERR_CONNECTION_LIMIT', reason: 'connection_limit' }

/** The connect_error of a connection the server refuses. */
async function refused (server: TestServer, token: string, namespace = '/'): Promise<Error & { data?: unknown }> {
  const socket = server.client(namespace, { token, reconnection: false })
  try {
    return await new Promise((resolve, reject) => {
      socket.once('connect', () => { reject(new Error('connected')) })
      socket.once('connect_error', resolve)
    })
  } finally {
    socket.disconnect()
  }
}

/** Connects once the server has room again (a closed connection is uncounted when the server sees it close). */
async function connectWhenFree (server: TestServer, token: string): Promise<ClientSocket> {
  return await eventually('a connection admitted', async () => await server.connect('/', { token, reconnection: false }).catch(() => undefined))
}

t.test('per user: over the limit a connect_error RT_ERR_CONNECTION_LIMIT; a closed connection frees its place', async (t) => {
  const server = await startServer({ config: { plugins: { probe }, limits: { connections: { perUser: 2 } } } })
  t.teardown(() => server.close())
  const alice = server.token({ sub: 'alice', tenantId: 'acme' })
  const first = await server.connect('/', { token: alice })
  await server.connect('/', { token: alice })
  const err = await refused(server, alice)
  t.equal(err.message, 'Connection refused: too many connections for this user (at most 2)')
  t.same(err.data, LIMIT)
  await server.connect('/', { token: server.token({ sub: 'bob', tenantId: 'acme' }) })
  first.disconnect()
  t.ok((await connectWhenFree(server, alice)).connected, 'admitted again once one closed')
})

t.test('one connection (Manager) counts once, whatever its namespaces', async (t) => {
  const server = await startServer({ config: { plugins: { probe, 'chat-messages': { options: { namespace: '/messages' } } }, limits: { connections: { perUser: 1 } } } })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'alice', tenantId: 'acme' })
  const manager = new Manager(server.url, { transports: ['websocket'], reconnection: false })
  const sockets = ['/', '/messages'].map((ns) => manager.socket(ns, { auth: { token } }))
  t.teardown(() => { for (const s of sockets) s.disconnect() })
  await Promise.all(sockets.map(async (s) => { await new Promise((resolve, reject) => { s.once('connect', () => resolve(undefined)).once('connect_error', reject) }) }))
  t.ok(sockets.every((s) => s.connected), 'both namespaces of one connection')
  t.same((await refused(server, token)).data, LIMIT, 'a second connection is refused')
})

t.test('per tenant, with a tenant of its own limits: one noisy tenant does not starve the others', async (t) => {
  const server = await startServer({
    config: { plugins: { probe }, limits: { connections: { perUser: 0, perTenant: 3, tenants: { noisy: { perTenant: 1 }, big: { perUser: 1, perTenant: 0 } } } } }
  })
  t.teardown(() => server.close())
  await server.connect('/', { token: server.token({ sub: 'n1', tenantId: 'noisy' }) })
  const err = await refused(server, server.token({ sub: 'n2', tenantId: 'noisy' }))
  t.equal(err.message, 'Connection refused: too many connections for this tenant (at most 1)')
  t.same(err.data, LIMIT)
  for (const sub of ['a', 'b', 'c']) await server.connect('/', { token: server.token({ sub, tenantId: 'acme' }) })
  t.same((await refused(server, server.token({ sub: 'd', tenantId: 'acme' }))).data, LIMIT, 'the default perTenant holds for acme')
  for (const sub of ['a', 'b', 'c', 'd']) await server.connect('/', { token: server.token({ sub, tenantId: 'big' }) })
  t.match((await refused(server, server.token({ sub: 'a', tenantId: 'big' }))).message, /this user \(at most 1\)/, 'big has no tenant limit but one per user')
})

t.test('in memory, a user is counted within its tenant: the same user id in another tenant, and hostile ids, are counted apart and freed', async (t) => {
  const server = await startServer({ config: { plugins: { probe }, limits: { connections: { perUser: 1, perTenant: 2 } } } })
  t.teardown(() => server.close())
  const ids = [['acme', 'alice'], ['other', 'alice'], ['__proto__', '__proto__'], ['constructor', 'toString']]
  const first = []
  for (const [tenantId, sub] of ids) first.push(await server.connect('/', { token: server.token({ sub, tenantId }), reconnection: false }))
  t.ok(first.every((s) => s.connected), 'one connection each: the same user id in two tenants is two users')
  for (const [tenantId, sub] of ids) {
    t.match((await refused(server, server.token({ sub, tenantId }))).message, /this user \(at most 1\)/, `a second connection of ${tenantId}/${sub} is refused`)
  }
  await server.connect('/', { token: server.token({ sub: 'bob', tenantId: '__proto__' }), reconnection: false })
  t.match((await refused(server, server.token({ sub: 'carol', tenantId: '__proto__' }))).message, /this tenant \(at most 2\)/, 'the tenant __proto__ has its own count')
  for (const socket of first) socket.disconnect()
  for (const [tenantId, sub] of ids) {
    t.ok((await connectWhenFree(server, server.token({ sub, tenantId }))).connected, `${tenantId}/${sub} admitted again once its connection closed`)
  }
})

t.test('per node', async (t) => {
  const server = await startServer({ config: { plugins: { probe }, limits: { connections: { perNode: 2, perUser: 0 } } } })
  t.teardown(() => server.close())
  await server.connect('/', { token: server.token({ sub: 'a', tenantId: 'acme' }) })
  await server.connect('/', { token: server.token({ sub: 'b', tenantId: 'other' }) })
  const err = await refused(server, server.token({ sub: 'c', tenantId: 'third' }))
  t.equal(err.message, 'Connection refused: this node is full (at most 2 connections)')
  t.same(err.data, LIMIT)
})

t.test('with Redis, per user and per tenant are counted across nodes; closing frees the place on every node', async (t) => {
  const config = { plugins: { probe }, limits: { connections: { perUser: 1, perTenant: 2 } } }
  const one = await startServer({ config, redis: true })
  t.teardown(() => one.close())
  const two = await startServer({ config, redis: one.keyPrefix! })
  t.teardown(() => two.close())
  const alice = one.token({ sub: 'alice', tenantId: 'acme' })
  const first = await one.connect('/', { token: alice })
  t.same((await refused(two, alice)).data, LIMIT, 'the user\'s connection on node one counts on node two')
  await two.connect('/', { token: one.token({ sub: 'bob', tenantId: 'acme' }) })
  t.match((await refused(one, one.token({ sub: 'carol', tenantId: 'acme' }))).message, /this tenant \(at most 2\)/)
  first.disconnect()
  t.ok((await connectWhenFree(two, alice)).connected, 'admitted on node two once closed on node one')
})

t.test('with Redis, the counts of a node whose lease lapsed (a dead node) are dropped', async (t) => {
  const server = await startServer({ config: { plugins: { probe }, limits: { connections: { perUser: 1 } } }, redis: true })
  t.teardown(() => server.close())
  const redis = new Redis(testRedisUrl())
  t.teardown(() => { redis.disconnect() })
  const key = `${server.keyPrefix!}:limits:connections:${JSON.stringify(['u', 'acme', 'alice'])}`
  // A node that died holding alice's connection: its field is there, its lease ran out.
  await redis.hset(key, 'dead-node', 1)
  await redis.zadd(`${server.keyPrefix!}:limits:connections:nodes`, Date.now() - 60_000, 'dead-node')
  t.ok((await server.connect('/', { token: server.token({ sub: 'alice', tenantId: 'acme' }) })).connected)
  t.equal(await redis.hexists(key, 'dead-node'), 0, 'the dead node\'s count was dropped')
  // A live node's count holds.
  await redis.hset(`${server.keyPrefix!}:limits:connections:${JSON.stringify(['u', 'acme', 'bob'])}`, 'live-node', 1)
  await redis.zadd(`${server.keyPrefix!}:limits:connections:nodes`, Date.now() + 60_000, 'live-node')
  t.same((await refused(server, server.token({ sub: 'bob', tenantId: 'acme' }))).data, LIMIT)
})

t.test('the default: 100 connections per user, no limit per node or tenant', async (t) => {
  const server = await startServer({ config: { plugins: { probe } } })
  t.teardown(() => server.close())
  t.same(server.config.limits.connections, { perNode: 0, perUser: 100, perTenant: 0, tenants: {}, nodeTimeoutMs: 30000 })
})
