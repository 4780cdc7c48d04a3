import t from 'tap'
import { startServer, TEST_API_KEY } from 'realtime-server/testing'

t.test('connection statistics: sockets, rooms and sockets per tenant, across nodes, for unbound API keys only', async (t) => {
  const config = {
    auth: { apiKeys: [TEST_API_KEY, { key: 'tenant-a-bound-key-0123456789', tenantId: 'A' }] },
    plugins: { 'tenant-broadcast': { options: { rooms: [{ kind: 'campaign' }] } } }
  }
  const prefix = `test-tb-stats-${Math.random().toString(36).slice(2, 10)}`
  const one = await startServer({ config, redis: prefix })
  t.teardown(() => one.close())
  const two = await startServer({ config, redis: prefix })
  t.teardown(() => two.close())

  await one.connect('/', { token: one.token({ sub: 'a1', tenantId: 'A' }) })
  await one.connect('/', { token: one.token({ sub: 'b1', tenantId: 'B' }) })
  const a2 = await two.connect('/', { token: two.token({ sub: 'a2', tenantId: 'A' }) })

  const cluster = await one.request('GET', '/api/tenant-broadcast/stats', { apiKey: true })
  t.equal(cluster.status, 200)
  t.equal(cluster.body.namespace, '/')
  t.equal(cluster.body.connected, 3)
  t.same(cluster.body.tenants, { A: 2, B: 1 })
  t.equal(cluster.body.partial, undefined)

  const local = await two.request('GET', '/api/tenant-broadcast/stats?local=true', { apiKey: true })
  t.equal(local.body.connected, 1)
  t.same(local.body.tenants, { A: 1 })
  t.type(local.body.node, 'string')

  // A new room shows in the room count.
  const before = local.body.rooms
  await two.emitWithAck(a2, 'subscribe:campaign', 'brand-new')
  const after = await two.request('GET', '/api/tenant-broadcast/stats?local=true', { apiKey: true })
  t.equal(after.body.rooms, before + 1)

  t.equal((await one.request('GET', '/api/tenant-broadcast/stats')).status, 401, 'no credentials')
  const bound = await one.request('GET', '/api/tenant-broadcast/stats', { apiKey: 'tenant-a-bound-key-0123456789' })
  t.same([bound.status, bound.body.code], [403, 'RT_BROADCAST_STATS_FORBIDDEN'], 'a tenant-bound key may not see other tenants')
  const service = await one.request('GET', '/api/tenant-broadcast/stats', { token: one.token({ sub: 'svc', tenantId: 'A', role: 'service' }) })
  t.equal(service.status, 403, 'nor may a tenant\'s service token')
  t.equal((await one.request('GET', '/api/tenant-broadcast/stats?local=yes', { apiKey: true })).status, 400)
})
