import t from 'tap'
import { record, startServer, TEST_API_KEY, waitFor, type ClientSocket, type TestServer } from 'realtime-server/testing'

const A_KEY = 'tenant-a-bound-key-0123456789'
const config = {
  auth: { apiKeys: [TEST_API_KEY, { key: A_KEY, tenantId: 'A' }] },
  plugins: { 'tenant-broadcast': { options: { rooms: [{ kind: 'campaign' }], developmentMode: true } } }
}
const TS = '2025-11-05T10:00:00Z'

/** Events a socket saw, by the campaignId label of their payload. */
const labels = (seen: Array<{ event: string, args: any[] }>): string[] => seen.map((e) => `${e.event}:${String(e.args[0]?.campaignId)}`)

async function publish (server: TestServer, tenantId: string, label: string, to?: object): Promise<{ status: number, body: any }> {
  return await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'campaign:paused', payload: { campaignId: label, timestamp: TS }, tenantId, to } })
}

for (const redis of [false, true]) {
  t.test(`events for tenant A never reach tenant B, for every target kind (${redis ? 'two nodes on Redis' : 'one node'})`, async (t) => {
    const prefix = `test-tb-iso-${Math.random().toString(36).slice(2, 10)}`
    const one = await startServer({ config, redis: redis ? prefix : false })
    t.teardown(() => one.close())
    // With Redis, half of the clients sit on a second node: fan-out and counts go through the adapter.
    const two = redis ? await startServer({ config, redis: prefix }) : one
    if (redis) t.teardown(() => two.close())

    const connect = async (server: TestServer, tenantId: string, sub: string, role: string): Promise<ClientSocket> =>
      await server.connect('/', { token: server.token({ sub, tenantId, role }) })
    const a1 = await connect(one, 'A', 'u1', 'admin')
    const a2 = await connect(two, 'A', 'u2', 'agent')
    const aSpy = await connect(one, 'A', 'u3', 'agent')
    const b1 = await connect(two, 'B', 'u1', 'admin')
    const b2 = await connect(one, 'B', 'u2', 'agent')
    const b3 = await connect(two, 'B', 'u3', 'agent')
    const sockets = { a1, a2, aSpy, b1, b2, b3 }
    const seen = Object.fromEntries(Object.entries(sockets).map(([k, s]) => [k, record(s)])) as Record<keyof typeof sockets, ReturnType<typeof record>>

    // The same campaign id in both tenants, and an A-token subscribing to an id that only B uses.
    t.same(await one.emitWithAck(a2, 'subscribe:campaign', 'c1'), { ok: true, kind: 'campaign', id: 'c1' })
    t.same(await two.emitWithAck(b1, 'subscribe:campaign', { id: 'c1' }), { ok: true, kind: 'campaign', id: 'c1' })
    t.same(await one.emitWithAck(aSpy, 'subscribe:campaign', 'b-only'), { ok: true, kind: 'campaign', id: 'b-only' })
    t.same(await two.emitWithAck(b3, 'subscribe:campaign', 'b-only'), { ok: true, kind: 'campaign', id: 'b-only' })

    const expect = [
      { label: 'tenant', to: undefined, recipients: 3 },
      { label: 'users', to: { users: ['u1'] }, recipients: 1 },
      { label: 'room', to: { room: { kind: 'campaign', id: 'c1' } }, recipients: 1 },
      { label: 'roles', to: { roles: ['admin'] }, recipients: 1 },
      { label: 'mixed', to: { users: ['u1'], roles: ['admin', 'agent'] }, recipients: 3 }
    ]
    for (const { label, to, recipients } of expect) {
      const res = await publish(one, 'A', label, to)
      t.equal(res.status, 200)
      t.equal(res.body.recipients, recipients, `${label}: ${recipients} sockets of A reached`)
    }
    const bOnly = await publish(two, 'B', 'b-only-room', { room: { kind: 'campaign', id: 'b-only' } })
    t.equal(bOnly.body.recipients, 1, 'B\'s room b-only has B\'s subscriber only')

    // Sentinels: once each socket has its tenant's last event, everything published before has arrived.
    const done = Object.values(sockets).map(async (s) => await waitFor(s, 'campaign:paused', { filter: (p) => p.campaignId === 'sentinel' }))
    await publish(one, 'A', 'sentinel')
    await publish(one, 'B', 'sentinel')
    await Promise.all(done)

    t.same(labels(seen.a1), ['campaign:paused:tenant', 'campaign:paused:users', 'campaign:paused:roles', 'campaign:paused:mixed', 'campaign:paused:sentinel'])
    t.same(labels(seen.a2), ['campaign:paused:tenant', 'campaign:paused:room', 'campaign:paused:mixed', 'campaign:paused:sentinel'])
    t.same(labels(seen.aSpy), ['campaign:paused:tenant', 'campaign:paused:mixed', 'campaign:paused:sentinel'], 'the A-token subscribed to "b-only" got nothing of B')
    t.same(labels(seen.b1), ['campaign:paused:sentinel'], 'same user id, role and room in B: nothing of A')
    t.same(labels(seen.b2), ['campaign:paused:sentinel'])
    t.same(labels(seen.b3), ['campaign:paused:b-only-room', 'campaign:paused:sentinel'])
  })
}

