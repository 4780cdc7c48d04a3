import t from 'tap'
import { definePlugin, Type } from 'realtime-server'
import { record, startServer, waitFor, type ClientSocket } from 'realtime-server/testing'

/** `test:ping` answers the socket itself: once the pong is in, every earlier broadcast to it is too (one node, in-memory adapter). */
const Ping = Type.Unknown()
const pingFixture = definePlugin({
  name: 'ping-fixture',
  options: Type.Object({}),
  events: { client: { 'test:ping': Ping }, server: { 'test:pong': Type.Undefined() } },
  setup (app) {
    app.realtime.namespace('/customers').handle('test:ping', Ping, (ctx) => { ctx.emit('test:pong') })
  }
})

/** The commerce back office protocol's customer presence, as recommended in the README. */
const backOffice = {
  namespace: '/customers',
  track: ['/orders', '/payments'],
  roles: ['customer'],
  visibleTo: ['admin', 'manager', 'staff'],
  events: { online: 'customer:online', offline: 'customer:offline' },
  format: 'customer',
  envelope: true
}

t.test('the commerce back office protocol: customer:online/offline reach admin, manager and staff only, with the envelope', async (t) => {
  const server = await startServer({
    config: { plugins: { presence: { options: { online: [backOffice], typing: [], offlineDelayMs: 200 } } } },
    plugins: [{ plugin: pingFixture }]
  })
  t.teardown(() => server.close())
  const as = async (ns: string, sub: string, role: string, tenantId = 'shop'): Promise<ClientSocket> =>
    await server.connect(ns, { token: server.token({ sub, tenantId, role }) })
  const admin = await as('/customers', 'a1', 'admin')
  const manager = await as('/customers', 'm1', 'manager')
  const staff = await as('/customers', 's1', 'staff')
  const otherCustomer = await as('/customers', 'CUST-9', 'customer')
  const otherShop = await as('/customers', 'a2', 'admin', 'other-shop')
  const customerSaw = record(otherCustomer)
  const otherShopSaw = record(otherShop)
  const adminSaw = record(admin, 'customer:online')

  const receivers = [admin, manager, staff].map((s) => waitFor(s, 'customer:online'))
  const before = Date.now()
  const customer = await as('/orders', 'CUST-123', 'customer')
  for (const [payload, envelope] of await Promise.all(receivers)) {
    t.same(Object.keys(payload).sort(), ['customerId', 'isOnline', 'lastSeen'])
    t.match(payload, { customerId: 'CUST-123', isOnline: true })
    t.ok(payload.lastSeen >= before - 1000 && payload.lastSeen <= Date.now() + 1000)
    t.same(envelope, { type: 'customer:online', namespace: 'customers', data: payload, timestamp: envelope.timestamp })
    t.type(envelope.timestamp, 'number')
  }

  // Not a customer: not tracked. A second socket of the customer (another namespace it tracks): no second online.
  await as('/orders', 's1', 'staff')
  const customerPayments = await as('/payments', 'CUST-123', 'customer')
  const next = waitFor(admin, 'customer:online', { filter: (p) => p.customerId === 'CUST-7' })
  await as('/payments', 'CUST-7', 'customer')
  await next
  t.same(adminSaw.map((e) => e.args[0].customerId), ['CUST-123', 'CUST-7'], 'customers only, once each')

  const list = await server.emitWithAck(staff, 'presence:list')
  t.same(list.users.map((u: { userId: string, connections: number }) => [u.userId, u.connections]), [['CUST-123', 2], ['CUST-7', 1]])
  t.match(await server.emitWithAck(otherCustomer, 'presence:list'), { error: { code: 'RT_PRESENCE_NOT_VISIBLE', message: 'The online list of /customers is visible to admin, manager, staff only' } })
  t.match(await server.emitWithAck(otherCustomer, 'presence:status', { userIds: ['CUST-123'] }), { error: { code: 'RT_PRESENCE_NOT_VISIBLE' } })

  const offline = waitFor(manager, 'customer:offline')
  customer.disconnect()
  // Once the server has seen the /orders socket go, the customer is still online through /payments.
  let rest: { online: boolean, connections: number }
  const deadline = Date.now() + 5000
  do rest = (await server.emitWithAck(staff, 'presence:status', { userIds: ['CUST-123'] })).users[0]
  while (rest.connections !== 1 && Date.now() < deadline)
  t.match(rest, { online: true, connections: 1 }, 'still online through /payments')
  customerPayments.disconnect()
  const [gone, envelope] = await offline
  t.match(gone, { customerId: 'CUST-123', isOnline: false, lastSeen: Number })
  t.match(envelope, { type: 'customer:offline', namespace: 'customers', data: gone })

  const pong = waitFor(otherCustomer, 'test:pong')
  await server.emitWithAck(otherCustomer, 'test:ping', null)
  await pong
  const pong2 = waitFor(otherShop, 'test:pong')
  await server.emitWithAck(otherShop, 'test:ping', null)
  await pong2
  t.same(customerSaw.filter((e) => e.event.startsWith('customer:')), [], 'a customer hears nothing')
  t.same(otherShopSaw.filter((e) => e.event.startsWith('customer:')), [], 'another tenant hears nothing')
})
