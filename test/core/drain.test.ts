// Shutdown over HTTP: keep-alive clients hammering through a SIGTERM get answers (200, or 503 RT_ERR_NOT_READY + Connection: close), never a reset on an established connection.
import t from 'tap'
import { Agent, request as httpRequest } from 'node:http'
import { once } from 'node:events'
import net, { type Socket } from 'node:net'
import { setImmediate as tick } from 'node:timers/promises'
import { join } from 'node:path'
import { spawnServer, startServer, TEST_API_KEY } from 'realtime-server/testing'
import { kCore, type Core } from '../../src/core/core.js'
import { drainAndClose } from '../../src/core/drain.js'

const probe = { probe: { from: join(process.cwd(), 'test/fixtures/plugins/probe') } }

interface Outcome {
  status?: number
  headers?: Record<string, string | string[] | undefined>
  body?: any
  error?: string
  method?: string
  /** Whether the request went out on a connection that had already carried one (keep-alive reuse). */
  reused: boolean
}

/** Connections that already carried an answer: a request sent on one of them is on an established keep-alive connection. */
const answered = new WeakSet<Socket>()

/**
 * One request through the agent, resolved with what came back or how it failed (never rejects). Reuse is
 * tracked here: Node's `req.reusedSocket` stays false for requests that waited in the agent's queue.
 */
async function send (agent: Agent, port: number, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Outcome> {
  return await new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    let reused = false
    let conn: Socket | undefined
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method,
      path,
      agent,
      headers: { 'x-api-key': TEST_API_KEY, ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        if (conn !== undefined) answered.add(conn)
        let parsed: unknown
        try { parsed = JSON.parse(Buffer.concat(chunks).toString()) } catch { parsed = Buffer.concat(chunks).toString() }
        resolve({ status: res.statusCode, headers: res.headers, body: parsed, reused })
      })
      res.on('error', (err: NodeJS.ErrnoException) => { resolve({ error: err.code ?? err.message, reused }) })
    })
    req.on('socket', (socket) => {
      conn = socket
      reused = answered.has(socket)
    })
    req.on('error', (err: NodeJS.ErrnoException) => { resolve({ error: err.code ?? err.message, reused }) })
    req.end(payload)
  })
}

t.test('keep-alive clients hammering through SIGTERM get only answers, then a refused connection; exit 0', async (t) => {
  const node = await spawnServer({ plugins: probe, shutdown: { drainDelayMs: 1000 } })
  t.teardown(async () => { await node.stop('SIGKILL') })
  const agent = new Agent({ keepAlive: true, maxSockets: 6 })
  t.teardown(() => { agent.destroy() })

  const outcomes: Outcome[] = []
  let reused200 = 0
  let warm: () => void
  const warmedUp = new Promise<void>((resolve) => { warm = resolve })
  let stop = false
  let termAt = -1
  const worker = async (i: number): Promise<string | undefined> => {
    while (!stop) {
      const o = i % 2 === 0
        ? await send(agent, node.port, 'GET', '/api/probe/stats')
        : await send(agent, node.port, 'POST', '/api/probe/publish', { tenantId: 't', event: 'e', payload: { i } })
      outcomes.push({ ...o, method: i % 2 === 0 ? 'GET' : 'POST' })
      if (o.status === 200 && o.reused && ++reused200 === 50) warm()
      // A refused connection is the end: the listener is closed, nothing was sent.
      if (o.error === 'ECONNREFUSED') return o.error
    }
    return undefined
  }
  const workers = Array.from({ length: 12 }, async (_, i) => await worker(i))

  // Signal once keep-alive connections are being reused, so the drain meets established connections mid-stream.
  await warmedUp
  termAt = outcomes.length
  node.child.kill('SIGTERM')

  t.equal(await node.exited, 0, 'exit code 0')
  const ends = await Promise.race([
    Promise.all(workers),
    new Promise<'stuck'>((resolve) => { setTimeout(resolve, 20_000, 'stuck').unref() })
  ])
  stop = true
  t.not(ends, 'stuck', 'every client ends on a refused connection once the process is gone')

  const after = outcomes.slice(termAt)
  const failedOnReuse = outcomes.filter((o) => o.error !== undefined && o.reused)
  t.same(failedOnReuse, [], 'no request on an established (reused) connection failed: no ECONNRESET, no socket hang up')
  const otherErrors = outcomes.filter((o) => o.error !== undefined && !o.reused && o.error !== 'ECONNREFUSED')
  // A connection the kernel completed in the instant the listener closed is reset by the kernel: it is new, no request was read.
  t.ok(otherErrors.every((o) => o.error === 'ECONNRESET' || o.error === 'EPIPE'), `new connections are refused, at worst reset at the closing instant (${otherErrors.length})`)
  t.same([...new Set(outcomes.filter((o) => o.status !== undefined).map((o) => o.status))].sort(), [200, 503], 'statuses: 200 before, 503 while draining')

  const unavailable = after.filter((o) => o.status === 503)
  t.ok(unavailable.length > 0, `the drain answered (${unavailable.length} × 503)`)
  for (const o of unavailable) {
    if (o.body?.code !== 'RT_ERR_NOT_READY' || o.headers?.connection !== 'close' || o.headers?.['retry-after'] !== '1') {
      t.fail('a 503 without its catalog body, Connection: close and Retry-After', { body: o.body, headers: o.headers })
      break
    }
  }
  t.match(unavailable[0]?.body, { statusCode: 503, error: 'Service Unavailable', code: 'RT_ERR_NOT_READY', message: 'Not ready: shutting down' })
  t.comment(`after SIGTERM: ${after.filter((o) => o.status === 200).length} × 200, ${unavailable.length} × 503, ` +
    `${after.filter((o) => o.error === 'ECONNREFUSED').length} refused, ${otherErrors.length} reset on a new connection ` +
    `(${otherErrors.map((o) => `${o.method ?? ''} ${o.error ?? ''}`).join(', ')})`)
})

