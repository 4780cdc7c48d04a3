// REST rate limits through a real server and fetch: 429 RT_ERR_RATE_LIMITED with Retry-After, bad credentials counted
// per address before authentication, valid ones per principal, counts shared through Redis, and a Redis outage.
import t from 'tap'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import { deleteRedisPrefix, eventually, freePort, killRedisServer, spawnServer, startRedisServer, startServer, TEST_API_KEY, testRedisUrl } from 'realtime-server/testing'

const probe = { probe: { from: './test/fixtures/plugins/probe' } }
const BAD_KEY = 'bad-key-0123456789abcdef'
const OTHER_KEY = 'other-key-0123456789abcdef'

interface Answer { status: number, body: any, headers: Headers }
/** A server in this process (startServer) or in its own (spawnServer). */
interface Server { readonly url: string }

async function call (server: Server, path: string, headers: Record<string, string>, body: unknown = {}): Promise<Answer> {
  const res = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const text = await res.text()
  let parsed: unknown = text
  try { parsed = JSON.parse(text) } catch {}
  return { status: res.status, body: parsed, headers: res.headers }
}

const publish = async (server: Server, headers: Record<string, string>): Promise<Answer> =>
  await call(server, '/api/probe/publish', headers, { tenantId: 'acme', event: 'x', payload: {} })
const whoami = async (server: Server, headers: Record<string, string>): Promise<Answer> => await call(server, '/api/probe/whoami', headers)
const statuses = (answers: Answer[]): number[] => answers.map((a) => a.status)

/** `n` requests one after the other (each sees the count the previous one left). */
async function times (n: number, send: (i: number) => Promise<Answer>): Promise<Answer[]> {
  const out: Answer[] = []
  for (let i = 0; i < n; i++) out.push(await send(i))
  return out
}

function logCapture (): { stream: Writable, lines: string[] } {
  const lines: string[] = []
  return { lines, stream: new Writable({ write (chunk, _e, cb) { lines.push(chunk.toString()); cb() } }) }
}

