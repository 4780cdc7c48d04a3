// The plugin contract through a real server: the event catalog checked at start-up, triggers with a tenant,
// typed cluster channels, Redis Lua through defineCommand, the core's token checks and identity-change hooks.
import t from 'tap'
import { definePlugin, Type, type Identity } from 'realtime-server'
import { eventually, startServer, TEST_API_KEY } from 'realtime-server/testing'

const Say = Type.Object({ text: Type.String({ minLength: 1 }) })

const catalogPlugin = (events: any, handle: (app: any) => void): any => definePlugin({
  name: 'cat',
  options: Type.Object({ kinds: Type.Array(Type.String(), { default: ['a'] }) }),
  events,
  setup (app) { handle(app) }
})

t.test('the events catalog is checked against the handlers at start-up', async (t) => {
  const start = async (plugin: any, options: any = {}): Promise<void> => {
    const server = await startServer({ plugins: [{ plugin, options }] })
    await server.close()
  }
  await t.rejects(start(catalogPlugin({}, (app) => { app.realtime.namespace('/').handle('say', Say, () => ({})) })), {
    code: 'RT_ERR_PLUGIN_INVALID', message: /"cat": client event "say" is handled on \/ but not declared in its events catalog/
  }, 'a handled event missing from the catalog')
  await t.rejects(start(catalogPlugin({ client: { say: Say, shout: Say } }, (app) => { app.realtime.namespace('/').handle('say', Say, () => ({})) })), {
    code: 'RT_ERR_PLUGIN_INVALID', message: /client event "shout" is declared in its events catalog but not handled/
  }, 'a declared event nothing handles')
  await t.rejects(start(catalogPlugin({ client: { say: Say } }, (app) => { app.realtime.namespace('/').handle('say', Type.Object({ text: Type.Number() }), () => ({})) })), {
    code: 'RT_ERR_PLUGIN_INVALID', message: /client event "say" is handled on \/ with a schema other than its catalog's payload/
  }, 'a handler validating with another schema')
  await t.rejects(start(catalogPlugin({ client: { say: { payload: Say, namespaces: ['/chat'] } } }, (app) => { app.realtime.namespace('/').handle('say', Say, () => ({})) })), {
    code: 'RT_ERR_PLUGIN_INVALID', message: /client event "say" is declared for \/chat but handled on \//
  }, 'a handler on another namespace than declared')
  // A catalog made from the options: one event per configured kind.
  const perKind = catalogPlugin((o: { kinds: string[] }) => ({ client: Object.fromEntries(o.kinds.map((k) => [`say:${k}`, { payload: Say, ack: Say }])) }), (app) => {
    const ns = app.realtime.namespace('/')
    for (const k of ['a', 'b']) ns.handle(`say:${k}`, Type.Object({ text: Type.String({ minLength: 1 }) }), () => ({}))
  })
  await t.resolves(start(perKind, { kinds: ['a', 'b'] }), 'a catalog function of the options, JSON-equal schemas')
  await t.rejects(start(perKind, { kinds: ['a'] }), { message: /"say:b" is handled on \/ but not declared/ }, 'the catalog follows the options')
})

const tenanted = definePlugin({
  name: 'tenanted',
  options: Type.Object({}),
  events: {},
  setup (app) {
    const { realtime } = app
    realtime.trigger('/act', { body: Type.Object({ n: Type.Integer() }), tenant: true, status: 202 }, async (request) =>
      ({ tenantId: request.tenantId, n: request.body.n }))
    realtime.trigger('/look', { method: 'GET', querystring: Type.Object({ q: Type.Optional(Type.String()) }), tenant: true, auth: 'user' }, async (request) =>
      ({ tenantId: request.tenantId, q: request.query.q ?? null }))
    realtime.trigger('/plain', { body: Type.Object({}, { additionalProperties: false }) }, async (request) => ({ tenantId: request.tenantId ?? null }))
  }
})

