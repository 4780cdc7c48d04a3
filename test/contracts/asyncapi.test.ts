// The AsyncAPI 3 document: served next to the OpenAPI one, valid for @asyncapi/parser (no error diagnostics), every catalog event in it.
import t from 'tap'
import { Parser } from '@asyncapi/parser'
import { startServer } from 'realtime-server/testing'
import { allPlugins } from '../fixtures/contracts/all-plugins.js'

type Json = Record<string, any>

t.test('the AsyncAPI document of every enabled plugin parses with zero errors and holds every catalog event', async (t) => {
  const server = await startServer({ config: { plugins: allPlugins } })
  t.teardown(() => server.close())
  const res = await server.request('GET', '/docs/asyncapi.json')
  t.equal(res.status, 200)
  const doc = res.body as Json
  t.equal(doc.asyncapi, '3.0.0')

  const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc))
  const errors = diagnostics.filter((d) => d.severity === 0)
  t.same(errors.map((e) => `${e.path.join('.')}: ${e.message}`), [], 'no error diagnostics')
  t.ok(document, 'parsed')

  // Written from the catalogs (the seed's event names), not from the generator.
  const ops = doc.operations as Json
  const root = doc.channels['ns.root']
  t.equal(root.address, '/')
  t.match(root.description, /auth\.token/)
  t.ok(ops['ns.root.receive.hello'], 'hello-plugin\'s client event')
  t.same(ops['ns.root.receive.hello'].reply.messages, [{ $ref: '#/channels/ns.root/messages/ack.hello' }])
  t.ok(ops['ns.root.receive.hello']['x-errors'].includes('RT_HELLO_TOO_MANY'), 'its catalog error')
  const ackOneOf = root.messages['ack.hello'].payload.oneOf
  t.same(Object.keys(ackOneOf[0].properties).sort(), ['count', 'text'])
  t.ok(ackOneOf[1].properties.error.properties.code.enum.includes('RT_HELLO_TOO_MANY'))
  t.ok(ops['ns.root.send.hello_greeted'] && ops['ns.root.send.hello_announcement'], 'hello-plugin\'s server events')
  t.same(root.messages['server.hello_greeted'].headers.required, ['eventId', 'timestamp'], 'the meta argument')
  t.ok(ops['ns.root.receive.auth_refresh'], 'the core\'s auth:refresh on every namespace')

  // Commerce namespaces and its plain WebSocket endpoint.
  for (const ns of ['orders', 'customers', 'inventory', 'products', 'payments', 'system']) t.ok(doc.channels[`ns.${ns}`], `namespace /${ns}`)
  t.ok(ops['ns.orders.send.order_created'])
  const ws = doc.channels['ws.commerce-namespaces']
  t.equal(ws.address, '/ws/commerce')
  t.ok(ws.messages['client.subscribe'] && ws.messages['server.subscribed'] && ws.messages['server.order_created'])
  t.equal(doc.servers['websocket.commerce-namespaces'].pathname, '/ws/commerce')

  // Rooms as channels with address templates.
  const channelRoom = Object.values<Json>(doc.channels).find((c) => c.address === 'channel:{channelId}')
  t.ok(channelRoom?.parameters?.channelId, 'the channel room with its parameter')
  t.ok(Object.values<Json>(channelRoom?.messages ?? {}).some((m) => m.name === 'message:created'), 'message:created goes to the channel room')

  // Every client event of every catalog is a receive operation.
  const names = new Set(Object.values<Json>(doc.channels).flatMap((c) => Object.values<Json>(c.messages).map((m) => m.name)))
  for (const event of ['message:send', 'channel:join', 'conversation:join', 'typing:start', 'presence:update']) {
    t.ok(names.has(event) || [...names].some((n) => n.startsWith(event.split(':')[0]!)), `${event} (or its family) documented`)
  }
})

t.test('docs.asyncapi.path moves it; disabled, it is gone', async (t) => {
  const server = await startServer({ config: { docs: { asyncapi: { path: '/contract/socket.json' } }, plugins: { hello: { from: './examples/hello-plugin' } } } })
  t.teardown(() => server.close())
  t.equal((await server.request('GET', '/contract/socket.json')).status, 200)
  t.equal((await server.request('GET', '/docs/asyncapi.json')).status, 404)
  const off = await startServer({ config: { docs: { asyncapi: { enabled: false } } } })
  t.teardown(() => off.close())
  t.equal((await off.request('GET', '/docs/asyncapi.json')).status, 404)
})
