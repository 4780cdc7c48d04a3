import t from 'tap'
import { record, startServer, waitFor, type ClientSocket } from 'realtime-server/testing'

t.test('the publish primitive targets tenants, users, rooms and roles, never another tenant', async (t) => {
  const server = await startServer({ config: { plugins: { probe: { from: './test/fixtures/plugins/probe' } } } })
  t.teardown(() => server.close())
  const connect = async (sub: string, tenantId: string, role?: string): Promise<ClientSocket> =>
    await server.connect('/', { token: server.token({ sub, tenantId, ...(role === undefined ? {} : { role }) }) })
  const a1 = await connect('a1', 'A', 'admin')
  const a2 = await connect('a2', 'A', 'staff')
  const a2b = await connect('a2', 'A', 'staff') // a second tab of a2
  const b1 = await connect('a1', 'B', 'admin') // same user id and role, other tenant
  const all = { a1, a2, a2b, b1 }
  const seen = Object.fromEntries(Object.entries(all).map(([k, s]) => [k, record(s, 'ev')])) as unknown as Record<keyof typeof all, Array<{ args: any[] }>>
  await server.emitWithAck(a1, 'probe:join', { room: 'campaign:1' })
  await server.emitWithAck(a2, 'probe:join', { room: 'campaign:1' })
  await server.emitWithAck(b1, 'probe:join', { room: 'campaign:1' })

  let n = 0
  /** Publishes over REST, then a sentinel to every socket of both tenants, and returns who got the event. */
  const publish = async (body: Record<string, unknown>): Promise<{ status: number, recipients: number, got: string[] }> => {
    const tag = `e${++n}`
    const res = await server.request('POST', '/api/probe/publish', { apiKey: true, body: { tenantId: 'A', event: 'ev', payload: { tag }, ...body } })
    for (const [tenantId, sockets] of [['A', [a1, a2, a2b]], ['B', [b1]]] as const) {
      const sentinel = sockets.map(async (s) => await waitFor(s, 'sentinel', { filter: (p) => p.tag === tag }))
      await server.request('POST', '/api/probe/publish', { apiKey: true, body: { tenantId, event: 'sentinel', payload: { tag } } })
      await Promise.all(sentinel)
    }
    const got = Object.entries(seen).filter(([, list]) => list.some((e) => e.args[0].tag === tag)).map(([k]) => k)
    return { status: res.status, recipients: res.body.recipients, got }
  }

  t.same(await publish({}), { status: 200, recipients: 3, got: ['a1', 'a2', 'a2b'] }, 'the tenant')
  t.same(await publish({ users: ['a2'] }), { status: 200, recipients: 2, got: ['a2', 'a2b'] }, 'a user, on both tabs')
  t.same(await publish({ roles: ['admin'] }), { status: 200, recipients: 1, got: ['a1'] }, 'a role')
  t.same(await publish({ rooms: ['campaign:1'] }), { status: 200, recipients: 2, got: ['a1', 'a2'] }, 'a room of tenant A only')
  t.same(await publish({ users: ['a1'], roles: ['staff'] }), { status: 200, recipients: 3, got: ['a1', 'a2', 'a2b'] }, 'targets add up')
  t.same(await publish({ except: { users: ['a1'] } }), { status: 200, recipients: 2, got: ['a2', 'a2b'] }, 'except a user')
  t.same(await publish({ rooms: ['campaign:1'], except: { roles: ['staff'] } }), { status: 200, recipients: 1, got: ['a1'] }, 'except a role')
  t.same(await publish({ tenantId: 'B', users: ['a1'] }), { status: 200, recipients: 1, got: ['b1'] }, 'the same user id in tenant B is another user')
  t.same(await publish({ tenantId: 'C' }), { status: 200, recipients: 0, got: [] }, 'an empty tenant')
  // Regression: `to([])` is Socket.IO's "everyone in the namespace"; empty lists must reach nobody.
  t.same(await publish({ users: [] }), { status: 200, recipients: 0, got: [] }, 'empty users reach nobody, in no tenant')
  t.same(await publish({ users: [], rooms: [], roles: [] }), { status: 200, recipients: 0, got: [] }, 'all lists empty')

  t.test('a socket publishes into its own tenant only, optionally excluding itself', async (t) => {
    const got = waitFor(b1, 'ev', { filter: (p) => p.tag === 'from-b1' })
    const res = await server.emitWithAck(b1, 'probe:publish', { event: 'ev', payload: { tag: 'from-b1' }, rooms: ['campaign:1'] })
    t.equal(res.recipients, 1, 'only b1 is in B\'s campaign:1')
    await got
    const excl = await server.emitWithAck(a1, 'probe:publish', { event: 'ev', payload: { tag: 'not-me' }, excludeSelf: true })
    t.equal(excl.recipients, 2)
  })

  t.test('the payload is delivered as given, with { eventId, timestamp } after it', async (t) => {
    const got = waitFor(a1, 'ev', { filter: (p) => p.tag === 'shape' })
    const res = await server.request('POST', '/api/probe/publish', { apiKey: true, body: { tenantId: 'A', users: ['a1'], event: 'ev', payload: { tag: 'shape', n: [1, 2] } } })
    const [payload, meta] = await got
    t.same(payload, { tag: 'shape', n: [1, 2] })
    t.equal(meta.eventId, res.body.eventId)
    t.type(meta.timestamp, 'number')
  })

  t.test('stats: sockets, rooms and sockets per tenant', async (t) => {
    const res = await server.request('GET', '/api/probe/stats', { apiKey: true })
    t.equal(res.status, 200)
    t.equal(res.body.sockets, 4)
    t.same(res.body.tenants, { A: 3, B: 1 })
    t.ok(res.body.rooms >= 6)
  })
})
