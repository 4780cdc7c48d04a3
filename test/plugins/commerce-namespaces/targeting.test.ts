import t from 'tap'
import type tap from 'tap'
import { startServer, type TestServer } from 'realtime-server/testing'
import { connectUser, flush, pluginConfig, publish, samples, type User } from './support.test.js'

const all = samples('CUST-1')

/** Who received what (user name -> `namespace/type`), per transport, and every envelope. */
function byUser (users: User[], which: 'sio' | 'ws'): { types: Record<string, string[]>, envelopes: unknown[] } {
  const types: Record<string, string[]> = {}
  const envelopes: unknown[] = []
  for (const u of users) {
    const events = which === 'sio' ? u.sio.events : u.ws!.inbox.events
    // Each Socket.IO namespace is its own connection: order holds within one, not across them, so compare sorted.
    if (events.length > 0) types[u.name] = events.map((e) => `${e.namespace}/${e.type}`).sort()
    envelopes.push(...events.map((e) => JSON.stringify(e.envelope)).sort())
  }
  return { types, envelopes }
}

/** Asserts both transports delivered the same envelopes to the same users; returns who got what. */
function received (t: Pick<typeof tap, 'strictSame'>, users: User[]): Record<string, string[]> {
  const sio = byUser(users, 'sio')
  const ws = byUser(users, 'ws')
  t.strictSame(ws.types, sio.types, 'the same events per user on WebSocket as on Socket.IO')
  t.strictSame(ws.envelopes, sio.envelopes, 'identical envelopes on both transports')
  return sio.types
}

async function setup (t: { teardown: (fn: () => Promise<void>) => void }): Promise<{ server: TestServer, users: User[] }> {
  const server = await startServer({ config: pluginConfig() })
  t.teardown(() => server.close())
  const users = [
    await connectUser(server, { sub: 'admin-1', role: 'admin' }),
    await connectUser(server, { sub: 'manager-1', role: 'manager' }),
    await connectUser(server, { sub: 'staff-1', role: 'staff' }),
    await connectUser(server, { sub: 'CUST-1', role: 'customer' }),
    await connectUser(server, { sub: 'CUST-2', role: 'customer' }),
    // Staff who also shops: staff events in full, plus their own customer events.
    await connectUser(server, { sub: 'CUST-3', role: ['staff', 'customer'] })
  ]
  return { server, users }
}

t.test('roles narrows the matrix and never widens it', async (t) => {
  const { server, users } = await setup(t)
  const r1 = await publish(server, { type: 'order:created', data: all['order:created'], roles: ['manager', 'customer'], count: true })
  t.equal(r1.body.recipients, 1, 'customers are not added to order:created')
  await publish(server, { type: 'product:price_changed', data: all['product:price_changed'], roles: ['customer'] })
  await publish(server, { type: 'payment:received', data: all['payment:received'], roles: ['customer'] })
  await publish(server, { type: 'payment:failed', data: all['payment:failed'], roles: ['staff'] })
  await publish(server, { type: 'order:deleted', data: all['order:deleted'], roles: ['*', 'staff'] })
  await flush(server, users)
  t.same(received(t, users), {
    'admin-1': ['orders/order:deleted'],
    'manager-1': ['orders/order:created', 'orders/order:deleted'],
    'CUST-1': ['payments/payment:received', 'products/product:price_changed'],
    'CUST-2': ['products/product:price_changed'],
    'CUST-3': ['products/product:price_changed']
  })
})