t.test('while draining: probes answer, everything else 503 RT_ERR_NOT_READY with Connection: close', async (t) => {
  const server = await startServer({ config: { plugins: probe } })
  t.teardown(() => server.close())
  const core = (server.app as unknown as Record<symbol, Core>)[kCore]!
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => { agent.destroy() })

  const before = await send(agent, server.port, 'GET', '/api/probe/stats')
  t.equal(before.status, 200)
  t.not(before.headers?.connection, 'close', 'keep-alive before the drain')
  core.draining = true

  const health = await send(agent, server.port, 'GET', '/health')
  t.match(health, { status: 200, body: { status: 'ok' }, reused: true }, '/health stays 200 (liveness: the process is fine)')
  t.equal(health.headers?.connection, 'close', 'but closes its connection')
  const ready = await send(agent, server.port, 'GET', '/ready')
  t.match(ready, { status: 503, body: { status: 'unavailable', reason: 'shutting down' } }, '/ready answers 503')
  t.equal(ready.reused, false, 'on a new connection: the previous answer closed it')
  for (const [method, path] of [['GET', '/api/probe/stats'], ['POST', '/api/probe/publish'], ['GET', '/no/such/route']] as const) {
    const o = await send(agent, server.port, method, path, method === 'POST' ? { tenantId: 't', event: 'e', payload: {} } : undefined)
    t.match(o, { status: 503, body: { code: 'RT_ERR_NOT_READY', message: 'Not ready: shutting down' } }, `${method} ${path}`)
    t.equal(o.headers?.connection, 'close')
    t.equal(o.headers?.['retry-after'], '1')
  }
  const stranger = await new Promise<number | undefined>((resolve) => {
    httpRequest({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/api/probe/publish', agent }, (res) => { res.resume(); resolve(res.statusCode) }).end()
  })
  t.equal(stranger, 503, 'the drain answers before authentication: 503 tells anyone to go elsewhere')
})

t.test('after the listener closes: a new connection is refused, one accepted just before still gets its 503', async (t) => {
  const server = await startServer({ config: { plugins: probe } })
  const core = (server.app as unknown as Record<symbol, Core>)[kCore]!
  const closed = drainAndClose(server.app, core, 1000)
  // Connected during the drain, silent until the listener is gone: Node's server.close() would destroy it as idle.
  const accepted = once(server.app.server, 'connection')
  const early = net.connect(server.port, '127.0.0.1')
  await Promise.all([once(early, 'connect'), accepted])
  while (server.app.server.listening) await tick()

  const late = net.connect(server.port, '127.0.0.1')
  const [err] = await once(late, 'error') as [NodeJS.ErrnoException]
  t.equal(err.code, 'ECONNREFUSED', 'a brand-new connection is refused: nothing was sent, the client retries elsewhere')

  const chunks: Buffer[] = []
  early.on('data', (c: Buffer) => chunks.push(c))
  early.write(`GET /api/probe/stats HTTP/1.1\r\nHost: x\r\nx-api-key: ${TEST_API_KEY}\r\n\r\n`)
  await once(early, 'close')
  const text = Buffer.concat(chunks).toString()
  t.match(text, /^HTTP\/1\.1 503 Service Unavailable\r\n/, 'the first request of an accepted connection is answered')
  t.match(text, /\r\nconnection: close\r\n/i)
  t.match(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)), { code: 'RT_ERR_NOT_READY' })
  await closed
})
