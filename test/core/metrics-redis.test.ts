// Metrics of Redis and the adapter through an outage of a private redis-server: up gauges, errors, reconnects.
import t from 'tap'
import { join } from 'node:path'
import { eventually, freePort, killRedisServer, startRedisServer, startServer } from 'realtime-server/testing'
import { METRICS_TOKEN, samplesOf, valueOf } from '../fixtures/metrics-scrape.js'

const TOKEN = METRICS_TOKEN
const probe = { probe: { from: join(process.cwd(), 'test/fixtures/plugins/probe') } }

t.setTimeout(10 * 60_000) // a Redis of its own killed and restarted, on a loaded machine; nothing here measures time

t.test('Redis down and back shows in rt_redis_up, rt_adapter_up and the reconnects', async (t) => {
  const port = await freePort()
  let redis = await startRedisServer(port)
  const server = await startServer({
    config: { plugins: probe, metrics: { token: TOKEN }, redis: { url: `redis://127.0.0.1:${port}`, keyPrefix: 'metrics', adapter: { blockTimeInMs: 50 } } }
  })
  t.teardown(async () => {
    await server.close()
    await killRedisServer(redis)
  })
  await eventually('up at start', async () => {
    const s = await samplesOf(server)
    return valueOf(s, 'rt_redis_up') === 1 && valueOf(s, 'rt_adapter_up') === 1
  })
  const up = await samplesOf(server)
  t.equal(valueOf(up, 'rt_redis_reconnects_total'), 0)

  await killRedisServer(redis)
  await eventually('down once Redis is gone', async () => {
    const s = await samplesOf(server)
    return valueOf(s, 'rt_redis_up') === 0 && valueOf(s, 'rt_adapter_up') === 0
  }, { timeoutMs: 20_000 })
  t.pass('rt_redis_up and rt_adapter_up went to 0')
  // Each failed reconnection attempt (connection refused) is an error, after the attempt it follows.
  await eventually('reconnection attempts and their errors counted', async () => {
    const s = await samplesOf(server)
    return (valueOf(s, 'rt_redis_reconnects_total') ?? 0) > 0 && (valueOf(s, 'rt_redis_errors_total') ?? 0) > 0
  }, { timeoutMs: 20_000 })
  t.pass('rt_redis_reconnects_total and rt_redis_errors_total moved')

  redis = await startRedisServer(port)
  await eventually('up again', async () => {
    const s = await samplesOf(server)
    return valueOf(s, 'rt_redis_up') === 1 && valueOf(s, 'rt_adapter_up') === 1
  }, { timeoutMs: 20_000 })
  t.pass('back to 1 once Redis answers')
})
