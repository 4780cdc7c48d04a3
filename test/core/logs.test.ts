// The log lines an operator reads: one per REST request with its catalog code, socket lives at debug, refusals and ignored events at info with their codes, the repeat window, oversized frames, pretty mode.
import t from 'tap'
import { once } from 'node:events'
import net from 'node:net'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { definePlugin, Type } from 'realtime-server'
import { captureLogs, eventually, startServer, waitFor } from 'realtime-server/testing'

const probe = { probe: { from: join(process.cwd(), 'test/fixtures/plugins/probe') } }
const DEBUG = 20
const INFO = 30
const ERROR = 50

const failing = definePlugin({
  name: 'failing',
  options: Type.Object({}),
  setup (app) {
    app.get('/boom', async () => { throw new Error('kaboom') })
    app.realtime.trigger('/echo', { body: Type.Object({ name: Type.String({ minLength: 1 }) }) }, async (request) => request.body)
  }
})

t.test('one line per REST request: method, route, status, ms, and the catalog code of an error answer', async (t) => {
  const logs = captureLogs()
  const server = await startServer({ config: { plugins: probe, server: { logLevel: 'debug' } }, plugins: [{ plugin: failing }], logStream: logs.stream })
  t.teardown(() => server.close())

  t.equal((await server.request('POST', '/api/failing/echo?token=query-secret', { apiKey: true, body: { name: 'Ada' } })).status, 200)
  t.equal((await server.request('POST', '/api/failing/echo', { apiKey: true, body: { name: '' } })).status, 400)
  t.equal((await server.request('GET', '/api/nowhere')).status, 404)
  t.equal((await server.request('POST', '/api/failing/echo', { body: { name: 'Ada' } })).status, 401)
  t.equal((await server.request('GET', '/api/failing/boom')).status, 500)
  t.equal((await server.request('GET', '/health')).status, 200)
  t.equal((await server.request('GET', '/api/%E0%A4%A/x')).status, 400, 'refused before routing (Fastify runs no onResponse hook there)')
  await eventually('six request lines', () => logs.find('request').length === 6)

  const [ok, invalid, missing, unauthorized, boom, unrouted] = logs.find('request')
  t.match(ok, { level: INFO, method: 'POST', url: '/api/failing/echo', route: '/api/failing/echo', status: 200, reqId: String })
  t.type(ok!.ms, 'number')
  t.notOk('code' in ok!, 'a success has no code')
  t.notOk(JSON.stringify(logs.lines).includes('query-secret'), 'the query string is never logged')
  t.match(invalid, { level: INFO, status: 400, code: 'RT_ERR_VALIDATION', field: 'name', reason: /Invalid payload/ })
  t.match(missing, { level: INFO, status: 404, url: '/api/nowhere', code: 'RT_ERR_NOT_FOUND', reason: 'Not found: no route GET /api/nowhere' })
  t.notOk('route' in missing!, 'no route pattern for an unknown route')
  t.match(unauthorized, { level: INFO, status: 401, code: 'RT_ERR_UNAUTHORIZED' })
  t.match(boom, { level: ERROR, status: 500, code: 'RT_ERR_INTERNAL', err: { message: 'kaboom', stack: /kaboom/ } })
  t.notOk(logs.lines.some((l) => l.url === '/health'), 'the probes log at warn and above only')
  t.match(unrouted, { level: INFO, status: 400, code: 'RT_ERR_BAD_REQUEST', reason: /percent-encoding/ })

  t.same(logs.lines.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed' || l.msg === 'request failed'), [], "Fastify's own request lines are off, and a failure is one line")
  const perRequest = new Map<string, number>()
  for (const l of logs.lines) if (l.reqId !== undefined) perRequest.set(l.reqId, (perRequest.get(l.reqId) ?? 0) + 1)
  t.same([...perRequest.values()], [1, 1, 1, 1, 1, 1], 'exactly one line per request')
})

t.test('a malformed HTTP request is one info line with its catalog code', async (t) => {
  const logs = captureLogs()
  const server = await startServer({ logStream: logs.stream, config: { server: { logLevel: 'info' } } })
  t.teardown(() => server.close())
  const socket = net.connect(server.port, '127.0.0.1')
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write('NOT AN HTTP REQUEST\r\n\r\n')
  socket.resume()
  await once(socket, 'close')
  const [line] = await eventually('the refusal is logged', () => { const l = logs.find('malformed request refused'); return l.length > 0 && l })
  t.match(line, { level: INFO, code: 'RT_ERR_BAD_REQUEST', status: 400 })
})

t.test('sockets: connect and disconnect at debug with user, tenant, namespace, transport and reason', async (t) => {
  const logs = captureLogs()
  const server = await startServer({ config: { plugins: probe, server: { logLevel: 'debug' } }, logStream: logs.stream })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const [connected] = await eventually('connection logged', () => { const l = logs.find('socket connected'); return l.length > 0 && l })
  t.match(connected, { level: DEBUG, nsp: '/', socketId: String, userId: 'u1', tenantId: 'acme', transport: 'websocket', ip: String })
  t.equal(connected!.socketId, socket.id)

  await server.emitWithAck(socket, 'probe:whoami', {})
  t.equal(logs.lines.filter((l) => l.socketId === socket.id).length, 1, 'a handled event writes nothing')
  socket.disconnect()
  const [gone] = await eventually('disconnection logged', () => { const l = logs.find('socket disconnected'); return l.length > 0 && l })
  t.match(gone, { level: DEBUG, nsp: '/', socketId: connected!.socketId, userId: 'u1', tenantId: 'acme', transport: 'websocket', reason: 'client namespace disconnect', durationMs: Number })
})

t.test('refused handshakes: one info line with the catalog code, whichever middleware refuses', async (t) => {
  const logs = captureLogs()
  const server = await startServer({ config: { plugins: probe, server: { logLevel: 'info' }, limits: { connections: { perUser: 1 } } }, logStream: logs.stream })
  t.teardown(() => server.close())
  await waitFor(server.client('/'), 'connect_error')
  await waitFor(server.client('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }, { secret: 'another-secret-0123456789' }) }), 'connect_error')
  await waitFor(server.client('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }, { expiresIn: -60 }) }), 'connect_error')
  await server.connect('/', { token: server.token({ sub: 'u2', tenantId: 'acme' }) })
  await waitFor(server.client('/', { token: server.token({ sub: 'u2', tenantId: 'acme' }) }), 'connect_error')

  const refused = await eventually('four refusals', () => { const l = logs.find('socket connection refused'); return l.length === 4 && l })
  const common = { level: INFO, nsp: '/', socketId: String, transport: 'websocket', ip: String }
  t.match(refused[0], { ...common, code: 'RT_ERR_AUTH_NO_TOKEN', reason: 'Authentication failed: No token provided' })
  t.match(refused[1], { ...common, code: 'RT_ERR_AUTH_INVALID_TOKEN', reason: 'Authentication failed: Invalid token', cause: /signature/ })
  t.match(refused[2], { ...common, code: 'RT_ERR_AUTH_TOKEN_EXPIRED' })
  t.match(refused[3], { ...common, code: 'RT_ERR_CONNECTION_LIMIT', userId: 'u2', tenantId: 'acme', reason: /Connection refused/ })
  t.notOk('userId' in refused[0]!, 'no user before the token is read')
})

t.test('the cool-off after a flood refuses with the same line, and the flood is a warn line', async (t) => {
  const logs = captureLogs()
  const server = await startServer({
    config: { plugins: probe, server: { logLevel: 'info' }, limits: { events: { socket: { rate: 0.001, burst: 2 }, flood: { refusals: 5, windowMs: 60000, coolOffMs: 60000 } } } },
    logStream: logs.stream
  })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'u1', tenantId: 'acme' })
  const socket = await server.connect('/', { token })
  const gone = waitFor(socket, 'disconnect')
  for (let i = 0; i < 20; i++) socket.emit('probe:strict', { name: 'a' })
  await gone
  await waitFor(server.client('/', { token }), 'connect_error')
  const [refused] = await eventually('the refusal is logged', () => { const l = logs.find('socket connection refused'); return l.length > 0 && l })
  t.match(refused, { level: INFO, code: 'RT_ERR_RATE_LIMITED', userId: 'u1', tenantId: 'acme', reason: /too soon after a disconnect for flooding/, transport: 'websocket' })
  t.match(logs.find('socket disconnected for flooding'), [{ level: 40, userId: 'u1', event: 'probe:strict' }])
})

t.test('events nothing handles: info with the code, once per socket within server.logRepeatMs, then the count left out', async (t) => {
  const logs = captureLogs()
  const server = await startServer({ config: { plugins: probe, server: { logLevel: 'info', logRepeatMs: 500 } }, logStream: logs.stream })
  t.teardown(() => server.close())
  const a = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const b = await server.connect('/', { token: server.token({ sub: 'u2', tenantId: 'acme' }) })
  const started = Date.now()
  for (let i = 0; i < 200; i++) a.emit('dance', i)
  t.match(await server.emitWithAck(a, 'x'.repeat(10_000)), { error: { code: 'RT_ERR_UNKNOWN_EVENT' } }, 'still answered')
  t.match(await server.emitWithAck(b, 'probe:whoamI', {}), { error: { code: 'RT_ERR_UNKNOWN_EVENT' } })
  const storm = Date.now() - started
  const lines = logs.find('client event nothing handles')
  if (storm < 500) {
    t.equal(lines.filter((l) => l.socketId === a.id).length, 1, `201 events within the window: one line (${storm} ms)`)
  }
  t.match(lines.find((l) => l.socketId === a.id), { level: INFO, code: 'RT_ERR_UNKNOWN_EVENT', event: 'dance', ack: false, repeated: 0, userId: 'u1', tenantId: 'acme', nsp: '/' })
  t.match(lines.find((l) => l.socketId === b.id), { code: 'RT_ERR_UNKNOWN_EVENT', event: 'probe:whoamI', ack: true, repeated: 0 }, 'each socket has its own window')

  // After the window, the next one is written with the count of those left out.
  const next = await eventually('a line after the window', async () => {
    await server.emitWithAck(a, 'x'.repeat(10_000))
    return logs.find('client event nothing handles').filter((l) => l.socketId === a.id)[1]
  }, { intervalMs: 100 })
  t.ok(next.repeated >= 200, `repeated counts what was left out (${next.repeated})`)
  t.ok(next.event.length < 110, 'a huge event name is cut')
})

t.test('a frame over socketio.maxHttpBufferSize closes the connection and is logged as RT_ERR_FRAME_TOO_LARGE', async (t) => {
  const logs = captureLogs()
  const server = await startServer({ config: { plugins: probe, server: { logLevel: 'info' }, socketio: { maxHttpBufferSize: 2048 } }, logStream: logs.stream })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'u1', tenantId: 'acme' })
  const socket = await server.connect('/', { token })
  const socketId = socket.id
  const closed = waitFor(socket, 'disconnect')
  socket.emit('probe:whoami', { pad: 'x'.repeat(4096) })
  const [reason] = await closed
  t.equal(reason, 'transport close', 'the client sees its transport close (and reconnects)')
  const [line] = await eventually('logged', () => { const l = logs.find('connection closed: frame too large'); return l.length > 0 && l })
  t.match(line, { level: INFO, code: 'RT_ERR_FRAME_TOO_LARGE', limit: 2048, userId: 'u1', tenantId: 'acme', transport: 'websocket', socketId })
  t.equal(logs.find('connection closed: frame too large').length, 1, 'once per connection')
})

t.test('server.logPretty writes pino-pretty lines instead of JSON', async (t) => {
  let text = ''
  const stream = new Writable({ write (chunk, _e, cb) { text += chunk.toString(); cb() } })
  const server = await startServer({ config: { server: { logLevel: 'info', logPretty: true } }, logStream: stream })
  await server.request('GET', '/api/nowhere')
  await server.close()
  t.match(text, /INFO.*: request/)
  t.match(text, /code: "RT_ERR_NOT_FOUND"/)
  t.notOk(text.split('\n').some((l) => l.startsWith('{')), 'no JSON line')
})

t.test('on the pinned Socket.IO, Engine.IO and ws every patch of their internals is on: no warning at start-up or at the first connection', async (t) => {
  const logs = captureLogs()
  const server = await startServer({ config: { plugins: probe, server: { logLevel: 'info' } }, logStream: logs.stream })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  t.match(await server.emitWithAck(socket, 'probe:whoami', {}), { userId: 'u1' }, 'the connection works')
  const warnings = logs.lines.filter((l) => l.level >= 40)
  t.same(warnings.map((l) => l.msg), [], 'a patch that steps aside names itself here (shared-listeners, handshake-query, shared-strings, event-table, fast broadcast)')
})
