import t from 'tap'
import { createServer } from 'node:http'
import { generateKeyPairSync } from 'node:crypto'
import { once } from 'node:events'
import { createSigner } from 'fast-jwt'
import { signToken, startServer, waitFor, type ClientSocket, type TestServer } from 'realtime-server/testing'

const probe = { probe: { from: './test/fixtures/plugins/probe' } }
const claims = { sub: 'u1', tenantId: 'acme', role: 'admin' }

const refused = async (server: TestServer, options: Parameters<TestServer['client']>[1], namespace = '/'): Promise<any> => {
  const socket = server.client(namespace, options)
  const [err] = await waitFor(socket as ClientSocket, 'connect_error')
  return { message: err.message, data: err.data }
}

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')

t.test('HS256 handshake', async (t) => {
  const server = await startServer({ config: { plugins: probe } })
  t.teardown(() => server.close())

  t.test('a valid token in auth.token is accepted, with the identity from its claims', async (t) => {
    const socket = await server.connect('/', { token: server.token(claims) })
    t.same(await server.emitWithAck(socket, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: ['admin'] })
  })

  t.test('a Bearer prefix is accepted', async (t) => {
    const socket = await server.connect('/', { token: `Bearer ${server.token(claims)}` })
    t.ok(socket.connected)
  })

  t.test('the Authorization header is accepted', async (t) => {
    const socket = await server.connect('/', { extraHeaders: { authorization: `Bearer ${server.token(claims)}` } })
    t.ok(socket.connected)
  })

  t.test('auth.userId equal to the token user is accepted', async (t) => {
    const socket = await server.connect('/', { token: `Bearer ${server.token(claims)}`, auth: { userId: 'u1' } })
    t.ok(socket.connected)
  })

  const cases: Array<[string, Parameters<TestServer['client']>[1], string, string]> = [
    ['no token', {}, 'Authentication failed: No token provided', 'RT_ERR_AUTH_NO_TOKEN'],
    ['an empty Bearer', { token: 'Bearer ' }, 'Authentication failed: No token provided', 'RT_ERR_AUTH_NO_TOKEN'],
    ['garbage', { token: 'not-a-jwt' }, 'Authentication failed: Invalid token', 'RT_ERR_AUTH_INVALID_TOKEN'],
    ['a wrong secret', { token: signToken(claims, { secret: 'another-secret' }) }, 'Authentication failed: Invalid token', 'RT_ERR_AUTH_INVALID_TOKEN'],
    ['an expired token', { token: signToken(claims, { expiresIn: -3600 }) }, 'Authentication failed: Token expired', 'RT_ERR_AUTH_TOKEN_EXPIRED'],
    ['alg none', { token: `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.` }, 'Authentication failed: Invalid token', 'RT_ERR_AUTH_INVALID_TOKEN'],
    ['an algorithm not allowed (HS512)', { token: signToken(claims, { algorithm: 'HS512' }) }, 'Authentication failed: Invalid token', 'RT_ERR_AUTH_INVALID_TOKEN'],
    ['a token without tenant', { token: signToken({ sub: 'u1' }) }, 'Authentication failed: Invalid token', 'RT_ERR_AUTH_INVALID_TOKEN'],
    ['a token without user', { token: signToken({ tenantId: 'acme' }) }, 'Authentication failed: Invalid token', 'RT_ERR_AUTH_INVALID_TOKEN'],
    ['a userId mismatch', { token: signToken(claims), auth: { userId: 'someone-else' } }, 'Authentication failed: userId does not match the token', 'RT_ERR_AUTH_USER_MISMATCH']
  ]
  for (const [name, options, message, code] of cases) {
    t.test(`${name} is refused`, async (t) => {
      t.same(await refused(server, options), { message, data: { code, reason: 'auth_error' } })
    })
  }

  t.test('every namespace is authenticated, / included, even when no plugin uses /', async (t) => {
    const other = await startServer({ config: { plugins: { probe: { ...probe.probe, options: { namespace: '/private' } } } } })
    t.teardown(() => other.close())
    t.equal((await refused(other, {}, '/')).data.code, 'RT_ERR_AUTH_NO_TOKEN')
    t.equal((await refused(other, {}, '/private')).data.code, 'RT_ERR_AUTH_NO_TOKEN')
    const socket = await other.connect('/private', { token: other.token(claims) })
    t.same(await other.emitWithAck(socket, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: ['admin'] })
  })
})