t.test('userIds sends to those users only, and only if their role may see the event', async (t) => {
  const { server, users } = await setup(t)
  // The seed's example: order:status_changed to one customer. CUST-2 is named but does not own the order.
  await publish(server, { type: 'order:status_changed', data: all['order:status_changed'], userIds: ['CUST-1', 'CUST-2'] })
  await publish(server, { type: 'order:created', data: all['order:created'], userIds: ['staff-1', 'CUST-1'] })
  const none = await publish(server, { type: 'payment:received', data: all['payment:received'], userIds: ['staff-1'], count: true })
  t.equal(none.status, 200)
  t.equal(none.body.recipients, 0, 'staff may not see payments, even when named')
  await publish(server, { type: 'system:maintenance', data: { message: 'for two' }, userIds: ['admin-1', 'CUST-2'] })
  await publish(server, { type: 'payment:refunded', data: { ...all['payment:refunded'], customerId: 'CUST-3' }, userIds: ['CUST-3', 'CUST-1'] })
  await flush(server, users)
  t.same(received(t, users), {
    'admin-1': ['system/system:maintenance'],
    'staff-1': ['orders/order:created'],
    'CUST-1': ['orders/order:status_changed'],
    'CUST-2': ['system/system:maintenance'],
    'CUST-3': ['payments/payment:refunded']
  })
})

t.test('excludeUserIds leaves users out, whatever else targets them', async (t) => {
  const { server, users } = await setup(t)
  // The seed's example: product:updated to everyone allowed but user_456 (here staff-1).
  await publish(server, { type: 'product:updated', data: all['product:updated'], excludeUserIds: ['staff-1'] })
  await publish(server, { type: 'payment:failed', data: all['payment:failed'], excludeUserIds: ['CUST-1', 'admin-1'] })
  await publish(server, { type: 'order:deleted', data: all['order:deleted'], userIds: ['admin-1', 'manager-1'], excludeUserIds: ['admin-1'] })
  await flush(server, users)
  t.same(received(t, users), {
    'admin-1': ['products/product:updated'],
    'manager-1': ['orders/order:deleted', 'payments/payment:failed', 'products/product:updated'],
    'CUST-3': ['products/product:updated']
  })
})

t.test('customers see their own order and payment events only, whichever customer is first', async (t) => {
  const { server, users } = await setup(t)
  for (const owner of ['CUST-2', 'CUST-1', 'CUST-404']) {
    const mine = samples(owner)
    for (const type of ['order:created', 'order:status_changed', 'payment:received', 'payment:failed', 'payment:refunded'] as const) {
      await publish(server, { type, data: mine[type] })
    }
  }
  await flush(server, users)
  const customers = users.filter((u) => u.name.startsWith('CUST'))
  const got = received(t, customers)
  const own = ['orders/order:status_changed', 'payments/payment:failed', 'payments/payment:received', 'payments/payment:refunded']
  t.same(got['CUST-1'], own)
  t.same(got['CUST-2'], own)
  for (const u of customers.slice(0, 2)) {
    t.ok(u.sio.events.every((e) => e.data.customerId === u.name), `${u.name} saw only its own events`)
  }
  t.equal(got['CUST-3']!.filter((x) => x === 'orders/order:status_changed').length, 3, 'a staff+customer token sees every status change as staff')
  t.notOk(got['CUST-3']!.some((x) => x.startsWith('payments/')), 'but no payments of others (staff may not see payments)')
})

t.test('targetRoles of system:notification and system:alert; namespace picks where it is delivered', async (t) => {
  const { server, users } = await setup(t)
  await publish(server, { type: 'system:notification', data: { title: 'All', message: 'no targetRoles: everyone', severity: 'info' } })
  await publish(server, { type: 'system:alert', data: { title: 'Ops', message: 'staff only', severity: 'error', targetRoles: ['staff'] } })
  const nobody = await publish(server, { type: 'system:alert', data: { title: 'x', message: 'y', severity: 'warning', targetRoles: ['customer'] }, roles: ['admin'], count: true })
  t.equal(nobody.body.recipients, 0, 'targetRoles and roles intersect')
  // The seed's "namespace broadcasting": a notification to the subscribers of /orders.
  await publish(server, { type: 'system:notification', data: { title: 'Orders', message: 'to orders', severity: 'success', targetRoles: ['admin', 'customer'] }, namespace: 'orders' })
  await flush(server, users)
  const got = received(t, users)
  t.same(got['admin-1'], ['orders/system:notification', 'system/system:notification'])
  t.same(got['manager-1'], ['system/system:notification'])
  t.same(got['staff-1'], ['system/system:alert', 'system/system:notification'])
  t.same(got['CUST-1'], ['orders/system:notification', 'system/system:notification'])
  t.same(got['CUST-3'], ['orders/system:notification', 'system/system:alert', 'system/system:notification'])
  const moved = users[0]!.sio.events.find((e) => e.namespace === 'orders')!
  t.equal(moved.envelope.namespace, 'orders', 'the envelope names the namespace it was delivered in')
})

