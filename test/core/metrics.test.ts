// GET /metrics: who may read it (token, separate port, nothing by default), and every core family moving with real traffic.
import t from 'tap'
import { join } from 'node:path'
import { eventually, freePort, startServer, TEST_API_KEY } from 'realtime-server/testing'
import { resolveConfig } from '../../src/config/load.js'
import { familiesOf, METRICS_TOKEN, scrape, valueOf } from '../fixtures/metrics-scrape.js'

const TOKEN = METRICS_TOKEN
const probe = { probe: { from: join(process.cwd(), 'test/fixtures/plugins/probe') } }

t.test('nothing is exposed by default: the main port names how to enable it', async (t) => {
  const server = await startServer({ config: { plugins: probe } })
  t.teardown(async () => { await server.close() })
  const res = await server.request('GET', '/metrics')
  t.equal(res.status, 404)
  t.match(res.body, { code: 'RT_ERR_METRICS_DISABLED', message: /metrics\.token \(METRICS_TOKEN\).*metrics\.port \(METRICS_PORT\)/ })
  // Even a valid Bearer of another kind (an API key) reads nothing.
  const withKey = await server.request('GET', '/metrics', { apiKey: true })
  t.equal(withKey.status, 404)
})

t.test('metrics.token: the main port serves /metrics to that Bearer only', async (t) => {
  const server = await startServer({ config: { plugins: probe, metrics: { token: TOKEN } } })
  t.teardown(async () => { await server.close() })
  t.match(await server.request('GET', '/metrics'), { status: 401, body: { code: 'RT_ERR_METRICS_UNAUTHORIZED' } })
  t.match(await server.request('GET', '/metrics', { headers: { authorization: 'Bearer metrics-token-wrong-0000' } }), { status: 401, body: { code: 'RT_ERR_METRICS_UNAUTHORIZED' } })
  t.match(await server.request('GET', '/metrics', { headers: { authorization: `Bearer ${TEST_API_KEY}` } }), { status: 401 })
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const text = await res.text()
  t.ok(familiesOf(text).includes('rt_events_in_total'))
  t.ok(familiesOf(text).includes('process_cpu_user_seconds_total'), 'Node\'s process metrics are there')
})

t.test('metrics.port: a listener of its own, without credential; the main port serves nothing', async (t) => {
  const port = await freePort()
  const server = await startServer({ config: { plugins: probe, metrics: { port } } })
  t.teardown(async () => { await server.close() })
  const res = await fetch(`http://127.0.0.1:${port}/metrics`)
  t.equal(res.status, 200)
  t.ok(familiesOf(await res.text()).includes('rt_connections'))
  t.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404)
  t.match(await server.request('GET', '/metrics'), { status: 404, body: { code: 'RT_ERR_METRICS_DISABLED', message: new RegExp(`metrics\\.port ${port}`) } })
  await server.close()
  await t.rejects(fetch(`http://127.0.0.1:${port}/metrics`), 'the listener closes with the server')
})

t.test('the config is checked at start-up, naming the key or the variable', async (t) => {
  t.throws(() => resolveConfig({ server: { port: 4000 }, metrics: { port: 4000 } }, { env: {} }), { code: 'RT_ERR_CONFIG', message: /metrics\.port: must differ from server\.port/ })
  t.throws(() => resolveConfig({}, { env: { METRICS_TOKEN: 'short' } }), { code: 'RT_ERR_CONFIG', message: /METRICS_TOKEN/ })
  t.throws(() => resolveConfig({}, { env: { METRICS_PORT: 'x' } }), { code: 'RT_ERR_CONFIG', message: /METRICS_PORT/ })
  t.throws(() => resolveConfig({ metrics: { tenantLabel: { max: 0 } } }, { env: {} }), { code: 'RT_ERR_CONFIG', message: /metrics\.tenantLabel\.max/ })
  const { config } = resolveConfig({}, { env: { METRICS_TOKEN: TOKEN, METRICS_PORT: '9464' } })
  t.match(config.metrics, { enabled: true, token: TOKEN, port: 9464, host: '127.0.0.1', tenantLabel: { enabled: false, max: 100 } })
})

