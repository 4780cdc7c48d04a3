import t from 'tap'
import { readFileSync } from 'node:fs'
import { startServer } from 'realtime-server/testing'
import { connectUser, TENANT } from './support.test.js'

// The commerce back office protocol's example enables presence beside commerce-namespaces: presence publishes customer:online into
// /customers, and plain-WebSocket clients must see it exactly as Socket.IO clients do, with the same filtering.
t.test('events other plugins publish into a commerce namespace reach WebSocket clients too', async (t) => {
  const config = JSON.parse(readFileSync('config/examples/commerce-back-office.json', 'utf8'))
  config.plugins.presence.options.offlineDelayMs = 50
  const server = await startServer({ config, baseDir: 'config/examples' })
  t.teardown(() => server.close())
  const admin = await connectUser(server, { sub: 'admin-1', role: 'admin' }, { namespaces: ['customers'] })
  const staff = await connectUser(server, { sub: 'staff-1', role: 'staff' }, { namespaces: ['customers'] })
  const other = await connectUser(server, { sub: 'cust-9', role: 'customer' }, { namespaces: ['customers', 'system'] })

  await connectUser(server, { sub: 'cust-1', role: 'customer' }, { namespaces: ['orders'], ws: false })
  const sio = await admin.sio.until((e) => e.type === 'customer:online' && e.data.customerId === 'cust-1', 'customer:online on Socket.IO')
  const ws = await admin.ws!.inbox.until((e) => e.type === 'customer:online' && e.data.customerId === 'cust-1', 'customer:online on WebSocket')
  t.same(ws.envelope, sio.envelope, 'the same envelope on both transports')
  t.same(ws.envelope, { type: 'customer:online', namespace: 'customers', data: sio.data, timestamp: sio.envelope.timestamp })
  t.equal(sio.data.isOnline, true)
  await staff.ws!.inbox.until((e) => e.type === 'customer:online', 'customer:online for staff on WebSocket')

  // A commerce event after it: the customer, who may not see customer:online, got only that one.
  const sentinel = { tenantId: TENANT, type: 'system:maintenance', data: { message: 'sentinel-bridge' } }
  await server.request('POST', '/api/commerce-namespaces/events', { apiKey: true, body: sentinel })
  await other.ws!.inbox.until((e) => e.type === 'system:maintenance', 'the sentinel')
  await other.sio.until((e) => e.type === 'system:maintenance', 'the sentinel on Socket.IO')
  t.same(other.ws!.inbox.types.filter((x) => x.startsWith('customer:')), [], 'a customer saw no customer:online on WebSocket')
  t.same(other.sio.types.filter((x) => x.startsWith('customer:')), [], 'nor on Socket.IO')
})
