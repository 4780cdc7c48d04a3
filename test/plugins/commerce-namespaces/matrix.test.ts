import t from 'tap'
import { startServer } from 'realtime-server/testing'
import { WebSocket } from 'ws'
import { connectUser, flush, openWs, pluginConfig, publish, samples, typeSet, type Entry, type User } from './support.test.js'

/** The commerce back office protocol's quick-reference table, read by role; system:notification targets admin+manager, system:alert staff+customer. */
const everyone = ['product:price_changed', 'system:maintenance']
const expected: Record<string, string[]> = {
  admin: [
    'order:created', 'order:updated', 'order:status_changed', 'order:deleted',
    'customer:activity', 'customer:viewing_product', 'customer:added_to_cart', 'customer:online', 'customer:offline',
    'inventory:updated', 'inventory:low_stock', 'inventory:out_of_stock', 'inventory:restocked',
    'product:created', 'product:updated', 'product:deleted',
    'payment:received', 'payment:failed', 'payment:refunded',
    'system:notification', ...everyone
  ],
  staff: [
    'order:created', 'order:updated', 'order:status_changed',
    'customer:activity', 'customer:online', 'customer:offline',
    'inventory:updated', 'inventory:low_stock', 'inventory:out_of_stock', 'inventory:restocked',
    'product:created', 'product:updated',
    'system:alert', ...everyone
  ],
  /** The owner of the order and payment events. */
  customer: ['order:status_changed', 'payment:received', 'payment:failed', 'payment:refunded', 'system:alert', ...everyone],
  /** Another customer: nothing of the first one's. */
  otherCustomer: ['system:alert', ...everyone],
  /** A token without a role: only what goes to everyone. */
  noRole: [...everyone]
}
expected.manager = expected.admin!

t.test('each role receives exactly its row of the seed table, identically on Socket.IO and plain WebSocket', async (t) => {
  const server = await startServer({ config: pluginConfig() })
  t.teardown(() => server.close())

  const users: Record<string, User> = {
    admin: await connectUser(server, { sub: 'admin-1', role: 'admin' }),
    manager: await connectUser(server, { sub: 'manager-1', role: 'manager' }),
    staff: await connectUser(server, { sub: 'staff-1', role: 'staff' }),
    customer: await connectUser(server, { sub: 'CUST-123', role: 'customer' }),
    otherCustomer: await connectUser(server, { sub: 'CUST-999', role: 'customer' }),
    noRole: await connectUser(server, { sub: 'visitor-1' })
  }
  const stranger = await connectUser(server, { sub: 'admin-2', role: 'admin', tenantId: 'other-shop' })

  const published = new Map<string, { timestamp: number, namespace: string, data: unknown }>()
  for (const [type, data] of Object.entries(samples('CUST-123'))) {
    const res = await publish(server, { type, data })
    t.equal(res.status, 200, `${type} accepted`)
    published.set(type, { timestamp: res.body.timestamp, namespace: res.body.namespace, data })
  }
  await flush(server, Object.values(users))
  await flush(server, [stranger], 'other-shop')

  for (const [role, user] of Object.entries(users)) {
    t.same(typeSet(user.sio.events), [...expected[role]!].sort(), `${role} on Socket.IO`)
    t.same(typeSet(user.ws!.inbox.events), [...expected[role]!].sort(), `${role} on WebSocket`)
    t.equal(user.sio.events.length, expected[role]!.length, `${role}: each event once on Socket.IO`)
    t.equal(user.ws!.inbox.events.length, expected[role]!.length, `${role}: each event once on WebSocket`)
    const byType = (list: Entry[]): unknown[] => [...list].sort((a, b) => a.type.localeCompare(b.type)).map((e) => e.envelope)
    t.strictSame(byType(user.ws!.inbox.events), byType(user.sio.events), `${role}: the same envelopes on both transports`)
  }
  t.same(stranger.sio.events, [], 'another tenant receives nothing on Socket.IO')
  t.same(stranger.ws!.inbox.events, [], 'another tenant receives nothing on WebSocket')

  // Every delivery is exactly the seed's envelope, with the payload as the first handler argument.
  for (const e of users.admin!.sio.events) {
    const sent = published.get(e.type)!
    t.strictSame(e.raw, [sent.data, { type: e.type, namespace: sent.namespace, data: sent.data, timestamp: sent.timestamp }], `${e.type}: (data, envelope)`)
    t.equal(e.namespace, sent.namespace, `${e.type} arrives in its namespace`)
  }
  for (const e of users.admin!.ws!.inbox.events) {
    t.strictSame(Object.keys(JSON.parse(e.raw as string)), ['type', 'namespace', 'data', 'timestamp'], `${e.type}: envelope keys on WebSocket`)
  }
})

