// Token expiry and refresh of commerce clients: one Manager on the six namespaces, and the plain WebSocket; times in epoch ms.
import t, { type Test } from 'tap'
import { Manager } from 'socket.io-client'
import { startServer, waitFor, type ClientSocket, type TestServer } from 'realtime-server/testing'
import { WebSocket } from 'ws'
import { ALL_NAMESPACES, flush, Inbox, openWs, pluginConfig, socketInbox, TENANT, type User } from './support.test.js'

const admin = { sub: 'u1', tenantId: TENANT, role: 'admin' }
const expOf = (token: string): number => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp

/**
 * One Manager (one Engine.IO connection) with a socket on each namespace, each with its token. Its inbox
 * records from before the first connect (a short token may expire while the others connect), disconnects
 * included (as `type: 'disconnect'`, the reason in `data`).
 */
async function oneManager (t: Test, server: TestServer, tokens: Record<string, string>): Promise<User & { manager: Manager }> {
  const manager = new Manager(server.url, { path: server.config.socketio.path, transports: ['websocket'], reconnection: false })
  const sockets = new Map<string, ClientSocket>()
  const inbox = new Inbox()
  for (const [ns, token] of Object.entries(tokens)) {
    const socket = manager.socket(`/${ns}`, { auth: { token } })
    socketInbox(new Map([[ns, socket]]), inbox)
    socket.on('disconnect', (reason) => { inbox.push({ type: 'disconnect', namespace: ns, data: reason, envelope: undefined, raw: [reason] }) })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('connect_error', reject)
    })
    sockets.set(ns, socket)
  }
  t.teardown(() => { for (const s of sockets.values()) s.disconnect() })
  const namespaces = Object.keys(tokens)
  return { manager, name: 'u1', tenantId: TENANT, namespaces, sockets, sio: inbox, token: Object.values(tokens)[0]! }
}

const sameToken = (token: string): Record<string, string> => Object.fromEntries(ALL_NAMESPACES.map((ns) => [ns, token]))
const disconnectsOf = (user: User): string[] => user.sio.entries.filter((e) => e.type === 'disconnect').map((e) => `${e.namespace} ${String(e.data)}`)

t.test('Socket.IO, one Manager on six namespaces: the expiry of one namespace\'s identity disconnects that socket only', async (t) => {
  const server = await startServer({ config: pluginConfig({}, { auth: { expiryGraceMs: 300 } }) })
  t.teardown(() => server.close())
  const long = server.token(admin, { expiresIn: 3600 })
  const short = server.token(admin, { expiresIn: 1 })
  const user = await oneManager(t, server, { ...sameToken(long), payments: short })
  const engineId = user.manager.engine.id
  const others = ALL_NAMESPACES.filter((ns) => ns !== 'payments')

  const expired = await user.sio.until((e) => e.type === 'auth:expired')
  t.strictSame(expired.raw, [{ expiredAt: expOf(short) * 1000, graceMs: 300 }], 'epoch ms, one argument: no envelope, so not an event')
  t.equal(expired.namespace, 'payments')
  await user.sio.until((e) => e.type === 'disconnect')

  // The five others still receive events on the same connection.
  await flush(server, [{ ...user, namespaces: others }])
  t.same(disconnectsOf(user), ['payments io server disconnect'], 'only /payments was disconnected')
  t.equal(user.manager.engine.id, engineId, 'the same Engine.IO connection')
  t.same(user.sio.entries.filter((e) => e.type === 'auth:expired').map((e) => e.namespace), ['payments'])
})

