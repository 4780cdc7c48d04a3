// The control routes on one node: list, disconnect (a user, a socket), join and leave declared rooms; tenant binding, hostile input, 401 before 400, limits, logs, documents.
import t, { type Test } from 'tap'
import { captureLogs, eventually, record, startServer, waitFor, type ClientSocket, type TestServer } from 'realtime-server/testing'
import { definePlugin, Type } from 'realtime-server'
import { ACME_KEY, controlOptions, disconnection, EVIL_KEY, nodeOf } from '../fixtures/control/desk.js'

const ops = (server: TestServer): (method: string, path: string, body?: unknown, apiKey?: string | true) => Promise<{ status: number, body: any }> =>
  async (method, path, body, apiKey = true) => await server.request(method, path, { apiKey, ...(body === undefined ? {} : { body }) })

/** Publishes `event` to `target` of tenant acme, then a sentinel to `sentinelTo`: once it arrived, so would have the event. */
async function publishThenSentinel (t: Test, server: TestServer, target: Record<string, unknown>, event: string, sentinelTo: { socket: ClientSocket, userId: string, namespace?: string }): Promise<void> {
  const call = ops(server)
  const sentinel = waitFor(sentinelTo.socket, 'sentinel')
  t.equal((await call('POST', '/api/desk/publish', { tenantId: 'acme', ...target, event, payload: {} })).status, 200)
  t.equal((await call('POST', '/api/desk/publish', { tenantId: 'acme', namespace: sentinelTo.namespace, users: [sentinelTo.userId], event: 'sentinel', payload: {} })).status, 200)
  await sentinel
}

t.test('a user\'s sockets: listed with node, namespace and transport; disconnected, reason first; other users and tenants untouched', async (t) => {
  const server = await startServer(controlOptions())
  t.teardown(() => server.close())
  const call = ops(server)
  const annRoot = await server.connect('/', { token: server.token({ sub: 'ann', tenantId: 'acme' }) })
  const annOps = await server.connect('/ops', { token: server.token({ sub: 'ann', tenantId: 'acme' }) })
  const bob = await server.connect('/', { token: server.token({ sub: 'bob', tenantId: 'acme' }) })
  const evilAnn = await server.connect('/', { token: server.token({ sub: 'ann', tenantId: 'evil' }) })

  const listed = await call('GET', '/api/control/sockets?tenantId=acme&userId=ann')
  t.equal(listed.status, 200)
  t.same(listed.body.sockets.map((s: any) => [s.namespace, s.id, s.node, s.transport]).sort(),
    [['/', annRoot.id, nodeOf(server), 'websocket'], ['/ops', annOps.id, nodeOf(server), 'websocket']].sort(), 'both namespaces, nobody else')
  t.match(listed.body, { tenantId: 'acme', userId: 'ann', partial: false })
  for (const s of listed.body.sockets) t.ok(Date.parse(s.connectedAt) <= Date.now(), 'connectedAt is an ISO time')
  t.ok(listed.body.sockets[0].rooms.includes('user:ann'))
  const one = await call('GET', '/api/control/sockets?tenantId=acme&userId=ann&namespace=/ops')
  t.same(one.body.sockets.map((s: any) => s.id), [annOps.id], 'one namespace')
  t.same((await call('GET', '/api/control/sockets?tenantId=acme&userId=nobody')).body.sockets, [], 'a user without sockets')

  const onlyOps = disconnection(annOps)
  const res = await call('POST', '/api/control/users/disconnect', { tenantId: 'acme', userId: 'ann', namespace: '/ops' })
  t.same(res.body, { disconnected: 1, partial: false }, 'one namespace only')
  await onlyOps.done
  t.same(onlyOps.seen, [['rt:disconnect', {}], ['disconnect', 'io server disconnect']], 'without a reason: rt:disconnect { }, then the disconnection')
  t.ok(annRoot.connected, 'the other namespace keeps its socket')

  const annOps2 = await server.connect('/ops', { token: server.token({ sub: 'ann', tenantId: 'acme' }) })
  const bobSaw = record(bob)
  const evilSaw = record(evilAnn)
  const root = disconnection(annRoot)
  const ops2 = disconnection(annOps2)
  const all = await call('POST', '/api/control/users/disconnect', { tenantId: 'acme', userId: 'ann', reason: 'account suspended' })
  t.equal(all.status, 200)
  t.same(all.body, { disconnected: 2, partial: false })
  await Promise.all([root.done, ops2.done])
  for (const { seen } of [root, ops2]) {
    t.same(seen, [['rt:disconnect', { reason: 'account suspended' }], ['disconnect', 'io server disconnect']], 'the reason arrives before the disconnection')
  }
  t.ok(bob.connected && evilAnn.connected, 'another user, and the same user id in another tenant, stay connected')
  t.same([...bobSaw, ...evilSaw], [], 'and get nothing')
  t.same((await call('POST', '/api/control/users/disconnect', { tenantId: 'acme', userId: 'ann' })).body, { disconnected: 0, partial: false }, 'nobody left: 0, not an error')
})

