// Event rate limits through real clients: per socket, per event, auth:refresh, flood disconnect, user and tenant buckets (memory and Redis).
import t from 'tap'
import { eventually, startServer, waitFor, type TestServer } from 'realtime-server/testing'

const probe = { from: './test/fixtures/plugins/probe' }
/** A refill so slow that nothing refills during a test: only the burst passes. */
const SLOW = 0.001

t.test('per socket: the burst passes, the next event gets RT_ERR_RATE_LIMITED with retryAfterMs, other sockets keep theirs', async (t) => {
  const server = await startServer({ config: { plugins: { probe }, limits: { events: { socket: { rate: SLOW, burst: 3 }, flood: { refusals: 0 } } } } })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'u1', tenantId: 'acme' })
  const socket = await server.connect('/', { token })
  const other = await server.connect('/', { token })
  for (let i = 0; i < 3; i++) t.same(await server.emitWithAck(socket, 'probe:strict', { name: 'a' }), { accepted: true })
  const refused = await server.emitWithAck(socket, 'probe:strict', { name: 'a' })
  t.match(refused, { error: { code: 'RT_ERR_RATE_LIMITED', message: /^Rate limit exceeded: probe:strict, retry in \d+ ms$/ } })
  t.ok(refused.error.retryAfterMs > 0, 'retryAfterMs says when to retry')
  t.same(Object.keys(refused.error).sort(), ['code', 'message', 'retryAfterMs'])
  t.match(await server.emitWithAck(socket, 'probe:whoami', {}), { error: { code: 'RT_ERR_RATE_LIMITED' } }, 'every event of the socket counts in its bucket')
  t.same(await server.emitWithAck(other, 'probe:strict', { name: 'a' }), { accepted: true }, 'another socket of the same user has its own bucket')

  // Without ack: an `error` event, once per retry period.
  const errors: any[] = []
  socket.on('error', (e: any) => errors.push(e))
  socket.emit('probe:strict', { name: 'a' })
  socket.emit('probe:strict', { name: 'a' })
  await server.emitWithAck(socket, 'probe:whoami', {}) // answered after the two above
  t.equal(errors.length, 1, 'one error event for refusals within the retry period')
  t.match(errors[0], { code: 'RT_ERR_RATE_LIMITED', event: 'probe:strict', retryAfterMs: Number })
  t.ok(socket.connected, 'refusals alone do not disconnect when flood.refusals is 0')
})

t.test('auth:refresh counts too', async (t) => {
  const server = await startServer({ config: { plugins: { probe }, limits: { events: { socket: { rate: SLOW, burst: 1 }, flood: { refusals: 0 } } } } })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'u1', tenantId: 'acme' })
  const socket = await server.connect('/', { token })
  t.same(await server.emitWithAck(socket, 'probe:strict', { name: 'a' }), { accepted: true })
  t.match(await server.emitWithAck(socket, 'auth:refresh', { token }), { error: { code: 'RT_ERR_RATE_LIMITED', message: /auth:refresh/ } })
})

t.test('per event: plugins.<name>.limits.events gives an event its own bucket; rate 0 exempts it', async (t) => {
  const server = await startServer({
    config: {
      plugins: { probe: { ...probe, limits: { events: { 'probe:strict': { rate: SLOW, burst: 1 }, 'probe:whoami': { rate: 0 } } } } },
      limits: { events: { socket: { rate: SLOW, burst: 2 }, flood: { refusals: 0 } } }
    }
  })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  t.same(await server.emitWithAck(socket, 'probe:strict', { name: 'a' }), { accepted: true })
  t.match(await server.emitWithAck(socket, 'probe:strict', { name: 'a' }), { error: { code: 'RT_ERR_RATE_LIMITED' } }, 'its own bucket of 1')
  for (let i = 0; i < 5; i++) t.match(await server.emitWithAck(socket, 'probe:whoami', {}), { userId: 'u1' }, 'rate 0: not limited')
  t.same(await server.emitWithAck(socket, 'probe:hit', {}), { hits: 1 }, 'the shared bucket was not used by the others')
  t.same(await server.emitWithAck(socket, 'probe:hit', {}), { hits: 2 })
  t.match(await server.emitWithAck(socket, 'probe:hit', {}), { error: { code: 'RT_ERR_RATE_LIMITED' } })
})