t.test('credentials act only within their own tenant', async (t) => {
  const server = await startServer({ config })
  t.teardown(() => server.close())
  const a = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'A' }) })
  const b = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'B' }) })
  const seenA = record(a, 'campaign:paused')
  const seenB = record(b)
  const body = (tenantId: string | undefined, label: string): object => ({ type: 'campaign:paused', payload: { campaignId: label, timestamp: TS }, tenantId })

  let res = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: A_KEY, body: body('B', 'key-to-b') })
  t.same([res.status, res.body.code], [403, 'RT_ERR_FORBIDDEN'], 'a key bound to A cannot publish to B')
  res = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: A_KEY, body: body(undefined, 'key-own') })
  t.same([res.status, res.body.recipients], [200, 1], 'a key bound to A publishes to A without naming it')
  const service = server.token({ sub: 'backend', tenantId: 'A', role: 'service' })
  res = await server.request('POST', '/api/tenant-broadcast/events', { token: service, body: body('B', 'jwt-to-b') })
  t.same([res.status, res.body.code], [403, 'RT_ERR_FORBIDDEN'], 'a service token of A cannot publish to B')
  res = await server.request('POST', '/api/tenant-broadcast/events', { token: service, body: body(undefined, 'jwt-own') })
  t.same([res.status, res.body.recipients], [200, 1])
  res = await server.request('POST', '/api/tenant-broadcast/events', { token: server.token({ sub: 'u1', tenantId: 'A', role: 'agent' }), body: body('A', 'user') })
  t.same([res.status, res.body.code], [403, 'RT_ERR_FORBIDDEN'], 'a user token without a publish role cannot publish')
  res = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: body(undefined, 'nowhere') })
  t.same([res.status, res.body.field], [400, 'tenantId'], 'an unbound key must name the tenant')
  res = await server.request('POST', '/api/tenant-broadcast/events', { body: body('A', 'anonymous') })
  t.equal(res.status, 401)
  res = await server.request('POST', '/api/tenant-broadcast/events/batch', { apiKey: A_KEY, body: { events: [body(undefined, 'batch-a'), body('B', 'batch-b')] } })
  t.same([res.status, res.body.code], [403, 'RT_ERR_FORBIDDEN'], 'a batch with one item for B is refused as a whole')

  // join-tenant: the own tenant only.
  t.same(await server.emitWithAck(a, 'join-tenant', { tenantId: 'A' }), { ok: true, tenantId: 'A' })
  t.same(await server.emitWithAck(a, 'join-tenant', { tenantId: 'B' }), {
    error: { code: 'RT_BROADCAST_TENANT_MISMATCH', message: 'Cannot act on tenant "B": the socket\'s token belongs to another tenant' }
  })

  // test-event (development mode): into the sender's tenant only.
  const ack = await server.emitWithAck(a, 'test-event', { type: 'campaign:paused', payload: { campaignId: 'test-event', timestamp: TS } })
  t.equal(ack.recipients, 1)
  const refused = await server.emitWithAck(a, 'test-event', { type: 'campaign_deleted', payload: { campaignId: 'x', tenantId: 'B', name: 'n' } })
  t.same(refused.error.field, 'payload.tenantId', 'a test event labelled for B is refused')

  const sentinels = [waitFor(a, 'campaign:paused', { filter: (p) => p.campaignId === 'sentinel' }), waitFor(b, 'campaign:paused', { filter: (p) => p.campaignId === 'sentinel' })]
  await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: body('A', 'sentinel') })
  await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: body('B', 'sentinel') })
  await Promise.all(sentinels)
  t.same(labels(seenA), ['campaign:paused:key-own', 'campaign:paused:jwt-own', 'campaign:paused:test-event', 'campaign:paused:sentinel'])
  t.same(labels(seenB), ['campaign:paused:sentinel'], 'B saw nothing but its sentinel')
})