t.test('one socket by id: only within the caller\'s tenant; another tenant\'s socket is not found', async (t) => {
  const server = await startServer(controlOptions())
  t.teardown(() => server.close())
  const call = ops(server)
  const ann = await server.connect('/ops', { token: server.token({ sub: 'ann', tenantId: 'acme' }) })
  const ann2 = await server.connect('/', { token: server.token({ sub: 'ann', tenantId: 'acme' }) })
  const eve = await server.connect('/', { token: server.token({ sub: 'eve', tenantId: 'evil' }) })

  const foreign = await call('POST', '/api/control/sockets/disconnect', { socketId: eve.id, reason: 'x' }, ACME_KEY)
  t.equal(foreign.status, 404)
  t.equal(foreign.body.code, 'RT_ERR_NOT_FOUND')
  const named = await call('POST', '/api/control/sockets/disconnect', { tenantId: 'acme', socketId: eve.id }, true)
  t.equal(named.status, 404, 'an unbound key naming acme does not reach evil\'s socket either')
  t.same((await call('GET', '/api/control/sockets?userId=eve', undefined, EVIL_KEY)).body.sockets.map((s: any) => s.id), [eve.id], 'still connected')
  t.ok(eve.connected)
  t.equal((await call('POST', '/api/control/sockets/disconnect', { socketId: 'no-such-socket' }, ACME_KEY)).status, 404)

  const gone = disconnection(ann)
  const res = await call('POST', '/api/control/sockets/disconnect', { socketId: ann.id, reason: 'duplicate tab' }, ACME_KEY)
  t.equal(res.status, 200)
  t.same(res.body, { disconnected: 1, namespace: '/ops', node: nodeOf(server) })
  await gone.done
  t.same(gone.seen, [['rt:disconnect', { reason: 'duplicate tab' }], ['disconnect', 'io server disconnect']])
  t.ok(ann2.connected, 'the user\'s other socket stays')
})

t.test('join and leave a declared room: a publish to the room reaches the user, then no longer does', async (t) => {
  const server = await startServer(controlOptions())
  t.teardown(() => server.close())
  const call = ops(server)
  const ann = await server.connect('/', { token: server.token({ sub: 'ann', tenantId: 'acme' }) })
  const annOps = await server.connect('/ops', { token: server.token({ sub: 'ann', tenantId: 'acme' }) })
  const bob = await server.connect('/', { token: server.token({ sub: 'bob', tenantId: 'acme' }) })
  const evilAnn = await server.connect('/', { token: server.token({ sub: 'ann', tenantId: 'evil' }) })
  const annSaw = record(ann, 'campaign:update')
  const bobSaw = record(bob, 'campaign:update')
  const evilSaw = record(evilAnn, 'campaign:update')

  const joined = await call('POST', '/api/control/users/join', { userId: 'ann', room: 'campaign:42' }, ACME_KEY)
  t.equal(joined.status, 200)
  t.same(joined.body, { namespace: '/', room: 'campaign:42', template: 'campaign:{campaignId}', plugin: 'desk', sockets: 1, partial: false })
  t.ok((await call('GET', '/api/control/sockets?userId=ann&namespace=/', undefined, ACME_KEY)).body.sockets[0].rooms.includes('campaign:42'), 'listed among its rooms')
  await publishThenSentinel(t, server, { rooms: ['campaign:42'] }, 'campaign:update', { socket: bob, userId: 'bob' })
  await eventually('ann got the room\'s event', () => annSaw.length === 1)
  t.same(bobSaw, [], 'a user who did not join gets nothing')
  t.same(evilSaw, [], 'the same user id in another tenant gets nothing: the room is the tenant\'s')

  const desk = await call('POST', '/api/control/users/join', { userId: 'ann', room: 'desk:7', namespace: '/ops' }, ACME_KEY)
  t.same(desk.body, { namespace: '/ops', room: 'desk:7', template: 'desk:{deskId}', plugin: 'desk', sockets: 1, partial: false }, 'a template of one namespace')

  const left = await call('POST', '/api/control/users/leave', { userId: 'ann', room: 'campaign:42' }, ACME_KEY)
  t.equal(left.status, 200)
  t.equal(left.body.sockets, 1)
  await publishThenSentinel(t, server, { rooms: ['campaign:42'] }, 'campaign:update', { socket: ann, userId: 'ann' })
  t.equal(annSaw.length, 1, 'after leaving, the room\'s event no longer reaches the user')
  t.ok(annOps.connected)
})

