import t from 'tap'
import { startServer, TEST_SECRET } from 'realtime-server/testing'
import { WebSocket } from 'ws'
import { connectUser, flush, openWs, pluginConfig, publish, refusedWs, samples, TENANT } from './support.test.js'

const all = samples('CUST-1')

t.test('the endpoint refuses missing, bad and expired tokens and unknown namespaces', async (t) => {
  const server = await startServer({ config: pluginConfig() })
  t.teardown(() => server.close())

  const none = await refusedWs(server, {})
  t.equal(none.status, 401)
  t.match(none.body, { code: 'RT_ERR_AUTH_NO_TOKEN', message: 'Authentication failed: No token provided' })

  const forged = server.token({ sub: 'x', tenantId: TENANT, role: 'admin' }, { secret: `${TEST_SECRET}-not` })
  const bad = await refusedWs(server, { token: forged })
  t.equal(bad.status, 401)
  t.match(bad.body, { code: 'RT_ERR_AUTH_INVALID_TOKEN', message: 'Authentication failed: Invalid token' })
  t.equal((await refusedWs(server, { token: 'not-a-jwt', header: true })).body.code, 'RT_ERR_AUTH_INVALID_TOKEN', 'a bad header token too')

  const expired = await refusedWs(server, { token: server.token({ sub: 'x', tenantId: TENANT }, { expiresIn: -60 }) })
  t.equal(expired.status, 401)
  t.equal(expired.body.code, 'RT_ERR_AUTH_TOKEN_EXPIRED')

  const token = server.token({ sub: 'x', tenantId: TENANT, role: 'admin' })
  const unknown = await refusedWs(server, { token, namespaces: ['orders', 'warehouse'] })
  t.equal(unknown.status, 400)
  t.match(unknown.body, { code: 'RT_COMMERCE_UNKNOWN_NAMESPACE', field: 'namespaces.1' })

  const ok = await openWs(server, { token, header: true })
  t.equal(ok.ws.readyState, WebSocket.OPEN, 'Authorization: Bearer is accepted')
  const socket = await server.connect('/orders', { token })
  t.ok(socket.connected, 'Socket.IO upgrades still work next to the endpoint')
})

t.test('subscribe and unsubscribe choose the namespaces; the token decides the filtering', async (t) => {
  const server = await startServer({ config: pluginConfig() })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'CUST-1', tenantId: TENANT, role: 'customer' })
  const ws = await openWs(server, { token })

  t.same(await ws.request({ action: 'subscribe', namespaces: ['/orders', 'products', 'inventory'] }), { type: 'subscribed', namespaces: ['inventory', 'orders', 'products'], id: 'r1' }, 'a leading slash is accepted')
  t.same(await ws.request({ action: 'unsubscribe', namespaces: ['products'] }), { type: 'unsubscribed', namespaces: ['inventory', 'orders'], id: 'r2' })

  for (const type of ['order:created', 'order:status_changed', 'product:price_changed', 'inventory:updated', 'payment:received'] as const) {
    t.equal((await publish(server, { type, data: all[type] })).status, 200)
  }
  await publish(server, { type: 'order:status_changed', data: samples('CUST-2')['order:status_changed'] })
  await flush(server, [{ name: 'CUST-1', namespaces: ['orders', 'inventory'], ws }])
  t.same(ws.inbox.types, ['order:status_changed'], 'only its own order event of the subscribed namespaces')
  t.equal(ws.inbox.events[0]!.data.customerId, 'CUST-1')

  const pong = await ws.request({ action: 'ping' })
  t.equal(pong.type, 'pong')
  t.type(pong.timestamp, 'number')
})

t.test('bad messages are answered with an error naming the problem, and the connection stays open', async (t) => {
  const server = await startServer({ config: pluginConfig() })
  t.teardown(() => server.close())
  const ws = await openWs(server, { token: server.token({ sub: 'u1', tenantId: TENANT, role: 'admin' }) })

  ws.ws.send('not json')
  const notJson = await ws.replies.until((e) => e.type === 'error')
  t.strictSame(notJson.envelope, { type: 'error', error: { code: 'RT_COMMERCE_BAD_MESSAGE', message: 'Unreadable WebSocket message: not JSON' } })

  t.match(await ws.request({ action: 'dance' }), { type: 'error', error: { code: 'RT_ERR_VALIDATION', field: 'action' } })
  t.match(await ws.request({ action: 'subscribe' }), { type: 'error', error: { code: 'RT_ERR_VALIDATION', field: 'namespaces' } })
  t.match(await ws.request({ action: 'subscribe', namespaces: ['orders', 'nope'] }), {
    type: 'error', id: 'r3', error: { code: 'RT_COMMERCE_UNKNOWN_NAMESPACE', field: 'namespaces.1' }
  })
  t.match(await ws.request({ action: 'ping', extra: 1 }), { error: { code: 'RT_ERR_VALIDATION', field: 'extra' } })
  t.same(await ws.request({ action: 'subscribe', namespaces: ['orders'] }), { type: 'subscribed', namespaces: ['orders'], id: 'r5' }, 'a failed subscribe changed nothing')
  t.equal(ws.ws.readyState, WebSocket.OPEN)
})

