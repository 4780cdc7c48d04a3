import t from 'tap'
import { startServer, TEST_API_KEY } from 'realtime-server/testing'
import { bareToken, bearerToken, claimAt } from 'realtime-server'

t.test('REST triggers: API keys (constant-time, optionally tenant-bound) and publisher JWTs', async (t) => {
  const bound = 'bound-key-0123456789abcdef'
  const server = await startServer({
    config: {
      plugins: { probe: { from: './test/fixtures/plugins/probe' } },
      auth: { apiKeys: [TEST_API_KEY, { key: bound, tenantId: 'acme', name: 'acme-backend' }], publishRoles: ['service', 'admin'] }
    }
  })
  t.teardown(() => server.close())
  const publish = async (headers: { apiKey?: string, token?: string }, body: Record<string, unknown> = { tenantId: 'acme', event: 'x', payload: {} }): Promise<{ status: number, body: any }> =>
    await server.request('POST', '/api/probe/publish', { ...headers, body })

  t.equal((await publish({ apiKey: TEST_API_KEY })).status, 200, 'an unbound key')
  t.match(await publish({}), { status: 401, body: { code: 'RT_ERR_UNAUTHORIZED' } }, 'no credentials')
  t.match(await publish({ apiKey: 'wrong-key-0123456789' }), { status: 401, body: { code: 'RT_ERR_UNAUTHORIZED', message: 'Unauthorized: unknown API key' } })
  t.match(await publish({ apiKey: TEST_API_KEY }, { event: 'x', payload: {} }), { status: 400, body: { code: 'RT_ERR_VALIDATION', field: 'tenantId' } }, 'an unbound key must name the tenant')

  t.equal((await publish({ apiKey: bound }, { event: 'x', payload: {} })).status, 200, 'a bound key publishes to its tenant without naming it')
  t.equal((await publish({ apiKey: bound })).status, 200)
  t.match(await publish({ apiKey: bound }, { tenantId: 'other', event: 'x', payload: {} }), { status: 403, body: { code: 'RT_ERR_FORBIDDEN' } }, 'and to no other')

  const service = server.token({ sub: 'svc', tenantId: 'acme', role: 'service' })
  t.equal((await publish({ token: service })).status, 200, 'a JWT with a publish role')
  t.match(await publish({ token: service }, { tenantId: 'other', event: 'x', payload: {} }), { status: 403 }, 'only within its tenant')
  t.match(await publish({ token: server.token({ sub: 'u', tenantId: 'acme', role: 'customer' }) }), { status: 403, body: { code: 'RT_ERR_FORBIDDEN', message: 'Forbidden: role customer may not publish' } })
  t.match(await publish({ token: server.token({ sub: 'u', tenantId: 'acme', role: 'service' }, { expiresIn: -3600 }) }), { status: 401, body: { message: 'Unauthorized: token expired' } })

  const whoami = await server.request('POST', '/api/probe/whoami', { token: server.token({ sub: 'u', tenantId: 'acme', role: 'customer' }), body: {} })
  t.match(whoami, { status: 200, body: { kind: 'user', identity: { userId: 'u', tenantId: 'acme' } } }, '`user` routes accept any valid JWT')
  t.same((await server.request('POST', '/api/probe/whoami', { apiKey: bound, body: {} })).body, { kind: 'apiKey', name: 'acme-backend', tenantId: 'acme' })

  t.test('bodies are validated and the field named', async (t) => {
    const res = await publish({ apiKey: TEST_API_KEY }, { tenantId: 'acme', payload: {} })
    t.match(res, { status: 400, body: { statusCode: 400, code: 'RT_ERR_VALIDATION', field: 'event', message: 'Invalid payload: event: is required' } })
    const json = await server.request('POST', '/api/probe/publish', { apiKey: true, headers: { 'content-type': 'application/json' } })
    t.equal(json.status, 400, 'a missing body is a client error')
  })
})

t.test('credentials are read one way: claims by own dot path, tokens with or without Bearer', async (t) => {
  const claims = JSON.parse('{"sub":"u1","chat":{"channels":["c1"]},"__proto__":{"polluted":true}}') as Record<string, unknown>
  t.equal(claimAt(claims, 'sub'), 'u1')
  t.same(claimAt(claims, 'chat.channels'), ['c1'])
  t.equal(claimAt(claims, 'chat.missing.deeper'), undefined)
  t.equal(claimAt(claims, 'toString'), undefined, 'inherited properties are not claims')
  t.equal(claimAt(claims, 'chat.constructor'), undefined)
  t.same(claimAt(claims, '__proto__'), { polluted: true }, 'a claim named __proto__ is read as the own property it is')
  t.equal(bareToken('Bearer abc'), 'abc')
  t.equal(bareToken('bearer   abc '), 'abc')
  t.equal(bareToken('abc'), 'abc')
  t.equal(bareToken('Bearer '), undefined)
  t.equal(bareToken(42), undefined)
  t.equal(bearerToken('Bearer abc'), 'abc')
  t.equal(bearerToken('Basic abc'), undefined, 'another scheme is not a bearer token')
  t.equal(bearerToken('abc'), undefined)
  t.equal(bearerToken(undefined), undefined)
})