t.test('a room of no declared template, or of another namespace\'s, is refused with RT_ERR_ROOM_UNDECLARED naming `room`', async (t) => {
  const server = await startServer(controlOptions())
  t.teardown(() => server.close())
  const call = ops(server)
  const ann = await server.connect('/', { token: server.token({ sub: 'ann', tenantId: 'acme' }) })
  for (const room of ['billing:1', 'campaign:', 'campaign', '__proto__', 'constructor', 'xcampaign:1']) {
    const res = await call('POST', '/api/control/users/join', { tenantId: 'acme', userId: 'ann', room })
    t.equal(res.status, 400, room)
    t.equal(res.body.code, 'RT_ERR_ROOM_UNDECLARED', room)
    t.equal(res.body.field, 'room', room)
  }
  const elsewhere = await call('POST', '/api/control/users/leave', { tenantId: 'acme', userId: 'ann', room: 'desk:7' })
  t.equal(elsewhere.body.code, 'RT_ERR_ROOM_UNDECLARED')
  t.match(elsewhere.body.message, /declared: campaign:\{campaignId\}/)
  t.match(elsewhere.body.message, /accepted on \/ops/, 'the message says where the room is declared')
  const unknown = await call('POST', '/api/control/users/join', { tenantId: 'acme', userId: 'ann', room: 'campaign:1', namespace: '/nowhere' })
  t.equal(unknown.status, 404)
  t.equal(unknown.body.code, 'RT_ERR_NOT_FOUND')
  t.match(unknown.body.message, /namespace \/nowhere/)
  t.same((await call('GET', '/api/control/sockets?tenantId=acme&userId=ann', undefined)).body.sockets[0].rooms.sort(), ['user:ann'], 'no room was joined')
  t.ok(ann.connected)
})

t.test('tenant binding: a bound key acts within its tenant only; an unbound key must name the tenant', async (t) => {
  const server = await startServer(controlOptions())
  t.teardown(() => server.close())
  const call = ops(server)
  const acmeAnn = await server.connect('/', { token: server.token({ sub: 'ann', tenantId: 'acme' }) })
  const evilAnn = await server.connect('/', { token: server.token({ sub: 'ann', tenantId: 'evil' }) })
  const evilSaw = record(evilAnn)

  for (const [method, path, body] of [
    ['GET', '/api/control/sockets?userId=ann&tenantId=evil', undefined],
    ['POST', '/api/control/users/disconnect', { tenantId: 'evil', userId: 'ann' }],
    ['POST', '/api/control/sockets/disconnect', { tenantId: 'evil', socketId: evilAnn.id }],
    ['POST', '/api/control/users/join', { tenantId: 'evil', userId: 'ann', room: 'campaign:1' }],
    ['POST', '/api/control/users/leave', { tenantId: 'evil', userId: 'ann', room: 'campaign:1' }]
  ] as const) {
    const bound = await call(method, path, body, ACME_KEY)
    t.equal(bound.status, 403, `${path}: a key bound to acme naming evil`)
    t.equal(bound.body.code, 'RT_ERR_FORBIDDEN')
    const unbound = await call(method, path.replace('&tenantId=evil', ''), body === undefined ? undefined : { ...body, tenantId: undefined }, true)
    t.equal(unbound.status, 400, `${path}: an unbound key naming no tenant`)
    t.equal(unbound.body.field, 'tenantId')
  }
  const seen = await call('GET', '/api/control/sockets?userId=ann', undefined, ACME_KEY)
  t.same(seen.body.sockets.map((s: any) => s.id), [acmeAnn.id], 'the bound key sees its tenant\'s ann only')
  const gone = disconnection(acmeAnn)
  t.same((await call('POST', '/api/control/users/disconnect', { userId: 'ann' }, ACME_KEY)).body, { disconnected: 1, partial: false })
  await gone.done
  t.ok(evilAnn.connected, 'evil\'s ann stays')
  t.same((await call('GET', '/api/control/sockets?userId=ann', undefined, EVIL_KEY)).body.sockets.map((s: any) => s.id), [evilAnn.id])
  t.same(evilSaw, [], 'and got nothing')

  const userToken = server.token({ sub: 'svc', tenantId: 'acme', roles: ['service'] })
  const asUser = await server.request('GET', '/api/control/sockets?userId=ann&tenantId=evil', { token: userToken })
  t.equal(asUser.status, 403, 'a service token acts within its own tenant, as on every trigger')
  const plainUser = await server.request('GET', '/api/control/sockets?userId=ann', { token: server.token({ sub: 'ann', tenantId: 'acme' }) })
  t.equal(plainUser.status, 403, 'a user token without a publish role may not control')
})

