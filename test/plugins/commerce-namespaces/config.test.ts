import { readFileSync } from 'node:fs'
import t from 'tap'
import { startServer } from 'realtime-server/testing'
import { options } from '../../../plugins/commerce-namespaces/index.js'
import { seedMatrix } from '../../../plugins/commerce-namespaces/matrix.js'
import { ALL_NAMESPACES, connectUser, flush, pluginConfig, publish, samples, PLUGIN } from './support.test.js'

const all = samples('CUST-1')

t.test('the commerce back office protocol example config starts and serves the protocol', async (t) => {
  const config = JSON.parse(readFileSync(new URL('../../../config/examples/commerce-back-office.json', import.meta.url), 'utf8'))
  const server = await startServer({ config })
  t.teardown(() => server.close())

  const staff = await connectUser(server, { sub: 'staff-1', role: 'staff' })
  const customer = await connectUser(server, { sub: 'CUST-1', role: 'customer' })
  t.same([...staff.sockets.keys()], ALL_NAMESPACES, 'every namespace of the seed accepts connections')

  const created = await publish(server, { type: 'order:created', data: all['order:created'] })
  t.equal(created.status, 200)
  await publish(server, { type: 'order:status_changed', data: all['order:status_changed'] })
  await publish(server, { type: 'payment:received', data: all['payment:received'] })
  await flush(server, [staff, customer])

  const envelope = { type: 'order:created', namespace: 'orders', data: all['order:created'], timestamp: created.body.timestamp }
  const isCreated = (e: { type: string }): boolean => e.type === 'order:created'
  t.strictSame(staff.sio.events.find(isCreated)!.raw, [all['order:created'], envelope], 'Socket.IO handlers get (data, envelope)')
  t.strictSame(JSON.parse(staff.ws!.inbox.events.find(isCreated)!.raw as string), envelope, 'WebSocket clients get the envelope')
  // Only the types published here: the profile may also enable presence, whose customer:online reaches staff.
  const ours = (types: string[]): string[] => types.filter((x) => x.startsWith('order:') || x.startsWith('payment:')).sort()
  t.same(ours(staff.sio.types), ['order:created', 'order:status_changed'])
  t.same(ours(staff.ws!.inbox.types), ['order:created', 'order:status_changed'])
  t.same(ours(customer.sio.types), ['order:status_changed', 'payment:received'])
  t.same(ours(customer.ws!.inbox.types), ['order:status_changed', 'payment:received'])
})

t.test('the options default to the seed table, and a row overrides only the fields it names', async (t) => {
  const server = await startServer({
    config: pluginConfig({
      namespaces: [...ALL_NAMESPACES, 'warehouse'],
      matrix: { 'order:created': { roles: ['admin'] }, 'inventory:restocked': { namespace: 'warehouse' } }
    })
  })
  t.teardown(() => server.close())
  const staff = await connectUser(server, { sub: 'staff-1', role: 'staff' }, { namespaces: ['orders', 'inventory', 'warehouse'] })
  for (const type of ['order:created', 'order:updated', 'inventory:restocked'] as const) await publish(server, { type, data: all[type] })
  await flush(server, [staff])
  t.same(staff.sio.events.map((e) => `${e.namespace}/${e.type}`).sort(), ['orders/order:updated', 'warehouse/inventory:restocked'])
  t.same(staff.ws!.inbox.events.map((e) => `${e.namespace}/${e.type}`).sort(), ['orders/order:updated', 'warehouse/inventory:restocked'])

  t.equal(Object.keys(seedMatrix).length, 23, 'the table has the 23 types')
  const defaults = (options.properties.matrix.properties as Record<string, any>)['payment:failed']
  t.same([defaults.properties.roles.default, defaults.properties.ownerRoles.default], [['admin', 'manager', 'customer'], ['customer']])
})

t.test('inconsistent options stop start-up with the path of the bad key', async (t) => {
  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    ['namespaces leaving out the default rows\' namespaces', { namespaces: ['orders'] }, /^Invalid commerce-namespaces options: namespaces: leaves out "customers", "inventory", "products", "payments", "system", where the default matrix delivers 19 event types \(customer:activity, customer:viewing_product, \.\.\.\); add them to namespaces/],
    ['a row in an unknown namespace', { matrix: { 'order:created': { namespace: 'warehouse' } } }, /^Invalid commerce-namespaces options: matrix\.order:created\.namespace: "warehouse" is not in namespaces$/],
    ['owner roles outside roles', { matrix: { 'order:created': { ownerRoles: ['customer'] } } }, /matrix\.order:created\.ownerRoles: "customer" is not in roles/],
    ['owner roles on everyone', { matrix: { 'product:deleted': { roles: ['*'], ownerRoles: ['customer'] } } }, /matrix\.product:deleted\.ownerRoles: cannot restrict "\*"/],
    ['the WebSocket under the Socket.IO path', { websocket: { path: '/socket.io/commerce' } }, /websocket\.path: "\/socket\.io\/commerce" overlaps socketio\.path/],
    ['a bad path', { websocket: { path: 'ws' } }, /plugins\.commerce-namespaces\.options\.websocket\.path/],
    ['an unknown event type', { matrix: { 'order:shipped': { roles: ['admin'] } } }, /plugins\.commerce-namespaces\.options\.matrix\.order:shipped: is not an allowed property/],
    ['a bad namespace name', { namespaces: ['Orders!'] }, /plugins\.commerce-namespaces\.options\.namespaces\.0/]
  ]
  for (const [name, opts, message] of refused) {
    await t.rejects(startServer({ config: pluginConfig(opts) }), { message }, name)
  }
  await t.rejects(startServer({ config: pluginConfig({ namespaces: ['orders'] }) }), { code: 'RT_COMMERCE_CONFIG' }, 'the plugin\'s own error code')
})

t.test('the plugin name is its config key', async (t) => {
  t.equal(PLUGIN, 'commerce-namespaces')
  const { default: plugin } = await import('../../../plugins/commerce-namespaces/index.js')
  t.equal(plugin.definition.name, PLUGIN)
  t.type(plugin.definition.events, 'function', 'the catalog depends on the options (catalog.test.ts; the documents test covers the WebSocket messages it adds)')
})