t.test('a trigger with tenant: true resolves the tenant after validation', async (t) => {
  const server = await startServer({
    config: { auth: { apiKeys: [TEST_API_KEY, { key: 'bound-key-0123456789', tenantId: 't1' }] } },
    plugins: [{ plugin: tenanted }]
  })
  t.teardown(() => server.close())
  const act = async (body: unknown, apiKey: string | true = true): Promise<{ status: number, body: any }> =>
    await server.request('POST', '/api/tenanted/act', { body, apiKey })
  t.same(await act({ n: 1, tenantId: 't9' }), { status: 202, body: { tenantId: 't9', n: 1 } }, 'an unbound key names the tenant')
  t.match(await act({ n: 1 }), { status: 400, body: { code: 'RT_ERR_VALIDATION', field: 'tenantId' } }, 'an unbound key that names none')
  t.match(await act({ n: 1, tenantId: '' }), { status: 400, body: { code: 'RT_ERR_VALIDATION', field: 'tenantId' } }, 'an empty tenantId is invalid')
  t.match(await act({ n: 'x', tenantId: 't9' }), { status: 400, body: { code: 'RT_ERR_VALIDATION', field: 'n' } }, 'the body is still validated')
  t.same(await act({ n: 2 }, 'bound-key-0123456789'), { status: 202, body: { tenantId: 't1', n: 2 } }, 'a bound key acts in its tenant')
  t.match(await act({ n: 2, tenantId: 't2' }, 'bound-key-0123456789'), { status: 403, body: { code: 'RT_ERR_FORBIDDEN' } }, 'a bound key may not name another tenant')
  t.match(await act({ n: 2 }, 'wrong'), { status: 401 }, 'credentials first')
  const token = server.token({ sub: 'u1', tenantId: 't3', role: 'agent' })
  t.same(await server.request('GET', '/api/tenanted/look?q=x', { token }), { status: 200, body: { tenantId: 't3', q: 'x' } }, 'GET: a user acts in its own tenant')
  t.match(await server.request('GET', '/api/tenanted/look?tenantId=t4', { token }), { status: 403 }, 'GET: a user may not name another tenant')
  t.same(await server.request('GET', '/api/tenanted/look?tenantId=t4', { apiKey: true }), { status: 200, body: { tenantId: 't4', q: null } }, 'GET: the tenant in the querystring')
  t.same(await server.request('POST', '/api/tenanted/plain', { body: {}, apiKey: true }), { status: 200, body: { tenantId: null } }, 'no tenant without the option')
  t.match(await server.request('POST', '/api/tenanted/plain', { body: { tenantId: 't1' }, apiKey: true }), { status: 400 }, 'and no tenantId added to its schema')
})

t.test('a trigger with tenant: true refuses a schema that declares tenantId itself', async (t) => {
  const bad = definePlugin({
    name: 'bad',
    options: Type.Object({}),
    setup (app) { app.realtime.trigger('/x', { body: Type.Object({ tenantId: Type.String() }), tenant: true }, async () => null) }
  })
  await t.rejects(startServer({ plugins: [{ plugin: bad }] }), { code: 'RT_ERR_PLUGIN_INVALID', message: /declares tenantId itself/ })
})