t.test('every core family moves with traffic', async (t) => {
  const server = await startServer({ config: { plugins: probe, metrics: { token: TOKEN } } })
  t.teardown(async () => { await server.close() })
  const before = (await scrape(server)).samples
  t.equal(valueOf(before, 'rt_connections', { namespace: '/' }), undefined, 'no connection yet')

  const token = server.token({ sub: 'u1', tenantId: 'acme' })
  const socket = await server.connect('/', { token })
  // A refused handshake shows up by its code.
  const refused = server.client('/', { token: 'not-a-jwt' })
  await new Promise<void>((resolve) => { refused.once('connect_error', () => { resolve() }) })
  t.same(await server.emitWithAck(socket, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: [] })
  t.match(await server.emitWithAck(socket, 'probe:strict', { name: '' }), { error: { code: 'RT_ERR_VALIDATION' } })
  t.match(await server.emitWithAck(socket, 'nobody:handles', {}), { error: { code: 'RT_ERR_UNKNOWN_EVENT' } })
  const got = new Promise((resolve) => { socket.once('probe:news', resolve) })
  const published = await server.request('POST', '/api/probe/publish', { apiKey: true, body: { tenantId: 'acme', event: 'probe:news', payload: { n: 1 } } })
  t.match(published, { status: 200, body: { recipients: 1 } })
  await got

  const { samples } = await scrape(server)
  t.equal(valueOf(samples, 'rt_connections', { namespace: '/', transport: 'websocket' }), 1)
  t.equal(valueOf(samples, 'rt_connections_accepted_total', { namespace: '/' }), 1)
  t.equal(valueOf(samples, 'rt_handshake_refusals_total', { namespace: '/', code: 'RT_ERR_AUTH_INVALID_TOKEN' }), 1)
  t.equal(valueOf(samples, 'rt_events_in_total', { plugin: 'probe', event: 'probe:whoami' }), 1)
  t.equal(valueOf(samples, 'rt_events_in_total', { plugin: 'probe', event: 'probe:strict' }), 1)
  t.equal(valueOf(samples, 'rt_events_invalid_total', { plugin: 'probe', event: 'probe:strict' }), 1)
  t.equal(valueOf(samples, 'rt_events_invalid_total', { plugin: 'probe', event: 'probe:whoami' }), 0, 'every declared event has its series, at 0 until it moves')
  t.equal(valueOf(samples, 'rt_events_in_total', { plugin: 'core', event: '(unknown)' }), 1, 'an unknown event is counted under one label, not its name')
  t.notOk(samples.some((s) => s.labels.event === 'nobody:handles'), 'the unknown name never becomes a label')
  t.equal(valueOf(samples, 'rt_broadcasts_total', { plugin: 'probe', namespace: '/' }), 1)
  t.equal(valueOf(samples, 'rt_deliveries_total', { namespace: '/' }), 1)
  t.equal(valueOf(samples, 'rt_publish_duration_seconds_count'), 1)
  t.ok(valueOf(samples, 'rt_publish_duration_seconds_sum')! > 0)
  t.equal(valueOf(samples, 'rt_http_requests_total', { route: '/api/probe/publish', method: 'POST', status: '200' }), 1, 'by route pattern')
  t.equal(valueOf(samples, 'rt_trigger_duration_seconds_count', { plugin: 'probe', route: '/api/probe/publish' }), 1)
  t.ok(valueOf(samples, 'rt_trigger_duration_seconds_sum', { plugin: 'probe', route: '/api/probe/publish' })! >= valueOf(samples, 'rt_publish_duration_seconds_sum')!, 'the trigger includes its publish')
  t.equal(valueOf(samples, 'rt_fast_broadcast_deliveries_total', { path: 'fast' }), 1, 'the delivery took the fast path')
  t.equal(valueOf(samples, 'rt_fast_broadcast_on'), 1)
  t.equal(valueOf(samples, 'rt_cluster_partial_total'), undefined, 'no cross-node question without Redis')
  t.notOk(samples.some((s) => s.name.startsWith('rt_redis_')), 'no Redis families without Redis')

  // An unmatched URL is counted under one label, never its path.
  await server.request('GET', '/no/such/path/123')
  const after = (await scrape(server)).samples
  t.equal(valueOf(after, 'rt_http_requests_total', { route: '(unmatched)', method: 'GET', status: '404' }), 1)
  t.notOk(after.some((s) => s.labels.route?.includes('123') === true))

  socket.disconnect()
  await eventually('the gauge follows the disconnect', async () =>
    valueOf((await scrape(server)).samples, 'rt_connections', { namespace: '/' }) === undefined || undefined)
})

t.test('metrics.enabled false: nothing served, nothing counted per publish', async (t) => {
  const server = await startServer({ config: { plugins: probe, metrics: { enabled: false, token: TOKEN } } })
  t.teardown(async () => { await server.close() })
  t.match(await server.request('GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } }), { status: 404, body: { code: 'RT_ERR_METRICS_DISABLED', message: /metrics\.enabled is false/ } })
})

t.test('the tenant label: off by default, capped when on', async (t) => {
  const off = await startServer({ config: { plugins: probe, metrics: { token: TOKEN } } })
  t.teardown(async () => { await off.close() })
  await off.connect('/', { token: off.token({ sub: 'u1', tenantId: 't1' }) })
  const offText = (await scrape(off)).text
  t.notOk(familiesOf(offText).some((f) => f.startsWith('rt_tenant_')), 'no per-tenant family by default')
  t.notMatch(offText, /t1/, 'no tenant id anywhere in the scrape')

  const on = await startServer({ config: { plugins: probe, metrics: { token: TOKEN, tenantLabel: { enabled: true, max: 2 } } } })
  t.teardown(async () => { await on.close() })
  for (const tenantId of ['t1', 't2', 't3', 't4']) await on.connect('/', { token: on.token({ sub: 'u', tenantId }) })
  // The first tenants the process counts get the labels: t1 and t2, seen (in connection order) by this scrape.
  t.same((await scrape(on)).samples.filter((s) => s.name === 'rt_tenant_connections').map((s) => s.labels.tenant).sort(), ['other', 't1', 't2'])
  for (const tenantId of ['t1', 't3']) {
    t.equal((await on.request('POST', '/api/probe/publish', { apiKey: true, body: { tenantId, event: 'probe:news', payload: {} } })).status, 200)
  }
  const { samples } = await scrape(on)
  const tenants = samples.filter((s) => s.name === 'rt_tenant_connections').map((s) => `${s.labels.tenant}=${s.value}`).sort()
  t.same(tenants, ['other=2', 't1=1', 't2=1'], 'two tenants labelled, the rest under other')
  t.equal(valueOf(samples, 'rt_tenant_broadcasts_total', { tenant: 't1' }), 1)
  t.equal(valueOf(samples, 'rt_tenant_broadcasts_total', { tenant: 'other' }), 1, 't3 is beyond the cap')
  t.equal(valueOf(samples, 'rt_tenant_deliveries_total', { tenant: 'other' }), 1)
  t.equal(valueOf(samples, 'rt_connections', { namespace: '/', transport: 'websocket' }), 4, 'the core families keep their labels')
})
