// Metrics of the cluster: a node that does not answer a cross-node question in time makes a partial answer, counted.
import t from 'tap'
import { join } from 'node:path'
import { eventually, freePort, killRedisServer, spawnServer, startRedisServer, startServer, TEST_API_KEY } from 'realtime-server/testing'
import { METRICS_TOKEN, samplesOf, valueOf } from '../fixtures/metrics-scrape.js'

const TOKEN = METRICS_TOKEN
const probe = { probe: { from: join(process.cwd(), 'test/fixtures/plugins/probe') } }

t.setTimeout(10 * 60_000) // a server process started from the TypeScript sources and a Redis of its own, on a loaded machine; nothing here measures time

t.test('a node that does not answer in time makes a partial count, counted', async (t) => {
  const port = await freePort()
  const redis = await startRedisServer(port)
  const config = { plugins: probe, redis: { url: `redis://127.0.0.1:${port}`, keyPrefix: 'partial', adapter: { blockTimeInMs: 50 } } }
  const other = await spawnServer(config)
  const server = await startServer({ config: { ...config, metrics: { token: TOKEN }, publish: { countTimeoutMs: 300 } } })
  t.teardown(async () => {
    await other.stop()
    await server.close()
    await killRedisServer(redis)
  })
  await eventually('the other node ready', async () => (await fetch(`${other.url}/ready`)).status === 200)
  const publish = async (): Promise<any> => (await server.request('POST', '/api/probe/publish', { apiKey: true, body: { tenantId: 'acme', event: 'probe:news', payload: {} } })).body
  // Both nodes answer: a whole count.
  await eventually('a whole count', async () => (await publish()).partial === undefined)
  t.equal(valueOf(await samplesOf(server), 'rt_cluster_partial_total', { question: 'count' }), undefined)

  // The other node's event loop held for 3 s: it cannot answer within countTimeoutMs.
  const stall = await fetch(`${other.url}/api/probe/stall`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY }, body: JSON.stringify({ ms: 3000 }) })
  t.equal(stall.status, 200)
  t.match(await publish(), { partial: true })
  t.equal(valueOf(await samplesOf(server), 'rt_cluster_partial_total', { question: 'count' }), 1)
  // Not closed while held: the other node answers again first.
  await eventually('the other node answers again', async () => (await fetch(`${other.url}/health`)).status === 200, { timeoutMs: 20_000 })
})