t.test('channels, Lua scripts, token checks and identity hooks', async (t) => {
  const seen: unknown[] = []
  const changes: Array<{ before: Identity, after: Identity }> = []
  let realtimeApi: any
  const contract = definePlugin({
    name: 'contract',
    options: Type.Object({}),
    events: {},
    setup (app) {
      const { realtime } = app
      realtimeApi = realtime
      const bump = realtime.channel('bump', Type.Object({ n: Type.Integer() }))
      bump.on((data) => { seen.push(data) })
      realtime.trigger('/bump', { body: Type.Object({ n: Type.Integer() }) }, async (request) => { bump.emit(request.body); return { ok: true } })
      // What a node of another version could send.
      realtime.trigger('/bump-bad', { body: Type.Object({}) }, async () => { (bump.emit as (d: unknown) => void)({ n: 'x' }); return { ok: true } })
      const incr = realtime.redis!.script<number>('incr-by', { keys: 1, lua: "return redis.call('INCRBY', KEYS[1], ARGV[1])" })
      t.throws(() => realtime.redis!.script('incr-by', { keys: 1, lua: 'return 1' }), { code: 'RT_ERR_PLUGIN_INVALID' }, 'one name, one script')
      realtime.trigger('/incr', { body: Type.Object({ by: Type.Integer() }) }, async (request) => ({ value: await incr([realtime.redis!.key('counter')], request.body.by) }))
      realtime.namespace('/').onIdentityChange((ctx, before) => { changes.push({ before, after: ctx.user }) })
    }
  })
  const server = await startServer({ redis: true, plugins: [{ plugin: contract }] })
  t.teardown(() => server.close())

  t.same((await server.request('POST', '/api/contract/bump', { body: { n: 3 }, apiKey: true })).body, { ok: true })
  await eventually('the channel message is handled', () => seen.length === 1)
  t.same(seen, [{ n: 3 }], 'a channel runs its handlers with the message')
  t.same((await server.request('POST', '/api/contract/bump-bad', { body: {}, apiKey: true })).body, { ok: true })
  t.same(seen, [{ n: 3 }], 'a message that fails the channel schema is dropped')

  t.same((await server.request('POST', '/api/contract/incr', { body: { by: 2 }, apiKey: true })).body, { value: 2 }, 'a Lua script runs')
  t.same((await server.request('POST', '/api/contract/incr', { body: { by: 5 }, apiKey: true })).body, { value: 7 }, 'on the key realtime.redis.key names')
  t.equal(realtimeApi.redis.key('counter'), `${server.keyPrefix}:contract:counter`, 'keys carry the server prefix and the plugin name')
  await t.rejects(realtimeApi.redis.script('incr-by', { keys: 1, lua: "return redis.call('INCRBY', KEYS[1], ARGV[1])" })([], 1), { code: 'RT_ERR_PLUGIN_INVALID' }, 'the key count is checked')

  const token = server.token({ sub: 'u1', tenantId: 't1', role: 'agent' })
  const identity: Identity = await realtimeApi.auth.verify(token)
  t.match(identity, { userId: 'u1', tenantId: 't1', roles: ['agent'] }, 'verify gives the identity')
  await t.rejects(realtimeApi.auth.verify(undefined), { code: 'RT_ERR_AUTH_NO_TOKEN' }, 'no token')
  await t.rejects(realtimeApi.auth.verify('nope'), { code: /^RT_ERR_AUTH_/ }, 'a bad token: an auth error')
  t.equal(realtimeApi.auth.token({ url: '/ws?token=abc', headers: {} }), 'abc', 'the token of an upgrade: query')
  t.equal(realtimeApi.auth.token({ url: '/ws', headers: { authorization: 'Bearer xyz' } }), 'xyz', 'the token of an upgrade: header')
  t.equal(realtimeApi.auth.token({ url: '/ws', headers: {} }), undefined, 'none')
  const renewed = await realtimeApi.auth.refresh(identity, { token: server.token({ sub: 'u1', tenantId: 't1', role: 'admin' }) })
  t.same(renewed.roles, ['admin'], 'refresh gives the new identity')
  await t.rejects(realtimeApi.auth.refresh(identity, { token: server.token({ sub: 'u2', tenantId: 't1' }) }), { code: 'RT_ERR_AUTH_REFRESH' }, 'another user')

  const client = await server.connect('/', { token })
  const ack = await server.emitWithAck(client, 'auth:refresh', { token: server.token({ sub: 'u1', tenantId: 't1', role: 'admin' }) })
  t.match(ack, { ok: true })
  await eventually('the identity hook ran', () => changes.length === 1)
  t.same(changes[0]!.before.roles, ['agent'], 'the hook sees the identity before')
  t.same(changes[0]!.after.roles, ['admin'], 'and ctx.user is the new one')
})
