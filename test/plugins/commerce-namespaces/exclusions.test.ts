// The publish options a client developer reaches for last: `roles` naming an unconfigured role, and excluding sessions (the commerce back office protocol's "exclude specific users or sessions").
import t from 'tap'
import { startServer } from 'realtime-server/testing'
import { connectUser, flush, openWs, pluginConfig, publish, samples, TENANT } from './support.test.js'

const all = samples('CUST-1')

t.test('a role no matrix row names is refused (400 naming roles.N), and nothing is published', async (t) => {
  const server = await startServer({ config: pluginConfig({ matrix: { 'order:created': { roles: ['admin', 'auditor'] } } }) })
  t.teardown(() => server.close())
  const admin = await connectUser(server, { sub: 'admin-1', role: 'admin' }, { namespaces: ['products', 'orders'] })

  const typo = await publish(server, { type: 'product:price_changed', data: all['product:price_changed'], roles: ['superuser'] })
  t.equal(typo.status, 400)
  t.match(typo.body, { code: 'RT_ERR_VALIDATION', field: 'roles.0' })
  t.match(typo.body.message, /roles\.0: must be one of: admin, auditor, manager, staff, customer, \*/, 'the message lists the configured roles')
  const second = await publish(server, { type: 'order:created', data: all['order:created'], roles: ['admin', 'superadmin'] })
  t.match(second.body, { code: 'RT_ERR_VALIDATION', field: 'roles.1' })

  // A configured role is accepted even where it narrows this event to nobody, and a role only a custom row names is configured.
  const nobody = await publish(server, { type: 'order:created', data: all['order:created'], roles: ['customer'], count: true })
  t.same([nobody.status, nobody.body.recipients], [200, 0])
  const custom = await publish(server, { type: 'order:created', data: all['order:created'], roles: ['auditor'], count: true })
  t.same([custom.status, custom.body.recipients], [200, 0])

  await flush(server, [admin])
  t.same(admin.sio.types, [], 'the refused publishes reached nobody')
  t.same(admin.ws!.inbox.types, [])
})

t.test('excludeSessionIds skips the named Socket.IO socket or WebSocket connection, and only it', async (t) => {
  const server = await startServer({ config: pluginConfig() })
  t.teardown(() => server.close())
  // One manager with two Socket.IO tabs and one plain-WebSocket tab on /products, and a second user.
  const tab1 = await connectUser(server, { sub: 'manager-1', role: 'manager' }, { namespaces: ['products'] })
  const tab2 = await connectUser(server, { sub: 'manager-1', role: 'manager' }, { namespaces: ['products'], ws: false })
  const other = await connectUser(server, { sub: 'manager-2', role: 'manager' }, { namespaces: ['products'] })
  const session = await tab1.ws!.request({ action: 'session' })
  t.match(session, { type: 'session', sessionId: /^[A-Za-z0-9_-]{1,64}$/ }, 'the WebSocket endpoint tells a connection its session id')
  t.same(await tab1.ws!.request({ action: 'session' }), { ...session, id: 'r2' }, 'the same id every time')

  const sender = tab1.sockets.get('products')!.id!
  const r1 = await publish(server, { type: 'product:updated', data: all['product:updated'], excludeSessionIds: [sender], count: true })
  t.same([r1.status, r1.body.recipients], [200, 2], 'every Socket.IO socket but the sender\'s')
  const r2 = await publish(server, { type: 'product:created', data: all['product:created'], excludeSessionIds: [session.sessionId] })
  t.equal(r2.status, 200)
  // Another tenant's socket id, or an id that was never a socket, narrows nothing.
  await publish(server, { type: 'product:deleted', data: all['product:deleted'], excludeSessionIds: ['AAAAAAAAAAAAAAAAAAAA'] })
  await flush(server, [tab1, tab2, other])

  t.same(tab1.sio.types, ['product:created', 'product:deleted'], 'the excluded Socket.IO tab did not get its own change back')
  t.same(tab2.sio.types, ['product:updated', 'product:created', 'product:deleted'], 'the same user\'s other tab did')
  t.same(tab1.ws!.inbox.types, ['product:updated', 'product:deleted'], 'the excluded WebSocket session did not')
  t.same(other.sio.types, ['product:updated', 'product:created', 'product:deleted'])
  t.same(other.ws!.inbox.types, ['product:updated', 'product:created', 'product:deleted'])

  // Two WebSocket connections of one user get distinct ids.
  const again = await openWs(server, { token: tab1.token, namespaces: ['products'] })
  t.teardown(() => { again.ws.close() })
  const second = await again.request({ action: 'session' })
  t.not(second.sessionId, session.sessionId)
})

t.test('excludeSessionIds must look like session ids: a room name is refused', async (t) => {
  const server = await startServer({ config: pluginConfig() })
  t.teardown(() => server.close())
  const res = await publish(server, { type: 'product:deleted', data: all['product:deleted'], excludeSessionIds: ['ok-id', `t:${TENANT}:role:admin`] })
  t.equal(res.status, 400)
  t.match(res.body, { code: 'RT_ERR_VALIDATION', field: 'excludeSessionIds.1' })
})