t.test('Socket.IO, one Manager on six namespaces: a refresh on one renews all six', async (t) => {
  // A grace long enough for a round trip on a loaded machine.
  const server = await startServer({ config: pluginConfig({}, { auth: { expiryGraceMs: 3000 } }) })
  t.teardown(() => server.close())
  const token = server.token(admin, { expiresIn: 1 })
  const user = await oneManager(t, server, sameToken(token))
  // The same token on a connection of its own, never refreshed: its disconnect marks the end of the grace.
  const control = server.client('/payments', { token })
  const controlGone = waitFor(control, 'disconnect')

  await user.sio.until((e) => e.type === 'auth:expired' && e.namespace === 'orders')
  const refreshed = await server.emitWithAck(user.sockets.get('orders')!, 'auth:refresh', { token: server.token(admin, { expiresIn: 3600 }) })
  t.equal(refreshed.ok, true)
  t.equal((await controlGone)[0], 'io server disconnect', 'the unrefreshed connection is disconnected after the grace')

  await flush(server, [user])
  t.same(disconnectsOf(user), [], 'none of the six was disconnected')
  t.ok([...user.sockets.values()].every((s) => s.connected))
})

t.test('Socket.IO on commerce: error events carry epoch ms too', async (t) => {
  const server = await startServer({ config: pluginConfig() })
  t.teardown(() => server.close())
  const socket = await server.connect('/system', { token: server.token(admin) })
  const error = waitFor(socket, 'error')
  socket.emit('auth:refresh', { token: 'garbage' })
  const [payload] = await error
  t.match(payload, { code: 'RT_ERR_AUTH_REFRESH', event: 'auth:refresh' })
  t.type(payload.timestamp, 'number')
  t.ok(Math.abs(payload.timestamp - Date.now()) < 60_000, 'epoch ms of now')
})

t.test('WebSocket: auth_expired in epoch ms and without namespace; a refresh in the grace keeps the connection', async (t) => {
  const server = await startServer({ config: pluginConfig({}, { auth: { expiryGraceMs: 3000 } }) })
  t.teardown(() => server.close())
  const token = server.token(admin, { expiresIn: 1 })
  const ws = await openWs(server, { token, namespaces: ALL_NAMESPACES })
  const control = await openWs(server, { token, namespaces: ['orders'] })
  const controlClosed = control.closed

  const expired = await ws.replies.until((e) => e.type === 'auth_expired')
  t.strictSame(expired.envelope, { type: 'auth_expired', expiredAt: expOf(token) * 1000, graceMs: 3000 }, 'a control message: no namespace, no data')
  t.same(ws.inbox.entries, [], 'not counted as an event')
  t.equal((await ws.request({ action: 'refresh', token: server.token(admin, { expiresIn: 3600 }) })).type, 'refreshed')

  t.same(await controlClosed, { code: 4401, reason: 'token expired' }, 'the unrefreshed connection is closed after the grace')
  await flush(server, [{ name: 'u1', namespaces: ALL_NAMESPACES, ws }])
  t.equal(ws.ws.readyState, WebSocket.OPEN, 'every namespace of the refreshed connection still receives')
})

t.test('WebSocket: a refresh for another user or tenant is refused and renews nothing', async (t) => {
  const server = await startServer({ config: pluginConfig({}, { auth: { expiryGraceMs: 300 } }) })
  t.teardown(() => server.close())
  // Three seconds: room for six round trips on a loaded machine before the token expires.
  const ws = await openWs(server, { token: server.token(admin, { expiresIn: 3 }), namespaces: ['orders', 'payments'] })
  const closed = ws.closed
  const socket = await server.connect('/orders', { token: server.token(admin) })
  for (const other of [{ ...admin, sub: 'u2' }, { ...admin, tenantId: 'globex' }, 'garbage']) {
    const token = typeof other === 'string' ? other : server.token(other, { expiresIn: 3600 })
    const reply = await ws.request({ action: 'refresh', token })
    t.equal(reply.type, 'error')
    t.match(reply.error, { code: 'RT_ERR_AUTH_REFRESH', message: /^Token refresh refused: / })
    const ack = await server.emitWithAck(socket, 'auth:refresh', { token })
    t.strictSame(reply.error, ack.error, 'the answer of Socket.IO\'s auth:refresh')
  }
  t.same(await closed, { code: 4401, reason: 'token expired' })
  t.ok(ws.replies.entries.some((e) => e.type === 'auth_expired'), 'told before being closed')
})
