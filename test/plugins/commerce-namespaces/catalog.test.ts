// The event catalog and the plain-WebSocket message schemas tell the truth: what the plugin declares is what clients get.
import t from 'tap'
import { compile } from 'realtime-server'
import { startServer } from 'realtime-server/testing'
import { catalog, eventTypes, payloads } from '../../../plugins/commerce-namespaces/events.js'
import { options, type CommerceOptions } from '../../../plugins/commerce-namespaces/index.js'
import { clientMessages, eventMessages, serverMessages } from '../../../plugins/commerce-namespaces/websocket/messages.js'
import { ALL_NAMESPACES, flush, openWs, pluginConfig, publish, samples, TENANT } from './support.test.js'

const all = samples('CUST-1')

t.test('the catalog declares the 23 server events with their payloads, in the configured namespaces', async (t) => {
  const row = (namespace: string): CommerceOptions['matrix']['order:created'] => ({ namespace, roles: [], ownerRoles: [], targetRoles: false })
  const matrix = Object.fromEntries(eventTypes.map((type) => [type, row('orders')])) as CommerceOptions['matrix']
  const defaults = catalog({ namespaces: ALL_NAMESPACES, matrix: { ...matrix, 'product:deleted': row('products') } })
  t.same(Object.keys(defaults.server), eventTypes, 'every type, in the table order')
  for (const type of eventTypes) t.equal(defaults.server[type]!.payload, payloads[type], `${type}: the payload schema itself`)
  t.same(defaults.server['order:created']!.namespaces, ALL_NAMESPACES.map((n) => `/${n}`), 'any configured namespace: a publish may name one')
  t.match(defaults.server['product:deleted']!.description, /^Product removed\. Delivered in \/products unless/)

  const custom = catalog({ namespaces: ['orders', 'back-office'], matrix })
  t.same(custom.server['order:created']!.namespaces, ['/orders', '/back-office'])
  t.notOk('client' in custom, 'no client events: clients only connect and subscribe')
  t.match(options.properties.matrix.properties['order:created'], { description: 'New order placed' }, 'the matrix rows describe their event as the seed table does')
})

t.test('every message a WebSocket client gets matches its schema in messages.ts', async (t) => {
  const server = await startServer({ config: pluginConfig({}, { auth: { expiryGraceMs: 0 } }) })
  t.teardown(() => server.close())
  const ws = await openWs(server, { token: server.token({ sub: 'CUST-1', tenantId: TENANT, role: 'customer' }, { expiresIn: 2 }), namespaces: ['orders'] })
  const received: any[] = []
  ws.ws.on('message', (raw) => { received.push(JSON.parse(raw.toString())) })
  const closed = ws.closed

  await ws.request({ action: 'subscribe', namespaces: ['payments'] })
  await ws.request({ action: 'unsubscribe', namespaces: ['payments'] })
  await ws.request({ action: 'ping' })
  await ws.request({ action: 'session' })
  await ws.request({ action: 'refresh', token: 'garbage' })
  await ws.request({ action: 'refresh', token: server.token({ sub: 'CUST-1', tenantId: TENANT, role: 'customer' }, { expiresIn: 2 }) })
  await ws.request({ action: 'subscribe', namespaces: ['nope'] })
  ws.ws.send('not json')
  await ws.replies.until((e) => e.type === 'error' && e.envelope.id === undefined)
  await publish(server, { type: 'order:status_changed', data: all['order:status_changed'] })
  await flush(server, [{ name: 'CUST-1', namespaces: ['orders'], ws }])
  await ws.replies.until((e) => e.type === 'auth_expired')
  await closed

  const seen = new Set<string>()
  for (const message of received) {
    const schema = typeof message.namespace === 'string' ? eventMessages[message.type] : serverMessages[message.type as keyof typeof serverMessages]
    t.ok(schema !== undefined, `${String(message.type)} is declared`)
    t.same(compile(schema!).problems(message), [], `${String(message.type)} matches its schema`)
    seen.add(message.type)
  }
  t.same([...seen].filter((type) => type in serverMessages).sort(), Object.keys(serverMessages).sort(), 'every control message was seen')
  t.ok(seen.has('order:status_changed') && seen.has('system:maintenance'), 'and events')
  for (const [action, schema] of Object.entries(clientMessages)) t.equal(schema.properties.action.const, action, `${action} is keyed by its action`)
})