t.test('a publisher JWT acts in its own tenant only', async (t) => {
  const { server, users } = await setup(t)
  const token = server.token({ sub: 'backend', tenantId: 'shop', role: 'service' })
  const ok = await server.request('POST', '/api/commerce-namespaces/events', { token, body: { type: 'product:deleted', data: { productId: 'P1' } } })
  t.equal(ok.status, 200)
  const other = await server.request('POST', '/api/commerce-namespaces/events', { token, body: { tenantId: 'elsewhere', type: 'product:deleted', data: { productId: 'P1' } } })
  t.equal(other.status, 403)
  const customer = await server.request('POST', '/api/commerce-namespaces/events', { token: users[3]!.token, body: { type: 'product:deleted', data: { productId: 'P2' } } })
  t.equal(customer.status, 403, 'a customer may not publish')
  await flush(server, users)
  t.same(received(t, users), { 'admin-1': ['products/product:deleted'], 'manager-1': ['products/product:deleted'] })
})

t.test('a role change through auth:refresh moves the filtering on both transports alike', async (t) => {
  const server = await startServer({ config: pluginConfig() })
  t.teardown(() => server.close())
  const user = await connectUser(server, { sub: 'u7', role: 'customer' }, { namespaces: ['orders'] })
  const socket = user.sockets.get('orders')!
  const as = (role: string): string => server.token({ sub: 'u7', tenantId: 'shop', role })
  const mine = samples('u7')
  const round = async (): Promise<void> => {
    await publish(server, { type: 'order:created', data: all['order:created'], userIds: ['u7'] })
    await publish(server, { type: 'order:status_changed', data: mine['order:status_changed'], userIds: ['u7'] })
    await flush(server, [user])
  }

  await round()
  t.same(user.sio.types, ['order:status_changed'], 'as a customer: only its own status change')

  t.match(await server.emitWithAck(socket, 'auth:refresh', { token: as('staff') }), { ok: true })
  t.equal((await user.ws!.request({ action: 'refresh', token: as('staff') })).type, 'refreshed')
  await round()
  t.same(user.sio.types, ['order:status_changed', 'order:created', 'order:status_changed'], 'as staff: order:created too')

  t.match(await server.emitWithAck(socket, 'auth:refresh', { token: `Bearer ${as('customer')}` }), { ok: true })
  t.equal((await user.ws!.request({ action: 'refresh', token: as('customer') })).type, 'refreshed')
  t.match(await server.emitWithAck(socket, 'auth:refresh', { token: server.token({ sub: 'someone-else', tenantId: 'shop', role: 'admin' }) }), { error: { code: 'RT_ERR_AUTH_REFRESH' } })
  t.match(await server.emitWithAck(socket, 'auth:refresh', {}), { error: { code: 'RT_ERR_VALIDATION', field: 'token' } })
  await round()
  t.same(user.sio.types, ['order:status_changed', 'order:created', 'order:status_changed', 'order:status_changed'], 'a customer again; another user\'s token changed nothing')
  t.strictSame(user.ws!.inbox.events.map((e) => e.envelope), user.sio.events.map((e) => e.envelope), 'the same on WebSocket')
})
