import t from 'tap'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { io } from 'socket.io-client'
import { deleteRedisPrefix, record, signToken, spawnServer, startServer, TEST_API_KEY, waitFor, type ClientSocket } from 'realtime-server/testing'

const probe = { probe: { from: join(process.cwd(), 'test/fixtures/plugins/probe') } }
const connect = async (url: string, claims: Record<string, unknown>): Promise<ClientSocket> => {
  const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: signToken(claims) } })
  await new Promise((resolve, reject) => { socket.once('connect', () => { resolve(undefined) }); socket.once('connect_error', reject) })
  return socket
}
const post = async (url: string, path: string, body: unknown): Promise<any> => {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() }
}

t.test('two server processes on one Redis', async (t) => {
  const prefix = `test-cluster-${randomUUID().slice(0, 8)}`
  const [a, b] = await Promise.all([
    spawnServer({ plugins: probe, shutdown: { drainDelayMs: 0 } }, { redisPrefix: prefix }),
    spawnServer({ plugins: probe, shutdown: { drainDelayMs: 0 } }, { redisPrefix: prefix })
  ])
  const sockets: ClientSocket[] = []
  t.teardown(async () => {
    for (const s of sockets) s.disconnect()
    await Promise.all([a.stop(), b.stop()])
    await deleteRedisPrefix(prefix)
  })
  const onB = await connect(b.url, { sub: 'u1', tenantId: 'acme' })
  const otherTenantOnB = await connect(b.url, { sub: 'u1', tenantId: 'evil' })
  const onA = await connect(a.url, { sub: 'u2', tenantId: 'acme' })
  sockets.push(onB, otherTenantOnB, onA)
  const evilSaw = record(otherTenantOnB)

  await t.test('an event triggered by REST on node A reaches a client on node B, counted across nodes', async (t) => {
    const got = waitFor(onB, 'ev', { timeoutMs: 10_000 })
    const res = await post(a.url, '/api/probe/publish', { tenantId: 'acme', event: 'ev', payload: { hello: 'from A' } })
    t.equal(res.status, 200)
    t.equal(res.body.recipients, 2, 'one socket on each node')
    t.equal(res.body.partial, undefined)
    t.same((await got)[0], { hello: 'from A' })
  })

  await t.test('user targeting works across nodes and stays within the tenant', async (t) => {
    const got = waitFor(onB, 'ev2', { timeoutMs: 10_000 })
    const res = await post(a.url, '/api/probe/publish', { tenantId: 'acme', users: ['u1'], event: 'ev2', payload: 1 })
    t.equal(res.body.recipients, 1)
    await got
    const sentinel = waitFor(otherTenantOnB, 'sentinel', { timeoutMs: 10_000 })
    await post(a.url, '/api/probe/publish', { tenantId: 'evil', event: 'sentinel', payload: 0 })
    await sentinel
    t.same(evilSaw.map((e) => e.event), ['sentinel'], 'tenant evil saw only its own event')
  })

  await t.test('cluster messages reach the plugin on every node', async (t) => {
    const seen = new Set<string>()
    const both = new Promise<void>((resolve) => {
      onA.on('probe:cluster', (p: { to: string }) => { seen.add(p.to); if (seen.size === 2) resolve() })
    })
    await post(b.url, '/api/probe/cluster-ping', { tenantId: 'acme' })
    await both
    t.equal(seen.size, 2, 'both nodes handled the message and published')
  })

  await t.test('stats are cluster-wide', async (t) => {
    const res = await fetch(`${a.url}/api/probe/stats`, { headers: { 'x-api-key': TEST_API_KEY } })
    const stats = await res.json() as { sockets: number, tenants: Record<string, number> }
    t.equal(stats.sockets, 3)
    t.same(stats.tenants, { acme: 2, evil: 1 })
  })
})

t.test('two nodes in one process share a prefix the same way', async (t) => {
  const prefix = `test-cluster-${randomUUID().slice(0, 8)}`
  const a = await startServer({ config: { plugins: probe }, redis: prefix })
  const b = await startServer({ config: { plugins: probe }, redis: prefix })
  t.teardown(async () => { await a.close(); await b.close(); await deleteRedisPrefix(prefix) })
  const socket = await b.connect('/', { token: b.token({ sub: 'u', tenantId: 't' }) })
  const got = waitFor(socket, 'x', { timeoutMs: 10_000 })
  const res = await a.request('POST', '/api/probe/publish', { apiKey: true, body: { tenantId: 't', event: 'x', payload: 42 } })
  t.equal(res.body.recipients, 1)
  t.equal((await got)[0], 42)
  t.equal((await a.request('GET', '/ready')).status, 200, 'ready while Redis answers')
})