t.test('a per-event limit on an event the plugin does not have stops the server, naming the key', async (t) => {
  await t.rejects(startServer({ config: { plugins: { probe: { ...probe, limits: { events: { 'probe:nope': { rate: 1 } } } } } } }),
    { code: 'RT_ERR_CONFIG', message: /plugins\.probe\.limits\.events\.probe:nope: "probe" has no client event "probe:nope" \(its events: .*probe:strict/ })
  await t.rejects(startServer({ config: { plugins: { probe: { ...probe, limits: { events: { 'probe:strict': { rate: -1 } } } } } } }), /plugins\.probe\.limits\.events\.probe:strict\.rate/)
  await t.rejects(startServer({ config: { limits: { events: { socket: { burst: 0 } } } } }), /limits\.events\.socket\.burst/)
})

t.test('a client that keeps flooding gets RT_ERR_FLOOD and is disconnected (io server disconnect)', async (t) => {
  const server = await startServer({ config: { plugins: { probe }, limits: { events: { socket: { rate: SLOW, burst: 2 }, flood: { refusals: 5, windowMs: 60000 } } } } })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const flood = waitFor(socket, 'error', { filter: (e) => e.code === 'RT_ERR_FLOOD' })
  const gone = waitFor(socket, 'disconnect')
  for (let i = 0; i < 20; i++) socket.emit('probe:strict', { name: 'a' })
  const [error] = await flood
  t.match(error, { code: 'RT_ERR_FLOOD', message: 'Disconnected for flooding: events refused 5 times within 60000 ms', event: 'probe:strict' })
  t.equal((await gone)[0], 'io server disconnect')
})

/** Connects as the token's user and sends past the limit until the server disconnects the socket for flooding. */
async function floodUntilDisconnected (server: TestServer, token: string): Promise<void> {
  const socket = await server.connect('/', { token })
  const gone = waitFor(socket, 'disconnect')
  for (let i = 0; i < 20; i++) socket.emit('probe:strict', { name: 'a' })
  await gone
}

t.test('after a flood disconnect the user cools off: new connections refused RT_ERR_RATE_LIMITED, others and later ones admitted', async (t) => {
  const coolOffMs = 1500
  const server = await startServer({ config: { plugins: { probe }, limits: { events: { socket: { rate: SLOW, burst: 2 }, flood: { refusals: 5, windowMs: 60000, coolOffMs } } } } })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'u1', tenantId: 'acme' })
  await floodUntilDisconnected(server, token)
  const refusedAt = Date.now()
  const again = server.client('/', { token, reconnection: false })
  t.teardown(() => again.disconnect())
  const [err] = await waitFor(again, 'connect_error') as [Error & { data: { code: string, reason: string, retryAfterMs: number } }]
  t.match(err.message, /^Rate limit exceeded: reconnected \d+ s too soon after a disconnect for flooding$/)
  t.match(err.data, { code: 'RT_ERR_RATE_LIMITED', reason: 'connection_limit' })
  t.ok(err.data.retryAfterMs > 0 && err.data.retryAfterMs <= coolOffMs, `retryAfterMs ${err.data.retryAfterMs} within the cool-off`)
  t.ok((await server.connect('/', { token: server.token({ sub: 'u2', tenantId: 'acme' }) })).connected, 'another user is admitted')
  t.ok((await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'other' }) })).connected, 'the same user id in another tenant is admitted')
  const later = await eventually('admitted after the cool-off', async () => await server.connect('/', { token, reconnection: false }).catch(() => undefined), { timeoutMs: 30000 })
  t.ok(later.connected)
  t.ok(Date.now() - refusedAt >= coolOffMs - 1000, 'not admitted long before the cool-off ends')
})

t.test('flood.coolOffMs 0: a flooder may reconnect at once', async (t) => {
  const server = await startServer({ config: { plugins: { probe }, limits: { events: { socket: { rate: SLOW, burst: 2 }, flood: { refusals: 5, coolOffMs: 0 } } } } })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'u1', tenantId: 'acme' })
  await floodUntilDisconnected(server, token)
  t.ok((await server.connect('/', { token, reconnection: false })).connected)
})

