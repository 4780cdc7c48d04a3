import t from 'tap'
import { definePlugin, Type } from 'realtime-server'
import { startServer } from 'realtime-server/testing'
import type { CommerceEvents } from '../../../plugins/commerce-namespaces/index.js'
import { connectUser, flush, pluginConfig, publish, samples, PLUGIN } from './support.test.js'

const all = samples('CUST-1')

t.test('invalid triggers get 400 naming the field, and publish nothing', async (t) => {
  const server = await startServer({ config: pluginConfig() })
  t.teardown(() => server.close())
  const admin = await connectUser(server, { sub: 'admin-1', role: 'admin' })

  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['unknown type', { type: 'order:shipped', data: {} }, 'type', /^Invalid payload: type: must be one of: order:created, /],
    ['no data', { type: 'order:created' }, 'data', /data: is required/],
    ['data not an object', { type: 'order:created', data: 'ORD-1' }, 'data', /data: must be object/],
    ['missing field', { type: 'order:created', data: { ...all['order:created'], customerId: undefined } }, 'data.customerId', /data\.customerId: is required/],
    ['bad OrderStatus', { type: 'order:status_changed', data: { ...all['order:status_changed'], newStatus: 'lost' } }, 'data.newStatus', /must be one of: pending, confirmed, processing/],
    ['bad severity', { type: 'inventory:low_stock', data: { ...all['inventory:low_stock'], severity: 'medium' } }, 'data.severity', /must be one of: low, critical/],
    ['bad reason', { type: 'inventory:updated', data: { ...all['inventory:updated'], reason: 'theft' } }, 'data.reason', /must be one of: sale, restock, adjustment, return/],
    ['bad action', { type: 'customer:activity', data: { ...all['customer:activity'], action: 'dancing' } }, 'data.action', /must be one of: viewing, cart_add/],
    ['bad payment status', { type: 'payment:received', data: { ...all['payment:received'], status: 'maybe' } }, 'data.status', /must be one of: success, pending, failed/],
    ['bad notification severity', { type: 'system:notification', data: { title: 't', message: 'm', severity: 'fatal' } }, 'data.severity', /must be one of: info, warning, error, success/],
    ['unknown target role', { type: 'system:alert', data: { title: 't', message: 'm', severity: 'info', targetRoles: ['root'] } }, 'data.targetRoles.0', /must be one of: admin, manager, staff, customer/],
    ['wrong type', { type: 'payment:failed', data: { ...all['payment:failed'], retryable: 'yes' } }, 'data.retryable', /must be boolean/],
    ['negative amount', { type: 'payment:refunded', data: { ...all['payment:refunded'], amount: -5 } }, 'data.amount', /must be >= 0/],
    ['unknown property', { type: 'product:deleted', data: { productId: 'P1', colour: 'red' } }, 'data.colour', /is not an allowed property/],
    ['empty roles', { type: 'product:deleted', data: { productId: 'P1' }, roles: [] }, 'roles', /must not have fewer than 1 items/i],
    ['unknown option', { type: 'product:deleted', data: { productId: 'P1' }, rooms: ['x'] }, 'rooms', /is not an allowed property/]
  ]
  for (const [name, body, field, message] of cases) {
    const res = await publish(server, body)
    t.equal(res.status, 400, `${name}: 400`)
    t.equal(res.body.code, 'RT_ERR_VALIDATION', `${name}: code`)
    t.equal(res.body.field, field, `${name}: names ${field}`)
    t.match(res.body.message, message, `${name}: message`)
  }

  const unknownNs = await publish(server, { type: 'product:deleted', data: { productId: 'P1' }, namespace: 'warehouse' })
  t.equal(unknownNs.status, 400)
  t.match(unknownNs.body, { code: 'RT_COMMERCE_UNKNOWN_NAMESPACE', field: 'namespace', message: 'Unknown namespace warehouse (configured: orders, customers, inventory, products, payments, system)' })

  const anonymous = await server.request('POST', `/api/${PLUGIN}/events`, { body: { tenantId: 'shop', type: 'product:deleted', data: { productId: 'P1' } } })
  t.equal(anonymous.status, 401)
  const noTenant = await server.request('POST', `/api/${PLUGIN}/events`, { apiKey: true, body: { type: 'product:deleted', data: { productId: 'P1' } } })
  t.equal(noTenant.status, 400)
  t.equal(noTenant.body.field, 'tenantId')

  await flush(server, [admin])
  t.same(admin.sio.events, [], 'nothing was published on Socket.IO')
  t.same(admin.ws!.inbox.events, [], 'nor on WebSocket')
})

t.test('plugins that depend on commerce-namespaces publish through its service', async (t) => {
  let commerce: CommerceEvents | undefined
  const consumer = definePlugin({
    name: 'shop-backend',
    dependencies: [PLUGIN],
    options: Type.Object({}),
    setup (app) { commerce = app.realtime.use(PLUGIN) }
  })
  const server = await startServer({ config: pluginConfig(), plugins: [{ plugin: consumer }] })
  t.teardown(() => server.close())
  const customer = await connectUser(server, { sub: 'CUST-1', role: 'customer' }, { namespaces: ['payments'] })

  t.same(commerce!.namespaces, ['orders', 'customers', 'inventory', 'products', 'payments', 'system'])
  const out = await commerce!.publish('shop', 'payment:received', all['payment:received'] as any, { count: true })
  t.match(out, { type: 'payment:received', namespace: 'payments', recipients: 1 })
  const got = await customer.ws!.inbox.until((e) => e.type === 'payment:received')
  t.strictSame(got.envelope, { type: 'payment:received', namespace: 'payments', data: all['payment:received'], timestamp: out.timestamp })

  await t.rejects(commerce!.publish('shop', 'payment:received', { ...all['payment:received'], amount: 'lots' } as any), { code: 'RT_ERR_VALIDATION', field: 'data.amount' })
  await t.rejects(commerce!.publish('shop', 'cart:abandoned' as any, {} as any), { code: 'RT_ERR_VALIDATION', field: 'type' })
  await t.rejects(commerce!.publish('shop', 'product:deleted', { productId: 'P1' }, { namespace: 'nope' }), { code: 'RT_COMMERCE_UNKNOWN_NAMESPACE' })
  t.match(await commerce!.publish('shop', 'product:deleted', { productId: 'P1' }, { userIds: [], count: true }), { recipients: 0 }, 'an empty userIds list reaches nobody')
  await flush(server, [customer])
  t.same(customer.sio.types, ['payment:received'], 'the rejected and empty publishes delivered nothing')
})