t.test('a client cannot widen its filtering by refreshing with someone else\'s token', async (t) => {
  const server = await startServer({ config: pluginConfig() })
  t.teardown(() => server.close())
  const ws = await openWs(server, { token: server.token({ sub: 'CUST-1', tenantId: TENANT, role: 'customer' }), namespaces: ['orders'] })

  const admin = await ws.request({ action: 'refresh', token: server.token({ sub: 'admin-1', tenantId: TENANT, role: 'admin' }) })
  // Refused as Socket.IO's auth:refresh refuses it.
  t.match(admin, { type: 'error', error: { code: 'RT_ERR_AUTH_REFRESH', message: 'Token refresh refused: the token is for another user or tenant' } })
  t.match(await ws.request({ action: 'refresh', token: 'garbage' }), { type: 'error', error: { code: 'RT_ERR_AUTH_REFRESH', message: 'Token refresh refused: Invalid token' } })

  await publish(server, { type: 'order:created', data: all['order:created'] })
  await flush(server, [{ name: 'CUST-1', namespaces: ['orders'], ws }])
  t.same(ws.inbox.types, [], 'still filtered as a customer')

  // The same user with a new role (and a later expiry) is a legitimate refresh, as on Socket.IO.
  const refreshed = await ws.request({ action: 'refresh', token: server.token({ sub: 'CUST-1', tenantId: TENANT, role: 'staff' }, { expiresIn: 7200 }) })
  t.equal(refreshed.type, 'refreshed')
  t.type(refreshed.exp, 'number')
  await publish(server, { type: 'order:created', data: all['order:created'] })
  await ws.inbox.until((e) => e.type === 'order:created')
  t.same(ws.inbox.types, ['order:created'])
})

t.test('an expiring token gets auth_expired, then the connection is closed unless refreshed', async (t) => {
  const server = await startServer({ config: pluginConfig({}, { auth: { expiryGraceMs: 0 } }) })
  t.teardown(() => server.close())
  const ws = await openWs(server, { token: server.token({ sub: 'u1', tenantId: TENANT, role: 'admin' }, { expiresIn: 1 }) })
  const closed = ws.closed
  const expired = await ws.replies.until((e) => e.type === 'auth_expired')
  t.match(expired.envelope, { type: 'auth_expired', graceMs: 0 })
  t.type(expired.envelope.expiredAt, 'number', 'epoch ms, as every time on commerce')
  t.same(await closed, { code: 4401, reason: 'token expired' })

  const noExpiry = await openWs(server, { token: server.token({ sub: 'u2', tenantId: TENANT, role: 'admin' }, { expiresIn: null }) })
  t.same(await noExpiry.request({ action: 'refresh', token: server.token({ sub: 'u2', tenantId: TENANT }, { expiresIn: null }) }), { type: 'refreshed', exp: null, id: 'r1' })
})

t.test('a client that stops answering pings is dropped', async (t) => {
  // The answering client must pong within one interval: 3 s leaves room for a loaded machine.
  const server = await startServer({ config: pluginConfig({ websocket: { heartbeatMs: 3000 } }) })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'u1', tenantId: TENANT, role: 'admin' })
  const silent = await openWs(server, { token, autoPong: false })
  const lively = await openWs(server, { token })
  let pings = 0
  lively.ws.on('ping', () => { pings++ })
  const { code } = await silent.closed
  t.equal(code, 1006, 'terminated without a close frame')
  t.ok(pings >= 1, 'the answering client was pinged')
  t.equal(lively.ws.readyState, WebSocket.OPEN, 'and kept')
})

t.test('clients are closed with 1001 when the server closes', async (t) => {
  const server = await startServer({ config: pluginConfig() })
  const user = await connectUser(server, { sub: 'u1', role: 'admin' }, { namespaces: ['orders'] })
  const closed = user.ws!.closed
  await server.close()
  t.same(await closed, { code: 1001, reason: 'server shutting down' })
})

t.test('without websocket.enabled there is no endpoint, and Socket.IO still works', async (t) => {
  const server = await startServer({ config: pluginConfig({ websocket: { enabled: false } }) })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'u1', tenantId: TENANT, role: 'staff' })
  const failed = await openWs(server, { token }).then(() => 'opened', (err: Error) => err.message)
  t.not(failed, 'opened', 'the upgrade is not accepted')
  const user = await connectUser(server, { sub: 'u1', role: 'staff' }, { namespaces: ['inventory'], ws: false })
  await publish(server, { type: 'inventory:low_stock', data: all['inventory:low_stock'] })
  t.equal((await user.sio.until((e) => e.type === 'inventory:low_stock')).namespace, 'inventory')
})