t.test('hostile input: catalog 400 naming the field; credentials are checked first (401 before 400)', async (t) => {
  const server = await startServer(controlOptions())
  t.teardown(() => server.close())
  const call = ops(server)
  const big = 'x'.repeat(1_000_000)
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['/api/control/users/disconnect', { tenantId: 'acme', userId: 'a\ud800b' }, 'userId'],
    ['/api/control/users/disconnect', { tenantId: 'acme', userId: big }, 'userId'],
    ['/api/control/users/disconnect', { tenantId: 'acme', userId: '' }, 'userId'],
    ['/api/control/users/disconnect', { tenantId: 'a\udc00', userId: 'ann' }, 'tenantId'],
    ['/api/control/users/disconnect', { tenantId: big, userId: 'ann' }, 'tenantId'],
    ['/api/control/users/disconnect', { tenantId: 'acme', userId: 'ann', reason: big }, 'reason'],
    ['/api/control/users/disconnect', { tenantId: 'acme', userId: 'ann', reason: '\ud800' }, 'reason'],
    ['/api/control/users/disconnect', { tenantId: 'acme', userId: 'ann', namespace: 'ops' }, 'namespace'],
    ['/api/control/users/disconnect', { tenantId: 'acme', userId: 'ann', extra: 1 }, 'extra'],
    ['/api/control/sockets/disconnect', { tenantId: 'acme', socketId: 'x'.repeat(101) }, 'socketId'],
    ['/api/control/sockets/disconnect', { tenantId: 'acme', socketId: '\udfff' }, 'socketId'],
    ['/api/control/users/join', { tenantId: 'acme', userId: 'ann', room: big }, 'room'],
    ['/api/control/users/join', { tenantId: 'acme', userId: 'ann', room: 'campaign:\ud800' }, 'room'],
    ['/api/control/users/leave', { tenantId: 'acme', userId: 'ann' }, 'room'],
    ['/api/control/users/leave', { tenantId: 'acme', userId: 1, room: 'campaign:1' }, 'userId']
  ]
  for (const [path, body, field] of cases) {
    const what = `${path} ${field} ${JSON.stringify(body).slice(0, 60)}`
    const res = await call('POST', path, body)
    t.equal(res.status, 400, what)
    t.equal(res.body.code, 'RT_ERR_VALIDATION', what)
    t.equal(res.body.field, field, what)
    const anonymous = await server.request('POST', path, { body })
    t.equal(anonymous.status, 401, `${what}: without credentials`)
    t.equal(anonymous.body.code, 'RT_ERR_UNAUTHORIZED')
    t.equal((await server.request('POST', path, { body, apiKey: 'not-a-key-0123456789' })).status, 401, `${what}: an unknown key`)
  }
  const query = await call('GET', `/api/control/sockets?tenantId=acme&userId=${'u'.repeat(201)}`)
  t.equal(query.status, 400)
  t.equal(query.body.field, 'userId')
  t.equal((await call('GET', '/api/control/sockets?tenantId=acme')).body.field, 'userId', 'userId is required')
  t.equal((await server.request('GET', `/api/control/sockets?userId=${'u'.repeat(201)}`)).status, 401, 'a query too: 401 first')

  const proto = await call('GET', '/api/control/sockets?tenantId=__proto__&userId=__proto__')
  t.equal(proto.status, 200, '__proto__ is an id like any other')
  t.same(proto.body.sockets, [])
  t.same((await call('POST', '/api/control/users/disconnect', { tenantId: 'constructor', userId: '__proto__' })).body, { disconnected: 0, partial: false })
  const poisoned = await fetch(server.url + '/api/control/users/disconnect', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'test-api-key-0123456789' },
    body: '{"tenantId":"acme","userId":"ann","__proto__":{"namespace":"/ops"}}'
  })
  t.equal(poisoned.status, 400, 'a body with a __proto__ key is refused')
  t.match(await poisoned.json(), { code: /^RT_ERR_/ })
  t.equal(({} as Record<string, unknown>).namespace, undefined, 'nothing polluted')
})