t.test('claim names and a default tenant are configurable', async (t) => {
  const server = await startServer({
    config: { plugins: probe, auth: { jwt: { claims: { userId: 'uid', tenantId: 'org.id', role: 'roles' }, defaultTenantId: 'solo' } } }
  })
  t.teardown(() => server.close())
  const a = await server.connect('/', { token: server.token({ uid: 'u7', org: { id: 'o1' }, roles: ['staff', 'manager'] }) })
  t.same(await server.emitWithAck(a, 'probe:whoami', {}), { userId: 'u7', tenantId: 'o1', roles: ['staff', 'manager'] })
  const b = await server.connect('/', { token: server.token({ uid: 'u8' }) })
  t.same(await server.emitWithAck(b, 'probe:whoami', {}), { userId: 'u8', tenantId: 'solo', roles: [] })
})

t.test('RS256 with a public key: algorithms pinned by config, not by the token', async (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
  const server = await startServer({ config: { plugins: probe, auth: { jwt: { publicKey: pem } } } })
  t.teardown(() => server.close())
  const rs = createSigner({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm: 'RS256', expiresIn: 60000 })
  const socket = await server.connect('/', { token: rs(claims) })
  t.ok(socket.connected, 'an RS256 token signed by the private key is accepted')
  const confused = signToken(claims, { secret: pem })
  t.equal((await refused(server, { token: confused })).data.code, 'RT_ERR_AUTH_INVALID_TOKEN', 'an HS256 token signed with the public key is refused')
})

t.test('JWKS: keys fetched by kid', async (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'key-1', alg: 'ES256', use: 'sig' }
  let fetches = 0
  const idp = createServer((req, res) => {
    fetches++
    if (req.url === '/keys/jwks.json') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }))
    else res.writeHead(404).end()
  })
  idp.listen(0, '127.0.0.1')
  await once(idp, 'listening')
  t.teardown(() => { idp.close() })
  const url = `http://127.0.0.1:${(idp.address() as { port: number }).port}/keys/jwks.json`
  const server = await startServer({ config: { plugins: probe, auth: { jwt: { jwksUrl: url } } } })
  t.teardown(() => server.close())
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const es = (kid: string): string => createSigner({ key, algorithm: 'ES256', kid, expiresIn: 60000 })(claims)
  const socket = await server.connect('/', { token: es('key-1') })
  t.ok(socket.connected)
  const again = await server.connect('/', { token: es('key-1') })
  t.ok(again.connected)
  t.equal(fetches, 1, 'the key set is fetched once and cached')
  t.equal((await refused(server, { token: es('unknown-kid') })).data.code, 'RT_ERR_AUTH_INVALID_TOKEN')
  // Failures found before any key is fetched (fast-jwt's decode) are answered as the fetched path's are.
  const fetched = fetches
  for (const token of ['not.a.jwt', 'x', '\ud800.\udfff.', 'a'.repeat(1 << 16)]) {
    t.equal((await refused(server, { token })).data.code, 'RT_ERR_AUTH_INVALID_TOKEN', `malformed ${JSON.stringify(token.slice(0, 12))} refused`)
  }
  const expired = createSigner({ key, algorithm: 'ES256', kid: 'key-1', clockTimestamp: Date.now() - 120000, expiresIn: 60000 })(claims)
  t.equal((await refused(server, { token: expired })).data.code, 'RT_ERR_AUTH_TOKEN_EXPIRED')
  t.equal(fetches, fetched, 'none of them fetched the key set again')
})

t.test('a token expiring while connected: auth:expired, then disconnect after the grace period', async (t) => {
  const server = await startServer({ config: { plugins: probe, auth: { expiryGraceMs: 300 } } })
  t.teardown(() => server.close())
  // Listeners first: on a loaded machine the token may expire before the connection completes.
  const socket = server.client('/', { token: server.token(claims, { expiresIn: 1 }) })
  const expiredNotice = waitFor(socket, 'auth:expired')
  const gone = waitFor(socket, 'disconnect')
  const [expired] = await expiredNotice
  t.equal(expired.graceMs, 300)
  t.match(expired.expiredAt, /^\d{4}-\d\d-\d\dT/)
  const [reason] = await gone
  t.equal(reason, 'io server disconnect', 'the server closed it (the client does not reconnect with a dead token)')
})