t.test('user and tenant buckets in memory: counted over the sockets of a user, and of a tenant', async (t) => {
  const server = await startServer({ config: { plugins: { probe }, limits: { events: { user: { rate: SLOW, burst: 2 }, tenant: { rate: SLOW, burst: 3 }, flood: { refusals: 0 } } } } })
  t.teardown(() => server.close())
  const a1 = await server.connect('/', { token: server.token({ sub: 'a', tenantId: 'acme' }) })
  const a2 = await server.connect('/', { token: server.token({ sub: 'a', tenantId: 'acme' }) })
  const b = await server.connect('/', { token: server.token({ sub: 'b', tenantId: 'acme' }) })
  const c = await server.connect('/', { token: server.token({ sub: 'c', tenantId: 'other' }) })
  t.same(await server.emitWithAck(a1, 'probe:strict', { name: 'a' }), { accepted: true })
  t.same(await server.emitWithAck(a2, 'probe:strict', { name: 'a' }), { accepted: true })
  t.match(await server.emitWithAck(a1, 'probe:strict', { name: 'a' }), { error: { code: 'RT_ERR_RATE_LIMITED' } }, 'the user\'s 2 are spent over both sockets')
  t.same(await server.emitWithAck(b, 'probe:strict', { name: 'a' }), { accepted: true }, 'another user of the tenant: the tenant\'s third')
  t.match(await server.emitWithAck(b, 'probe:strict', { name: 'a' }), { error: { code: 'RT_ERR_RATE_LIMITED' } }, 'the tenant\'s 3 are spent')
  t.same(await server.emitWithAck(c, 'probe:strict', { name: 'a' }), { accepted: true }, 'another tenant is not affected')
})

t.test('user and tenant buckets with Redis are counted across nodes', async (t) => {
  const config = { plugins: { probe }, limits: { events: { user: { rate: SLOW, burst: 2 }, tenant: { rate: SLOW, burst: 3 }, flood: { refusals: 0 } } } }
  const one = await startServer({ config, redis: true })
  t.teardown(() => one.close())
  const two = await startServer({ config, redis: one.keyPrefix! })
  t.teardown(() => two.close())
  const a1 = await one.connect('/', { token: one.token({ sub: 'a', tenantId: 'acme' }) })
  const a2 = await two.connect('/', { token: two.token({ sub: 'a', tenantId: 'acme' }) })
  const b = await two.connect('/', { token: two.token({ sub: 'b', tenantId: 'acme' }) })
  const c = await one.connect('/', { token: one.token({ sub: 'c', tenantId: 'other' }) })
  t.same(await one.emitWithAck(a1, 'probe:strict', { name: 'a' }), { accepted: true })
  t.same(await two.emitWithAck(a2, 'probe:strict', { name: 'a' }), { accepted: true })
  const refused = await one.emitWithAck(a1, 'probe:strict', { name: 'a' })
  t.match(refused, { error: { code: 'RT_ERR_RATE_LIMITED', retryAfterMs: Number } }, 'the user\'s 2 are spent over both nodes')
  t.match(await one.emitWithAck(a1, 'probe:whoami', {}), { error: { code: 'RT_ERR_RATE_LIMITED' } }, 'refused again (from the node\'s memory of the refusal)')
  t.same(await two.emitWithAck(b, 'probe:strict', { name: 'a' }), { accepted: true })
  t.match(await two.emitWithAck(b, 'probe:strict', { name: 'a' }), { error: { code: 'RT_ERR_RATE_LIMITED' } }, 'the tenant\'s 3 are spent over both nodes')
  t.same(await one.emitWithAck(c, 'probe:strict', { name: 'a' }), { accepted: true }, 'another tenant is not affected')
})

t.test('the defaults leave ordinary traffic alone', async (t) => {
  const server = await startServer({ config: { plugins: { probe } } })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const answers = await Promise.all(Array.from({ length: 150 }, async () => await server.emitWithAck(socket, 'probe:strict', { name: 'a' })))
  t.equal(answers.filter((a) => a.accepted === true).length, 150, '150 events at once pass (burst 200)')
  t.equal(server.config.limits.events.socket.rate, 100)
})