t.test('300 requests with a bad API key end in 429s: failures are counted per address, before authentication', async (t) => {
  const logs = logCapture()
  const server = await startServer({ config: { plugins: probe, server: { logLevel: 'info' }, rateLimit: { ip: { max: 10 } } }, logStream: logs.stream })
  t.teardown(() => server.close())

  // In parallel batches, as a flood arrives: the counter is shared, so the 401s stop near the limit.
  const answers: Answer[] = []
  for (let batch = 0; batch < 30; batch++) answers.push(...await Promise.all(Array.from({ length: 10 }, async () => await publish(server, { 'x-api-key': BAD_KEY }))))
  t.equal(answers.length, 300)
  const unauthorized = answers.filter((a) => a.status === 401).length
  const refused = answers.filter((a) => a.status === 429)
  t.same(answers.filter((a) => a.status !== 401 && a.status !== 429), [], 'every answer is 401 or 429')
  t.ok(unauthorized >= 10 && unauthorized < 20, `about ip.max requests were authenticated (${unauthorized}), the others refused before`)
  t.equal(refused.length, 300 - unauthorized)
  const last = answers[answers.length - 1]!
  t.same(last.body, {
    statusCode: 429,
    error: 'Too Many Requests',
    code: 'RT_ERR_RATE_LIMITED',
    message: 'Rate limit exceeded: more than 10 requests without valid credentials in 60 s from this address'
  }, 'the catalog body, from the one error handler')
  const retryAfter = Number(last.headers.get('retry-after'))
  t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After is the rest of the window (${retryAfter} s)`)

  // Once over, the address is refused whatever it presents: valid credentials are not even checked.
  t.match(await publish(server, { 'x-api-key': TEST_API_KEY }), { status: 429, body: { code: 'RT_ERR_RATE_LIMITED' } }, 'a valid key from the same address is refused too')
  t.match(await publish(server, {}), { status: 429 }, 'no credentials')
  t.match(await call(server, '/api/nowhere', {}), { status: 429 }, 'an unknown route')

  const all = logs.lines.join('')
  t.notOk(all.includes(BAD_KEY) || all.includes(TEST_API_KEY), 'no key in the log')
  t.equal(logs.lines.filter((l) => l.includes('REST rate limit reached')).length, 1, 'the limit reached is logged once, not per refusal')
})

t.test('missing credentials, bad tokens, refused roles and unknown routes count; authenticated requests do not', async (t) => {
  const server = await startServer({ config: { plugins: probe, rateLimit: { ip: { max: 4 } } } })
  t.teardown(() => server.close())
  // Authenticated requests, many more than ip.max, are charged to their principal only.
  t.same(statuses(await times(12, async () => await publish(server, { 'x-api-key': TEST_API_KEY }))), Array(12).fill(200))
  t.same(statuses(await times(4, async (i) => await [
    async () => await publish(server, {}),
    async () => await publish(server, { authorization: 'Bearer not-a-token' }),
    async () => await publish(server, { authorization: `Bearer ${server.token({ sub: 'u1', tenantId: 'acme', role: 'customer' })}` }),
    async () => await call(server, '/api/nowhere', {})
  ][i]!())), [401, 401, 403, 404], 'four failures answered')
  t.match(await publish(server, { 'x-api-key': TEST_API_KEY }), { status: 429, body: { code: 'RT_ERR_RATE_LIMITED' } }, 'and the address is over')
})

t.test('per principal: one API key\'s flood blocks neither another key nor a user; each user has its own count', async (t) => {
  const server = await startServer({
    config: {
      plugins: probe,
      auth: { apiKeys: [TEST_API_KEY, { key: OTHER_KEY, name: 'other-backend' }] },
      rateLimit: { principal: { max: 5 }, ip: { max: 3 } }
    }
  })
  t.teardown(() => server.close())
  const flood = await times(8, async () => await publish(server, { 'x-api-key': TEST_API_KEY }))
  t.same(statuses(flood), [200, 200, 200, 200, 200, 429, 429, 429], 'max requests, then 429')
  t.same(flood.map((a) => a.headers.get('x-ratelimit-remaining')), ['4', '3', '2', '1', '0', '0', '0', '0'], 'x-ratelimit-remaining counts down')
  t.equal(flood[0]!.headers.get('x-ratelimit-limit'), '5')
  const over = flood[7]!
  t.match(over.body, { statusCode: 429, error: 'Too Many Requests', code: 'RT_ERR_RATE_LIMITED', message: 'Rate limit exceeded: more than 5 requests in 10 s from these credentials' })
  const retryAfter = Number(over.headers.get('retry-after'))
  t.ok(retryAfter >= 1 && retryAfter <= 10, `Retry-After within the window (${retryAfter} s)`)

  t.same(statuses(await times(5, async () => await publish(server, { 'x-api-key': OTHER_KEY }))), Array(5).fill(200), 'another key has its own count')
  const user = (sub: string, tenantId = 'acme'): Record<string, string> => ({ authorization: `Bearer ${server.token({ sub, tenantId, role: 'customer' })}` })
  t.same(statuses(await times(6, async () => await whoami(server, user('u1')))), [200, 200, 200, 200, 200, 429], 'a user, by tenant and user id')
  t.equal((await whoami(server, user('u2'))).status, 200, 'another user of the tenant')
  t.equal((await whoami(server, user('u1', 'globex'))).status, 200, 'the same user id in another tenant')
  t.equal((await whoami(server, user('u1'))).status, 429, 'a new token of the same user is the same principal')
  t.equal((await publish(server, { 'x-api-key': BAD_KEY })).status, 401, '429s to principals are not charged to the address')
})

t.test('a window that ends lets the client in again', async (t) => {
  const server = await startServer({ config: { plugins: probe, rateLimit: { ip: { max: 2, timeWindowMs: 1000 } } } })
  t.teardown(() => server.close())
  t.same(statuses(await times(3, async () => await publish(server, { 'x-api-key': BAD_KEY }))), [401, 401, 429])
  await eventually('the address is let in once its window ends', async () => (await publish(server, { 'x-api-key': BAD_KEY })).status === 401, { timeoutMs: 5000, intervalMs: 100 })
})

t.test('not limited: the health routes, the Socket.IO path, allow-listed addresses, and everything when disabled', async (t) => {
  t.test('probes and Socket.IO', async (t) => {
    const server = await startServer({ config: { plugins: probe, rateLimit: { ip: { max: 2 } } } })
    t.teardown(() => server.close())
    await times(3, async () => await publish(server, { 'x-api-key': BAD_KEY }))
    t.equal((await publish(server, { 'x-api-key': BAD_KEY })).status, 429, 'the address is over')
    for (let i = 0; i < 5; i++) {
      t.equal((await fetch(`${server.url}/health`)).status, 200, '/health')
      t.equal((await fetch(`${server.url}/ready`)).status, 200, '/ready')
      t.equal((await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`)).status, 200, 'a Socket.IO polling handshake')
    }
    const preflight = await fetch(`${server.url}/api/probe/publish`, { method: 'OPTIONS' })
    t.not(preflight.status, 429, 'a CORS preflight (OPTIONS)')
    const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
    t.ok(socket.connected, 'a Socket.IO client connects')
  })

  t.test('allowList', async (t) => {
    const server = await startServer({ config: { plugins: probe, rateLimit: { ip: { max: 2 }, principal: { max: 2 }, allowList: ['127.0.0.1'] } } })
    t.teardown(() => server.close())
    t.same(statuses(await times(5, async () => await publish(server, { 'x-api-key': BAD_KEY }))), Array(5).fill(401))
    t.same(statuses(await times(5, async () => await publish(server, { 'x-api-key': TEST_API_KEY }))), Array(5).fill(200))
  })

  t.test('enabled: false', async (t) => {
    const server = await startServer({ config: { plugins: probe, rateLimit: { enabled: false, ip: { max: 2 }, principal: { max: 2 } } } })
    t.teardown(() => server.close())
    t.same(statuses(await times(5, async () => await publish(server, { 'x-api-key': BAD_KEY }))), Array(5).fill(401))
    const ok = await times(5, async () => await publish(server, { 'x-api-key': TEST_API_KEY }))
    t.same(statuses(ok), Array(5).fill(200))
    t.equal(ok[0]!.headers.get('x-ratelimit-limit'), null, 'no rate-limit headers')
  })
})

