import t from 'tap'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { io } from 'socket.io-client'
import { deleteRedisPrefix, eventually, signToken, spawnServer, startServer, TEST_API_KEY, waitFor } from 'realtime-server/testing'

const probe = { probe: { from: join(process.cwd(), 'test/fixtures/plugins/probe') } }

t.setTimeout(10 * 60_000) // server processes started from the TypeScript sources, on a loaded machine; nothing here measures time

t.test('health and readiness', async (t) => {
  const server = await startServer({ config: { plugins: probe } })
  t.same((await server.request('GET', '/health')).body, { status: 'ok' })
  t.same(await server.request('GET', '/ready'), { status: 200, body: { status: 'ready' } })
  await server.close()
})

t.test('SIGTERM: /ready turns 503 while /health stays 200, sockets close after the drain, Redis after them, exit 0', async (t) => {
  const prefix = `test-shutdown-${randomUUID().slice(0, 8)}`
  t.teardown(async () => { await deleteRedisPrefix(prefix) })
  const node = await spawnServer({ plugins: probe, shutdown: { drainDelayMs: 1500 } }, { redisPrefix: prefix })
  // Listening comes first; ready follows once the adapter's readers know where they start (and Redis answers).
  await eventually('the node is ready', async () => (await fetch(`${node.url}/ready`)).status === 200, { timeoutMs: 30_000 })
  const socket = io(node.url, { transports: ['websocket'], reconnection: false, auth: { token: signToken({ sub: 'u', tenantId: 't' }) } })
  await waitFor(socket as any, 'connect')
  const disconnected = waitFor(socket as any, 'disconnect', { timeoutMs: 15_000 })

  node.child.kill('SIGTERM')
  let ready = 200
  for (let i = 0; i < 50 && ready === 200; i++) ready = (await fetch(`${node.url}/ready`)).status
  t.equal(ready, 503, '/ready answers 503 while draining')
  t.equal((await fetch(`${node.url}/health`)).status, 200, '/health stays 200 while draining (liveness)')
  t.ok(socket.connected, 'sockets stay connected during the drain delay')
  const [reason] = await disconnected
  t.equal(reason, 'transport close', 'clients see a transport close, so they reconnect (to another node)')
  t.equal(await node.exited, 0, 'exit code 0')
  // The shutdown lines come in the order of what happens: signal, drain, listener, sockets, Redis, exit.
  const order = ['shutting down', 'draining', 'listener closed', 'sockets closed', 'redis closed', 'closed']
  const shutdown = node.logs.filter((l) => order.includes(l.msg))
  t.same(shutdown.map((l) => l.msg), order, 'each shutdown line once, in the order of events')
  t.match(shutdown, [{ signal: 'SIGTERM' }, { delayMs: 1500 }, {}, { connections: 1 }, {}, {}])
  t.ok(shutdown.every((l, i) => i === 0 || l.time >= shutdown[i - 1]!.time), 'timestamps agree')
})

t.test('secrets never reach the log', async (t) => {
  const lines: string[] = []
  const logStream = new Writable({ write (chunk, _e, cb) { lines.push(chunk.toString()); cb() } })
  const server = await startServer({ config: { plugins: probe, server: { logLevel: 'trace' } }, logStream })
  const token = server.token({ sub: 'u', tenantId: 't', role: 'service' })
  const badToken = signToken({ sub: 'u', tenantId: 't' }, { secret: 'attacker-secret' })
  await server.connect('/', { token })
  await waitFor(server.client('/', { token: badToken }), 'connect_error')
  await server.request('POST', '/api/probe/publish', { apiKey: true, body: { tenantId: 't', event: 'e', payload: {} } })
  await server.request('POST', '/api/probe/publish', { token, body: { tenantId: 't', event: 'e', payload: {} } })
  await server.request('POST', '/api/probe/publish', { apiKey: 'wrong-but-secret-key-123', body: {} })
  server.app.log.info({ token, apiKey: TEST_API_KEY, headers: { authorization: `Bearer ${token}` }, auth: { token } }, 'explicit')
  await server.close()
  const all = lines.join('')
  t.ok(lines.length > 3, `trace logging produced lines (${lines.length})`)
  for (const secret of [token, badToken, TEST_API_KEY, 'wrong-but-secret-key-123']) t.notOk(all.includes(secret), 'a secret was logged')
  t.match(all, /\[redacted\]/)
})

t.test('a bad config stops the process with the key named', async (t) => {
  const node = spawnServer({ socketio: { pingInterval: 'often' } })
  await t.rejects(node, /server exited \(78\) before listening: .*socketio\.pingInterval: must be integer/)
  const prod = spawnServer({ auth: { jwt: { secret: undefined } } }, { env: { NODE_ENV: 'production', JWT_SECRET: '' } })
  await t.rejects(prod, /auth\.jwt: no key configured/)
})
