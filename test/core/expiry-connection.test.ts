// Token expiry and refresh per namespace socket on one shared connection (one socket.io-client Manager).
import t, { type Test } from 'tap'
import { Manager } from 'socket.io-client'
import { definePlugin, Type } from 'realtime-server'
import { record, startServer, waitFor, type ClientSocket, type TestServer } from 'realtime-server/testing'

const claims = { sub: 'u1', tenantId: 'acme', role: 'admin' }
// The probe's events on /private; `/` is authenticated too and has only the core's `auth:refresh`.
const config = (expiryGraceMs: number): Record<string, unknown> => ({
  plugins: { probe: { from: './test/fixtures/plugins/probe', options: { namespace: '/private' } } },
  auth: { expiryGraceMs }
})

/**
 * One Manager (one Engine.IO connection) and a socket on each namespace, each with its own token. The sockets
 * connect on `open()`, so that listeners can be attached first: a short token may expire while they connect.
 */
function shared (t: Test, server: TestServer, tokens: Record<string, string>): { manager: Manager, sockets: Record<string, ClientSocket>, open: () => Promise<void> } {
  const manager = new Manager(server.url, { path: server.config.socketio.path, transports: ['websocket'], reconnection: false, autoConnect: false })
  const sockets: Record<string, ClientSocket> = {}
  for (const [nsp, token] of Object.entries(tokens)) sockets[nsp] = manager.socket(nsp, { auth: { token } })
  t.teardown(() => { for (const s of Object.values(sockets)) s.disconnect() })
  const open = async (): Promise<void> => {
    for (const socket of Object.values(sockets)) {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve)
        socket.once('connect_error', reject)
        socket.connect()
      })
    }
  }
  return { manager, sockets, open }
}

const whoami = async (server: TestServer, socket: ClientSocket): Promise<unknown> => await server.emitWithAck(socket, 'probe:whoami', {})

t.test('the expiry of one namespace\'s identity disconnects that namespace socket only, not the connection', async (t) => {
  const server = await startServer({ config: config(300) })
  t.teardown(() => server.close())
  const { manager, sockets, open } = shared(t, server, {
    '/': server.token(claims, { expiresIn: 1 }),
    '/private': server.token(claims, { expiresIn: 3600 })
  })
  const privateSeen = record(sockets['/private']!)
  const privateDisconnects = record(sockets['/private']!, 'disconnect')
  const expiredRoot = waitFor(sockets['/']!, 'auth:expired')
  const goneRoot = waitFor(sockets['/']!, 'disconnect')
  await open()
  const engineId = manager.engine.id

  const [expired] = await expiredRoot
  t.match(expired, { expiredAt: /^\d{4}-\d\d-\d\dT/, graceMs: 300 }, 'ISO on a namespace no plugin asked epoch ms for')
  t.equal((await goneRoot)[0], 'io server disconnect')
  // After that disconnect, a round trip on the other namespace of the same connection is answered.
  t.same(await whoami(server, sockets['/private']!), { userId: 'u1', tenantId: 'acme', roles: ['admin'] })
  t.ok(sockets['/private']!.connected)
  t.equal(manager.engine.id, engineId, 'the same Engine.IO connection')
  t.equal(manager.engine.readyState, 'open')
  t.same(privateSeen, [], 'no auth:expired on the namespace whose token is valid')
  t.same(privateDisconnects, [])
})

t.test('a refresh on one namespace renews every namespace socket of the connection', async (t) => {
  // A grace long enough for a round trip on a loaded machine.
  const server = await startServer({ config: config(3000) })
  t.teardown(() => server.close())
  const token = server.token(claims, { expiresIn: 1 })
  const { sockets, open } = shared(t, server, { '/': token, '/private': token })
  const disconnects = [record(sockets['/']!, 'disconnect'), record(sockets['/private']!, 'disconnect')]
  const expiredRoot = waitFor(sockets['/']!, 'auth:expired')
  // The same token on a connection of its own, never refreshed: its disconnect marks the end of the grace.
  const control = server.client('/private', { token })
  const controlGone = waitFor(control, 'disconnect')
  await open()

  await expiredRoot
  const res = await server.emitWithAck(sockets['/']!, 'auth:refresh', { token: server.token({ ...claims, role: 'manager' }, { expiresIn: 3600 }) })
  t.equal(res.ok, true)

  t.equal((await controlGone)[0], 'io server disconnect', 'the unrefreshed connection is disconnected after the grace')
  t.same(await whoami(server, sockets['/private']!), { userId: 'u1', tenantId: 'acme', roles: ['manager'] }, 'the other namespace has the new identity')
  t.same(disconnects, [[], []], 'neither namespace socket was disconnected')

  // Its role rooms followed: a publish to managers reaches it, one to admins no longer does.
  const arrived = waitFor(sockets['/private']!, 'probe:roles')
  const toManagers = await server.request('POST', '/api/probe/publish', { apiKey: true, body: { tenantId: 'acme', roles: ['manager'], event: 'probe:roles', payload: 'managers' } })
  t.equal(toManagers.body.recipients, 1)
  t.equal((await arrived)[0], 'managers')
  const toAdmins = await server.request('POST', '/api/probe/publish', { apiKey: true, body: { tenantId: 'acme', roles: ['admin'], event: 'probe:roles', payload: 'admins' } })
  t.equal(toAdmins.body.recipients, 0)
})

