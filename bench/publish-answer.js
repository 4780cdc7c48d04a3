// What waiting for the XADD costs a REST trigger: answer time and delivery time of sequential publishes on one node with Redis.
//
// A publish on Redis answers once Redis accepted the event (the adapter's XADD resolved), so that a 200
// means every node will get it. The adapter already delivered to this node's sockets only after that
// XADD, so delivery should not move; the bench endpoint counts recipients (count: true), whose cluster
// round trip overlaps the XADD. Run against dist/ (npm run build) of two commits to compare:
//   node bench/publish-answer.js [--n=2000] [--redis=redis://127.0.0.1:6379]
import { performance } from 'node:perf_hooks'
import { io } from 'socket.io-client'
import { startServer } from 'realtime-server/testing'
import bench from './product-plugin/index.js'
import { parseArgs, runMain } from './lib/cli.js'
import { redisRun, requireRedis, defaultRedisUrl } from './lib/redis.js'

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]
const summary = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return `p50 ${pct(s, 0.5).toFixed(3)} ms, p99 ${pct(s, 0.99).toFixed(3)} ms`
}

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), { n: 2000, warmup: 300, redis: defaultRedisUrl() })
  await requireRedis(args.redis)
  const run = redisRun(args.redis)
  process.env.REDIS_URL = args.redis
  const server = await startServer({ plugins: [{ plugin: bench }], redis: run.keyPrefix })
  const socket = io(server.url, { transports: ['websocket'], forceNew: true, auth: { token: server.token({ sub: 'u', tenantId: 'bench' }) } })
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('connect_error', reject) })
  let onReceive = () => {}
  socket.on('ev', () => { onReceive() })
  const answer = []
  const delivery = []
  for (let i = 0; i < Number(args.warmup) + Number(args.n); i++) {
    const received = new Promise((resolve) => { onReceive = resolve })
    const t0 = performance.now()
    const res = await server.request('POST', '/api/bench/events', { apiKey: true, body: { type: 'ev', payload: { i }, tenantId: 'bench' } })
    const t1 = performance.now()
    await received
    const t2 = performance.now()
    if (res.status !== 200) throw new Error(`status ${res.status}: ${JSON.stringify(res.body)}`)
    if (i >= Number(args.warmup)) {
      answer.push(t1 - t0)
      delivery.push(t2 - t0)
    }
  }
  console.log(`n=${args.n} sequential REST triggers, one client: answer ${summary(answer)}; delivery (trigger sent to event received) ${summary(delivery)}`)
  socket.disconnect()
  await server.close()
  await run.cleanup()
})