t.test('expiry of many sockets: each at its own time, a refresh or a disconnect takes a socket out', async (t) => {
  // Sets and conditions, never the order in which sockets expire: on a loaded machine the expiries of
  // different seconds may reach the clients in any order.
  const server = await startServer({ config: { plugins: probe, auth: { expiryGraceMs: 200 } } })
  t.teardown(() => server.close())
  const seen = new Map<string, string[]>()
  // Listeners before the connection completes: a short token may expire meanwhile.
  const watch = async (name: string, token: string): Promise<ClientSocket> => {
    seen.set(name, [])
    const socket = server.client('/', { token })
    socket.on('auth:expired', (notice) => { seen.get(name)!.push(`expired ${String(Date.parse(notice.expiredAt) <= Date.now())}`) })
    socket.on('disconnect', (reason) => { seen.get(name)!.push(reason) })
    await waitFor(socket, 'connect')
    return socket
  }
  const gone = (name: string): boolean => seen.get(name)!.includes('io server disconnect')
  const refreshed = await watch('refreshed', server.token(claims, { expiresIn: 3 }))
  t.equal((await server.emitWithAck(refreshed, 'auth:refresh', { token: server.token(claims, { expiresIn: 3600 }) })).ok, true)
  // Within the clock tolerance (5 s): accepted, and expired at once.
  const late = await watch('late', server.token(claims, { expiresIn: -2 }))
  const a = await watch('a', server.token(claims, { expiresIn: 1 }))
  const b = await watch('b', server.token(claims, { expiresIn: 3 }))
  const later = await watch('later', server.token(claims, { expiresIn: 4 }))
  const never = await watch('never', server.token(claims, { expiresIn: null }))
  b.disconnect()

  await Promise.all(['late', 'a', 'later'].map(async (name) => {
    const socket = { late, a, later }[name]!
    if (!gone(name)) await waitFor(socket, 'disconnect')
  }))
  // `later` expired last by its token: once it is gone, the server has taken out every earlier one, so a
  // round trip proves the refreshed socket and the one without exp were kept.
  t.same(await server.emitWithAck(refreshed, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: ['admin'] })
  t.same(await server.emitWithAck(never, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: ['admin'] })
  for (const name of ['late', 'a', 'later']) {
    t.same(seen.get(name), ['expired true', 'io server disconnect'], `${name}: auth:expired, not before its token's exp, then disconnected`)
  }
  t.same(seen.get('b'), ['io client disconnect'], 'a socket gone before its expiry gets nothing')
  t.same([seen.get('refreshed'), seen.get('never')], [[], []], 'a refreshed socket and a token without exp stay')
  t.ok(refreshed.connected && never.connected)
})

t.test('auth:refresh with a new token for the same user keeps the socket', async (t) => {
  // A grace long enough for three round trips on a loaded machine.
  const server = await startServer({ config: { plugins: probe, auth: { expiryGraceMs: 2000 } } })
  t.teardown(() => server.close())
  const token = server.token(claims, { expiresIn: 1 })
  // Listeners first: on a loaded machine the token may expire before the connection completes.
  const socket = server.client('/', { token })
  const disconnects: string[] = []
  socket.on('disconnect', (r) => { disconnects.push(r) })
  const expired = waitFor(socket, 'auth:expired')
  // The same token on a connection of its own, never refreshed: its disconnect marks the end of the grace.
  const control = server.client('/', { token })
  const controlGone = waitFor(control, 'disconnect')
  await expired

  const other = await server.emitWithAck(socket, 'auth:refresh', { token: server.token({ ...claims, sub: 'u2' }) })
  t.equal(other.error.code, 'RT_ERR_AUTH_REFRESH', 'a token of another user is refused')
  const invalid = await server.emitWithAck(socket, 'auth:refresh', { token: 'nope' })
  t.match(invalid.error, { code: 'RT_ERR_AUTH_REFRESH', message: /Invalid token/ })

  const res = await server.emitWithAck(socket, 'auth:refresh', { token: server.token({ ...claims, role: 'manager' }, { expiresIn: 3600 }) })
  t.equal(res.ok, true)
  t.ok(res.exp > Date.now() / 1000 + 3000)
  t.equal((await controlGone)[0], 'io server disconnect', 'the unrefreshed one is disconnected after the grace')
  // The grace is over: the socket is still there, and it carries the new role.
  t.same(await server.emitWithAck(socket, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: ['manager'] })
  t.same(disconnects, [])
})
