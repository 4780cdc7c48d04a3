// The authenticator of every connection transport: the token of an upgrade request, verify as the handshake, refresh as auth:refresh.
import t from 'tap'
import { createServer, type IncomingMessage } from 'node:http'
import { once } from 'node:events'
import { signToken, startServer } from 'realtime-server/testing'
import { checkToken, createAuthenticator, type Authenticator } from '../../src/core/auth/authenticator.js'
import { createTokenVerifier } from '../../src/core/auth/tokens.js'
import { kCore, type Core } from '../../src/core/core.js'
import { AuthInvalidToken, AuthNoToken, AuthTokenExpired, AuthUserMismatch, errorCatalog, NotReady, PluginLifecycle } from '../../src/lib/errors.js'

const claims = { sub: 'u1', tenantId: 'acme', role: 'admin' }
// The test server's JWT settings (HS256 with the test secret, the default claim names).
const settings = await startServer()
const jwt = settings.config.auth.jwt
await settings.close()

t.test('auth errors keep their reason as detail, with the catalog messages unchanged', async (t) => {
  t.match(new AuthTokenExpired(), { code: 'RT_ERR_AUTH_TOKEN_EXPIRED', message: 'Authentication failed: Token expired', detail: 'Token expired', statusCode: 401 })
  t.match(new AuthInvalidToken({ cause: new Error('x') }), { message: 'Authentication failed: Invalid token', detail: 'Invalid token' })
  t.equal(new AuthNoToken().detail, 'No token provided')
  t.equal(new AuthUserMismatch().detail, 'userId does not match the token')
  t.ok(new AuthTokenExpired() instanceof AuthTokenExpired, 'instanceof holds')
  t.notOk(new AuthTokenExpired() instanceof AuthInvalidToken)
  const rows = new Map(errorCatalog().map((e) => [e.code, e.message]))
  t.equal(rows.get('RT_ERR_AUTH_INVALID_TOKEN'), 'Authentication failed: Invalid token', 'the catalog documents the full message')
  t.equal(rows.get('RT_ERR_AUTH_NO_TOKEN'), 'Authentication failed: No token provided')
  const notReady = new NotReady('Redis is unreachable', { cause: new Error('down') })
  t.match(notReady, { message: 'Not ready: Redis is unreachable', detail: 'Redis is unreachable' }, 'any catalog error keeps what filled its %s')
  t.ok(notReady.cause instanceof Error, 'the cause is kept')
  t.equal(new PluginLifecycle('x').stack?.split('\n')[1]?.includes('authenticator.test'), true, 'the stack starts where the error was made')
})