t.test('the exact envelope of the seed\'s order:created example on both transports', async (t) => {
  const server = await startServer({ config: pluginConfig() })
  t.teardown(() => server.close())
  const staff = await connectUser(server, { sub: 'staff-1', role: 'staff' }, { namespaces: ['orders'] })
  const data = { orderId: 'ORD-001', customerId: 'CUST-123', customerName: 'John Doe', total: 1500, status: 'pending', channel: 'online' }

  const before = Date.now()
  const res = await publish(server, { type: 'order:created', data, count: true })
  t.equal(res.status, 200)
  t.match(res.body, { type: 'order:created', namespace: 'orders', recipients: 1 })
  t.type(res.body.eventId, 'string')
  t.ok(res.body.timestamp >= before && res.body.timestamp <= Date.now(), 'timestamp is epoch ms of the publish')
  const envelope = { type: 'order:created', namespace: 'orders', data, timestamp: res.body.timestamp }

  const viaSocket = await staff.sio.until((e) => e.type === 'order:created')
  t.strictSame(viaSocket.raw, [data, envelope])
  const viaWs = await staff.ws!.inbox.until((e) => e.type === 'order:created')
  t.strictSame(JSON.parse(viaWs.raw as string), envelope)
})

t.test('a `*` listener sees every event: onAny on Socket.IO, the envelope type on WebSocket', async (t) => {
  const server = await startServer({ config: pluginConfig() })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'manager-1', tenantId: 'shop', role: 'manager' })
  const socket = await server.connect('/inventory', { token })

  // The seed's client: ws.on(type | '*', (data, event) => ...) fed by ws.handleMessage({ data }).
  const listeners = new Map<string, Array<(data: unknown, event: any) => void>>()
  const seedClient = {
    on (type: string, fn: (data: unknown, event: any) => void) { listeners.set(type, [...(listeners.get(type) ?? []), fn]) },
    handleMessage ({ data }: { data: string }) {
      const event = JSON.parse(data)
      for (const fn of [...(listeners.get(event.type) ?? []), ...(listeners.get('*') ?? [])]) fn(event.data, event)
    }
  }
  const ws = await openWs(server, { token, namespaces: ['inventory'] })
  ws.ws.on('message', (raw) => { seedClient.handleMessage({ data: (raw as Buffer).toString() }) })

  const metrics = { ws: { count: 0, types: new Set<string>() }, sio: { count: 0, types: new Set<string>() } }
  seedClient.on('*', (_data, event) => { metrics.ws.count++; metrics.ws.types.add(event.type) })
  socket.onAny((_type: string, _data: unknown, event: { type: string }) => { metrics.sio.count++; metrics.sio.types.add(event.type) })
  const lowStock: unknown[] = []
  seedClient.on('inventory:low_stock', (data) => { lowStock.push(data) })

  const all = samples('CUST-1')
  const sent = ['inventory:updated', 'inventory:low_stock', 'inventory:low_stock', 'inventory:restocked']
  for (const type of sent) t.equal((await publish(server, { type, data: all[type as keyof typeof all] })).status, 200)
  await ws.inbox.until((e) => e.type === 'inventory:restocked')
  await new Promise<void>((resolve) => { if (metrics.sio.types.has('inventory:restocked')) resolve(); else socket.on('inventory:restocked', () => { resolve() }) })

  t.same(metrics.ws, { count: 4, types: new Set(['inventory:updated', 'inventory:low_stock', 'inventory:restocked']) })
  t.same(metrics.sio, metrics.ws, 'the same counts on both transports')
  t.same(lowStock, [all['inventory:low_stock'], all['inventory:low_stock']], 'typed listeners get the payload')
  t.equal(ws.ws.readyState, WebSocket.OPEN)
})