t.test('the REST limits count the control routes, the request log has their lines, the documents list them', async (t) => {
  const logs = captureLogs()
  const server = await startServer({ ...controlOptions({ rateLimit: { principal: { max: 3, timeWindowMs: 60_000 } }, server: { logLevel: 'info' } }), logStream: logs.stream })
  t.teardown(() => server.close())
  const call = ops(server)
  for (let i = 0; i < 3; i++) t.equal((await call('GET', '/api/control/sockets?userId=ann', undefined, ACME_KEY)).status, 200)
  const over = await call('POST', '/api/control/users/disconnect', { userId: 'ann' }, ACME_KEY)
  t.equal(over.status, 429, 'the key\'s 4th request in the window')
  t.equal(over.body.code, 'RT_ERR_RATE_LIMITED')
  t.equal((await call('GET', '/api/control/sockets?userId=ann', undefined, EVIL_KEY)).status, 200, 'another key has its own counter')
  t.equal((await call('POST', '/api/control/users/disconnect', { userId: 'ann', reason: 'x' }, EVIL_KEY)).status, 200)
  await eventually('the command is logged', () => logs.find('control disconnected a user').length === 1)
  t.match(logs.find('control disconnected a user')[0], { principal: 'key:evil-backend', tenantId: 'evil', userId: 'ann', disconnected: 0, partial: false })

  await eventually('the request lines are written', () => logs.find('request').length >= 6)
  const lines = logs.find('request').filter((l) => typeof l.route === 'string' && l.route.startsWith('/api/control/'))
  t.match(lines[0], { method: 'GET', route: '/api/control/sockets', status: 200 })
  t.match(lines.find((l) => l.status === 429), { route: '/api/control/users/disconnect', code: 'RT_ERR_RATE_LIMITED' })
  t.notOk(JSON.stringify(logs.lines).includes(ACME_KEY), 'the key is never logged')

  const doc = (await server.request('GET', '/docs/openapi.json')).body
  const routes = [['get', '/api/control/sockets'], ['post', '/api/control/users/disconnect'], ['post', '/api/control/sockets/disconnect'], ['post', '/api/control/users/join'], ['post', '/api/control/users/leave']]
  for (const [method, path] of routes) {
    const op = doc.paths[path!]?.[method!]
    t.ok(op, `${method} ${path} documented`)
    t.same(op.tags, ['control'])
    t.same(op.security, [{ apiKey: [] }, { bearerJwt: [] }])
    t.ok(op['x-rt-error-codes'].includes('RT_ERR_NOT_FOUND') && op['x-rt-error-codes'].includes('RT_ERR_FORBIDDEN'), `${path} names its errors`)
    t.ok(op.responses['200'].content['application/json'].schema, `${path} documents its answer`)
  }
  t.ok(doc.paths['/api/control/users/join'].post['x-rt-error-codes'].includes('RT_ERR_ROOM_UNDECLARED'))
  const asyncapi = (await server.request('GET', '/docs/asyncapi.json')).body
  t.match(JSON.stringify(asyncapi), /rt:disconnect/, 'the AsyncAPI document declares rt:disconnect')
})

t.test('a plugin may not be named `control`: /api/control is the core\'s', async (t) => {
  const control = definePlugin({ name: 'control', options: Type.Object({}), setup () {} })
  await t.rejects(startServer({ plugins: [{ plugin: control }] }), { code: 'RT_ERR_PLUGIN_INVALID', message: /reserved for the core's control routes/ })
})