t.test('token(): ?token= (Bearer optional), else Authorization: Bearer', async (t) => {
  const auth = createAuthenticator(createTokenVerifier(jwt))
  const server = createServer((request: IncomingMessage, response) => {
    response.end(JSON.stringify({ token: auth.token(request) ?? null }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const tokenOf = async (path: string, headers: Record<string, string> = {}): Promise<unknown> => (await (await fetch(base + path, { headers })).json() as { token: unknown }).token
  t.equal(await tokenOf('/ws?token=abc'), 'abc')
  t.equal(await tokenOf('/ws?x=1&token=Bearer%20abc'), 'abc', 'a Bearer prefix in the query is accepted')
  t.equal(await tokenOf('/ws', { authorization: 'Bearer def' }), 'def')
  t.equal(await tokenOf('/ws?token=abc', { authorization: 'Bearer def' }), 'abc', 'the query parameter first')
  t.equal(await tokenOf('/ws?token=', { authorization: 'Bearer def' }), 'def', 'an empty query parameter is none')
  t.equal(await tokenOf('/ws', { authorization: 'Basic Zm9vOmJhcg==' }), null, 'another scheme is no token')
  t.equal(await tokenOf('/ws'), null)
})

t.test('verify(): the identity, or only RT_ERR_AUTH_* errors as the handshake reports them', async (t) => {
  const auth = createAuthenticator(createTokenVerifier(jwt))
  t.match(await auth.verify(signToken(claims)), { userId: 'u1', tenantId: 'acme', roles: ['admin'] })
  await t.rejects(auth.verify(undefined), { code: 'RT_ERR_AUTH_NO_TOKEN', message: 'Authentication failed: No token provided' })
  await t.rejects(auth.verify('garbage'), { code: 'RT_ERR_AUTH_INVALID_TOKEN', message: 'Authentication failed: Invalid token' })
  await t.rejects(auth.verify(signToken(claims, { expiresIn: -3600 })), { code: 'RT_ERR_AUTH_TOKEN_EXPIRED', message: 'Authentication failed: Token expired' })
  await t.rejects(auth.verify(signToken({ sub: 'u1' })), { code: 'RT_ERR_AUTH_INVALID_TOKEN' })
  // A verifier (the TokenVerifier interface) failing otherwise: never leaks its own error.
  for (const failure of [new TypeError('internal detail'), new NotReady('Redis is unreachable')]) {
    // Failing at once (a key given) and later (a key fetched).
    for (const check of [() => { throw failure }, async () => { throw failure }]) {
      const failing = createAuthenticator({ verify: async () => { throw failure }, check })
      await t.rejects(failing.verify('x'), { code: 'RT_ERR_AUTH_INVALID_TOKEN', message: 'Authentication failed: Invalid token', cause: failure })
    }
  }
})

t.test('checkToken(): with a secret, decided at once (no promise); a promise only from a verifier that fetches keys', async (t) => {
  const verifier = createTokenVerifier(jwt)
  const identity = checkToken(verifier, signToken(claims))
  t.notOk(identity instanceof Promise, 'an HMAC token is checked without a promise')
  t.match(identity, { userId: 'u1', tenantId: 'acme', roles: ['admin'] })
  t.throws(() => checkToken(verifier, undefined), { code: 'RT_ERR_AUTH_NO_TOKEN' })
  t.throws(() => checkToken(verifier, 'garbage'), { code: 'RT_ERR_AUTH_INVALID_TOKEN', message: 'Authentication failed: Invalid token' })
  t.throws(() => checkToken(verifier, signToken(claims, { expiresIn: -3600 })), { code: 'RT_ERR_AUTH_TOKEN_EXPIRED' })
  const failure = new TypeError('internal detail')
  t.throws(() => checkToken({ verify: async () => { throw failure }, check: () => { throw failure } }, 'x'), { code: 'RT_ERR_AUTH_INVALID_TOKEN', cause: failure })
  const fetched = checkToken({ verify: async () => { throw failure }, check: async () => { throw failure } }, 'x')
  t.ok(fetched instanceof Promise, 'a verifier that answers later gives a promise')
  await t.rejects(fetched as Promise<unknown>, { code: 'RT_ERR_AUTH_INVALID_TOKEN', cause: failure })
})

t.test('refresh(): payload checked, reason of a refused token, same user and tenant', async (t) => {
  const auth: Authenticator = createAuthenticator(createTokenVerifier(jwt))
  const current = await auth.verify(signToken(claims))
  const next = signToken({ ...claims, role: 'manager' })
  t.same((await auth.refresh(current, { token: next })).roles, ['manager'], '{ token }')
  t.same((await auth.refresh(current, `Bearer ${next}`)).roles, ['manager'], 'the bare string, Bearer optional')
  for (const payload of [{ token: 1.5 }, {}, -1, null, undefined, { token: '' }, 'Bearer ', ['x']]) {
    await t.rejects(auth.refresh(current, payload), { code: 'RT_ERR_VALIDATION', field: 'token', message: /^Invalid payload: token: / }, JSON.stringify(payload) ?? 'undefined')
  }
  await t.rejects(auth.refresh(current, { token: 'garbage' }), { code: 'RT_ERR_AUTH_REFRESH', message: 'Token refresh refused: Invalid token' })
  await t.rejects(auth.refresh(current, { token: signToken(claims, { expiresIn: -3600 }) }), { code: 'RT_ERR_AUTH_REFRESH', message: 'Token refresh refused: Token expired' })
  for (const other of [{ ...claims, sub: 'u2' }, { ...claims, tenantId: 'other' }]) {
    await t.rejects(auth.refresh(current, { token: signToken(other) }), { code: 'RT_ERR_AUTH_REFRESH', message: 'Token refresh refused: the token is for another user or tenant' })
  }
})

t.test('the server\'s authenticator is on the core, and auth:refresh answers a bad payload naming token', async (t) => {
  const server = await startServer({ config: { plugins: { probe: { from: './test/fixtures/plugins/probe' } } } })
  t.teardown(() => server.close())
  const core = (server.app as unknown as Record<symbol, Core>)[kCore]!
  t.match(await core.auth.verify(server.token(claims)), { userId: 'u1', tenantId: 'acme' })
  const socket = await server.connect('/', { token: server.token(claims) })
  for (const payload of [{ token: 1.5 }, {}, -1, null]) {
    const res = await server.emitWithAck(socket, 'auth:refresh', payload)
    t.match(res, { error: { code: 'RT_ERR_VALIDATION', field: 'token' } }, JSON.stringify(payload))
  }
  t.match(await server.emitWithAck(socket, 'auth:refresh', { token: server.token(claims, { expiresIn: -3600 }) }),
    { error: { code: 'RT_ERR_AUTH_REFRESH', message: 'Token refresh refused: Token expired' } })
  t.same(await server.emitWithAck(socket, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: ['admin'] }, 'nothing changed')
})
