import t from 'tap'
import { record, startServer, waitFor } from 'realtime-server/testing'

t.test('hello-plugin loads from its path and uses only the public API', async (t) => {
  const server = await startServer({ config: { plugins: { hello: { from: './examples/hello-plugin', options: { greeting: 'Hi' } } } } })
  t.teardown(() => server.close())
  const alice = await server.connect('/', { token: server.token({ sub: 'alice', tenantId: 'acme' }) })
  const bob = await server.connect('/', { token: server.token({ sub: 'bob', tenantId: 'acme' }) })
  const eve = await server.connect('/', { token: server.token({ sub: 'eve', tenantId: 'other' }) })
  const eveSaw = record(eve)
  const aliceSaw = record(alice, 'hello:greeted')

  const greeted = waitFor(bob, 'hello:greeted')
  const ack = await server.emitWithAck(alice, 'hello', { name: 'Ada' })
  t.same(ack, { text: 'Hi, Ada!', count: 1 })
  const [payload, meta] = await greeted
  t.same(payload, { name: 'Ada', text: 'Hi, Ada!', count: 1 })
  t.type(meta.eventId, 'string')
  t.type(meta.timestamp, 'number')

  const bad = await server.emitWithAck(alice, 'hello', { name: 42 })
  t.same(bad, { error: { code: 'RT_ERR_VALIDATION', message: 'Invalid payload: name: must be string', field: 'name' } })

  const announced = waitFor(alice, 'hello:announcement')
  const res = await server.request('POST', '/api/hello/announce', { apiKey: true, body: { tenantId: 'acme', text: 'up' } })
  t.equal(res.status, 200)
  t.equal(res.body.recipients, 2)
  t.same((await announced)[0], { text: 'up' })
  t.same(eveSaw, [], 'the other tenant saw nothing')
  t.same(aliceSaw, [], 'the sender was excluded')
})

t.test('hello-plugin answers its catalog error past the limit, and the tenant option refuses another tenant', async (t) => {
  const server = await startServer({ config: { plugins: { hello: { from: './examples/hello-plugin', options: { maxGreetingsPerTenant: 1 } } } } })
  t.teardown(() => server.close())
  const alice = await server.connect('/', { token: server.token({ sub: 'alice', tenantId: 'acme' }) })
  t.same(await server.emitWithAck(alice, 'hello', { name: 'Ada' }), { text: 'Hello, Ada!', count: 1 })
  t.same(await server.emitWithAck(alice, 'hello', { name: 'Bo' }), {
    error: { code: 'RT_HELLO_TOO_MANY', message: 'Too many greetings: tenant acme sent its 2' }
  }, 'the second greeting is refused with the plugin\'s catalog error')
  const missing = await server.request('POST', '/api/hello/announce', { apiKey: true, body: { text: 'up' } })
  t.match(missing, { status: 400, body: { code: 'RT_ERR_VALIDATION', field: 'tenantId' } }, 'an unbound key must name the tenant')
  const own = await server.request('POST', '/api/hello/announce', { token: server.token({ sub: 'boss', tenantId: 'acme', role: 'admin' }), body: { tenantId: 'other', text: 'up' } })
  t.match(own, { status: 403 }, 'a user token acts only in its own tenant')
})