t.test('with Redis, the nodes of a cluster share the counts, under the key prefix, without the keys', async (t) => {
  const prefix = `test-rl-${Math.random().toString(36).slice(2, 10)}`
  const config = { plugins: probe, rateLimit: { principal: { max: 6 }, ip: { max: 4 } } }
  const [a, b] = await Promise.all([startServer({ redis: prefix, config }), startServer({ redis: prefix, config })])
  t.teardown(async () => {
    await Promise.all([a.close(), b.close()])
    await deleteRedisPrefix(prefix)
  })
  const both = await times(6, async (i) => await publish(i % 2 === 0 ? a : b, { 'x-api-key': TEST_API_KEY }))
  t.same(statuses(both), Array(6).fill(200), 'six requests, alternating between the nodes')
  t.equal((await publish(a, { 'x-api-key': TEST_API_KEY })).status, 429, 'the seventh is refused on A')
  t.equal((await publish(b, { 'x-api-key': TEST_API_KEY })).status, 429, 'and on B')

  t.same(statuses(await times(4, async (i) => await publish(i % 2 === 0 ? b : a, { 'x-api-key': BAD_KEY }))), [401, 401, 401, 401])
  t.equal((await publish(a, { 'x-api-key': BAD_KEY })).status, 429, 'failures on both nodes add up')
  t.equal((await publish(b, {})).status, 429)

  const redis = new Redis(testRedisUrl())
  t.teardown(() => { redis.disconnect() })
  const keys = await redis.keys(`${prefix}:*`)
  const limits = keys.filter((k) => k.startsWith(`${prefix}:ratelimit:`)).sort()
  t.same(limits, [`${prefix}:ratelimit:ip:127.0.0.1`, `${prefix}:ratelimit:key:key#1`], 'one key per principal and per address, the API key by its name')
  t.notOk(keys.some((k) => k.includes(TEST_API_KEY) || k.includes(BAD_KEY)), 'no API key in any Redis key')
  t.ok(await redis.pttl(limits[0]!) > 0, 'the counters expire')
})

// The server runs in its own process: an in-process server closed after a Redis restart can leave one of the
// streams adapter's reader clients reconnecting (nothing to do with the limits), which would keep this test alive.
t.test('Redis killed: requests are still answered, not limited (fail open, logged), and limited again once it is back', async (t) => {
  const port = await freePort()
  let redis = await startRedisServer(port)
  t.teardown(async () => { await killRedisServer(redis) })
  const server = await spawnServer({
    plugins: { probe: { from: join(process.cwd(), 'test/fixtures/plugins/probe') } },
    redis: { url: `redis://127.0.0.1:${port}`, keyPrefix: 'rl-outage', adapter: { blockTimeInMs: 50 } },
    rateLimit: { ip: { max: 3 }, principal: { max: 1000 } }
  })
  t.teardown(async () => { await server.stop() })
  await eventually('ready', async () => (await fetch(`${server.url}/ready`)).status === 200, { timeoutMs: 20_000 })
  t.equal((await whoami(server, { 'x-api-key': TEST_API_KEY })).status, 200)

  await killRedisServer(redis)
  await eventually('the server sees Redis gone', async () => (await fetch(`${server.url}/ready`)).status === 503)
  const during = await times(10, async () => await publish(server, { 'x-api-key': BAD_KEY }))
  t.same(statuses(during), Array(10).fill(401), 'bad keys are answered 401, not 500, and not limited')
  t.same(statuses(await times(3, async () => await whoami(server, { 'x-api-key': TEST_API_KEY }))), [200, 200, 200], 'a route that needs no Redis answers')
  t.match(await publish(server, { 'x-api-key': TEST_API_KEY }), { status: 503, body: { code: 'RT_ERR_NOT_READY' } }, 'a route that needs Redis answers 503, as without limits')
  const warnings = server.logs.filter((l) => String(l.msg).startsWith('REST rate limits cannot be counted'))
  t.equal(warnings.length, 1, 'the outage is logged once')
  t.equal(warnings[0]?.level, 40, 'as a warning')

  redis = await startRedisServer(port)
  await eventually('the bad keys are limited again', async () => {
    const answers = await times(5, async () => await publish(server, { 'x-api-key': BAD_KEY }))
    return answers.some((a) => a.status === 429)
  }, { timeoutMs: 20_000 })
  t.ok(server.logs.some((l) => l.msg === 'REST rate limits are counted again'), 'and the end of the outage')
  t.notOk(server.logs.some((l) => JSON.stringify(l).includes(BAD_KEY)), 'no key in the log')
})