t.test('a refresh for another user or tenant is refused and renews nothing', async (t) => {
  const server = await startServer({ config: config(300) })
  t.teardown(() => server.close())
  const token = server.token(claims, { expiresIn: 1 })
  const { sockets, open } = shared(t, server, { '/': token, '/private': token })
  const gone = Object.values(sockets).map(async (s) => (await waitFor(s, 'disconnect'))[0])
  await open()

  for (const other of [{ ...claims, sub: 'u2' }, { ...claims, tenantId: 'globex' }]) {
    const res = await server.emitWithAck(sockets['/']!, 'auth:refresh', { token: server.token(other, { expiresIn: 3600 }) })
    t.match(res.error, { code: 'RT_ERR_AUTH_REFRESH', message: /another user or tenant/ })
  }
  t.same(await Promise.all(gone), ['io server disconnect', 'io server disconnect'], 'both expire as if nothing had been sent')
})

t.test('a refresh renews only the sockets of the connection that speak for the same user', async (t) => {
  const server = await startServer({ config: config(3000) })
  t.teardown(() => server.close())
  const u1 = server.token(claims, { expiresIn: 1 })
  const u2 = server.token({ ...claims, sub: 'u2' }, { expiresIn: 1 })
  const { sockets, open } = shared(t, server, { '/': u1, '/private': u2 })
  // u1 on another connection, with the same token: a refresh on this connection must not renew it.
  const elsewhere = server.client('/private', { token: u1 })
  const rootDisconnects = record(sockets['/']!, 'disconnect')
  const expiredRoot = waitFor(sockets['/']!, 'auth:expired')
  const gone = [sockets['/private']!, elsewhere].map(async (s) => (await waitFor(s, 'disconnect'))[0])
  await open()

  await expiredRoot
  t.equal((await server.emitWithAck(sockets['/']!, 'auth:refresh', { token: server.token(claims, { expiresIn: 3600 }) })).ok, true)
  t.same(await Promise.all(gone), ['io server disconnect', 'io server disconnect'], 'u2 on this connection and u1 on another one expire')
  t.ok(sockets['/']!.connected)
  t.same(rootDisconnects, [])
  t.match(await server.emitWithAck(sockets['/']!, 'auth:refresh', { token: server.token(claims, { expiresIn: 3600 }) }), { ok: true }, 'and the refreshed one still answers')
})

t.test('the time format of a namespace: epoch ms where a plugin asks for it, two different ones conflict', async (t) => {
  const timed = (name: string, timeFormat: 'iso' | 'epoch-ms') => definePlugin({
    name,
    options: Type.Object({}),
    setup (app) { app.realtime.namespace('/timed', { timeFormat }) }
  })
  const server = await startServer({ config: { auth: { expiryGraceMs: 300 } }, plugins: [{ plugin: timed('epoch', 'epoch-ms') }] })
  t.teardown(() => server.close())
  const token = server.token(claims, { expiresIn: 1 })
  const socket = server.client('/timed', { token })
  const [expired] = await waitFor(socket, 'auth:expired')
  t.same(expired, { expiredAt: JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp * 1000, graceMs: 300 })

  await t.rejects(startServer({ plugins: [{ plugin: timed('epoch', 'epoch-ms') }, { plugin: timed('iso', 'iso') }] }), {
    code: 'RT_ERR_NAMESPACE_CONFLICT', message: /"\/timed" is asked for with times as epoch-ms and as iso/
  })
})
