// Webhook delivery through a real HTTP receiver: Standard Webhooks signatures, retries, dead letters and replay, in memory and on a real Redis (a node that dies mid-attempt, a Redis that restarts empty).
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { Webhook } from 'standardwebhooks'
import t, { type Test } from 'tap'
import { receiver, SECRET, verify } from '../fixtures/webhook-receiver.js'
import { deleteRedisPrefix, eventually, freePort, killRedisServer, startRedisServer, testRedisUrl } from 'realtime-server/testing'
import { retryDelay } from '../../src/core/webhooks/job.js'
import { RedisQueue } from '../../src/core/webhooks/redis-queue.js'
import { httpDelivery } from '../../src/core/webhooks/delivery.js'
import { eventLua, Webhooks, type WebhooksOptions } from '../../src/core/webhooks/webhooks.js'

const log = { warn: () => {}, error: () => {} }

function options (url: string, extra: Partial<WebhooksOptions> = {}): WebhooksOptions {
  return {
    endpoints: [{ name: 'backend', url, secret: SECRET, events: ['*'] }],
    timeoutMs: 2000,
    retry: { attempts: 4, initialDelayMs: 20, maxDelayMs: 100 },
    concurrency: 4,
    deadLetterMax: 100,
    ...extra
  }
}

/** Webhooks on the shared Redis under a prefix of its own (or in memory). */
function webhooks (t: Test, opts: WebhooksOptions, store: 'memory' | 'redis'): Webhooks {
  const keyPrefix = `rt-test-webhooks-${randomUUID()}`
  const redis = store === 'redis' ? new Redis(testRedisUrl()) : undefined
  const w = new Webhooks({ options: opts, redis, keyPrefix, nodeId: 'node-a', log })
  t.teardown(async () => {
    await w.close()
    redis?.disconnect()
    if (store === 'redis') await deleteRedisPrefix(keyPrefix)
  })
  return w
}

for (const store of ['memory', 'redis'] as const) {
  t.test(`${store}: retried on 5xx until accepted, delivered once after success, signed, one webhook-id`, async (t) => {
    const hook = await receiver(t, (n) => n <= 2 ? 503 : 204)
    const w = webhooks(t, options(hook.url), store)
    t.equal(w.durable, store === 'redis')
    await w.emit({ type: 'user.online', tenantId: 'acme', data: { userId: 'u1' } })
    await eventually('accepted', () => hook.got.length >= 3 ? true : undefined)
    // Nothing more comes once accepted: wait until a later event has been delivered, then count.
    await w.emit({ type: 'user.offline', tenantId: 'acme', data: { userId: 'u1' } })
    await eventually('the later event', () => hook.got.some((r) => JSON.parse(r.body).type === 'user.offline') ? true : undefined)
    const online = hook.got.filter((r) => JSON.parse(r.body).type === 'user.online')
    t.equal(online.length, 3, 'two refusals, one success, nothing after')
    t.equal(new Set(online.map((r) => r.headers['webhook-id'])).size, 1, 'every attempt carries the same webhook-id')
    t.match(online[0]!.headers['webhook-id'], /^msg_/)
    for (const r of online) t.same(verify(r), { type: 'user.online', timestamp: JSON.parse(r.body).timestamp, tenantId: 'acme', data: { userId: 'u1' } }, 'the signature verifies')
    t.throws(() => new Webhook(`whsec_${Buffer.from('another secret of 32 bytes......').toString('base64')}`).verify(online[0]!.body, online[0]!.headers as Record<string, string>), 'another secret does not verify')
    t.throws(() => verify({ ...online[0]!, body: online[0]!.body.replace('u1', 'u2') }), 'a changed body does not verify')
  })

  t.test(`${store}: out of attempts, a dead letter; a 4xx at once; listed by tenant; replayed`, async (t) => {
    let healthy = false
    const hook = await receiver(t, (_n, body) => healthy ? 200 : body.data.kind === 'gone' ? 410 : 500)
    const w = webhooks(t, options(hook.url, { retry: { attempts: 3, initialDelayMs: 20, maxDelayMs: 50 } }), store)
    await w.emit({ type: 'room.vacated', tenantId: 'acme', data: { kind: 'down' } })
    await w.emit({ type: 'room.vacated', tenantId: 'other', data: { kind: 'gone' } })
    const dead = await eventually('two dead letters', async () => {
      const letters = await w.deadLetters({ limit: 10 })
      return letters.length === 2 ? letters : undefined
    })
    const down = dead.find((d) => d.tenantId === 'acme')!
    const gone = dead.find((d) => d.tenantId === 'other')!
    t.match(down, { attempts: 3, error: 'HTTP 500', type: 'room.vacated', endpoint: 'backend' })
    t.match(gone, { attempts: 1, error: 'HTTP 410' }, 'a 410 is not retried')
    t.equal(hook.got.length, 4)
    t.same((await w.deadLetters({ tenantId: 'acme', limit: 10 })).map((d) => d.deadId), [down.deadId], 'a tenant sees its own')
    t.equal(await w.replay([gone.deadId], 'acme'), 0, 'not another tenant\'s')
    healthy = true
    t.equal(await w.replay([down.deadId, gone.deadId, 'nope', '__proto__', 'a\ud800', '1-1'.repeat(100000)]), 2, 'hostile ids are skipped')
    await eventually('both delivered', () => hook.got.length === 6 ? true : undefined)
    t.same(await w.deadLetters({ limit: 10 }), [], 'replayed letters leave the list')
    t.equal(hook.got[4]!.headers['webhook-id'] === down.id || hook.got[5]!.headers['webhook-id'] === down.id, true, 'a replay keeps the webhook-id')
  })

  t.test(`${store}: endpoints get the events and tenants they asked for`, async (t) => {
    const a = await receiver(t, () => 200)
    const b = await receiver(t, () => 200)
    const w = webhooks(t, {
      ...options(a.url),
      endpoints: [
        { name: 'all', url: a.url, secret: SECRET, events: ['*'] },
        { name: 'offline-acme', url: b.url, secret: SECRET, events: ['user.offline'], tenants: ['acme'] }
      ]
    }, store)
    await w.emit({ type: 'user.online', tenantId: 'acme', data: {} })
    await w.emit({ type: 'user.offline', tenantId: 'other', data: {} })
    await w.emit({ type: 'user.offline', tenantId: 'acme', data: { last: true } })
    await eventually('all three at a', () => a.got.length === 3 ? true : undefined)
    await eventually('one at b', () => b.got.length === 1 ? true : undefined)
    t.same(JSON.parse(b.got[0]!.body).data, { last: true })
  })
}

for (const store of ['memory', 'redis'] as const) {
  t.test(`${store}: a batching endpoint gets one signed POST per batch, each event with its own id`, async (t) => {
    const hook = await receiver(t, () => 200)
    const opts = options(hook.url)
    const w = webhooks(t, { ...opts, endpoints: [{ ...opts.endpoints[0]!, batch: { maxSize: 3, maxDelayMs: 50 } }] }, store)
    for (let n = 1; n <= 5; n++) await w.emit({ type: 'room.occupied', tenantId: 'acme', data: { n } })
    await w.emit({ type: 'room.occupied', tenantId: 'other', data: { n: 6 } })
    await eventually('six events delivered', () => hook.got.flatMap((r) => JSON.parse(r.body).events).length >= 6 ? true : undefined)
    const batches = hook.got.map((r) => JSON.parse(r.body))
    for (const r of hook.got) t.ok(verify(r), 'each batch verifies')
    t.ok(batches.every((b) => b.type === 'batch' && b.events.length <= 3), 'at most maxSize events a batch')
    t.ok(batches.every((b) => b.events.every((e: { tenantId: string }) => e.tenantId === b.tenantId)), 'a batch holds one tenant\'s events')
    const events = batches.flatMap((b) => b.events)
    t.same(events.map((e) => e.data.n).sort(), [1, 2, 3, 4, 5, 6], 'every event once')
    t.equal(new Set(events.map((e) => e.id)).size, 6, 'each event keeps an id of its own')
    t.ok(hook.got.every((r) => String(r.headers['webhook-id']).startsWith('batch_')))
  })
}

t.test('redis: an event is fanned out by one node of the cluster, also one a Lua script queued with its own write', async (t) => {
  const hook = await receiver(t, () => 200)
  const keyPrefix = `rt-test-webhooks-${randomUUID()}`
  const clients = [new Redis(testRedisUrl()), new Redis(testRedisUrl())]
  const nodes = clients.map((redis, i) => new Webhooks({ options: options(hook.url), redis, keyPrefix, nodeId: `node-${i}`, log }))
  t.teardown(async () => {
    for (const n of nodes) await n.close()
    for (const c of clients) c.disconnect()
    await deleteRedisPrefix(keyPrefix)
  })
  t.equal(nodes[0]!.stream, `${keyPrefix}:webhooks:jobs`)
  for (let n = 1; n <= 10; n++) await nodes[n % 2]!.emit({ type: 'user.online', tenantId: 'acme', data: { n } })
  const script = `${eventLua}
redis.call('SET', KEYS[1], 'changed')
rt_webhook(ARGV[1], 'user.offline', 'acme', { n = 11 }, 1700000000000)
rt_webhook('', 'user.offline', 'acme', { n = 12 }, 1700000000000)`
  await clients[0]!.eval(script, 1, `${keyPrefix}:state`, nodes[0]!.stream!)
  await eventually('eleven delivered', () => hook.got.length >= 11 ? true : undefined)
  const ns = hook.got.map((r) => JSON.parse(r.body).data.n).sort((a, b) => a - b)
  t.same(ns, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 'each once, whichever node read it; nothing for an empty stream name')
  const fromLua = hook.got.map((r) => JSON.parse(r.body)).find((b) => b.data.n === 11)
  t.equal(fromLua.timestamp, new Date(1700000000000).toISOString(), 'the time the script gave')
  await eventually('the stream is empty', async () => await clients[0]!.xlen(nodes[0]!.stream!) === 0 ? true : undefined)
})

t.test('redis: a node that dies mid-attempt loses nothing: another claims its jobs', async (t) => {
  const hook = await receiver(t, (n) => n === 1 ? 'hang' : 200)
  const keyPrefix = `rt-test-webhooks-${randomUUID()}`
  t.teardown(async () => { await deleteRedisPrefix(keyPrefix) })
  const retry = { attempts: 5, initialDelayMs: 20, maxDelayMs: 50 }
  const deliver = httpDelivery([{ name: 'backend', url: hook.url, secret: SECRET }], 60_000)
  const dying = new Redis(testRedisUrl())
  const a = new RedisQueue({ redis: dying, keyPrefix, nodeId: 'a', retry, concurrency: 1, deadLetterMax: 10, visibilityMs: 500, pollMs: 50, fanout: () => [], onError: () => {} })
  a.start(deliver)
  await a.enqueue([{ id: 'msg_crash', endpoint: 'backend', tenantId: 'acme', type: 'user.offline', body: '{"n":1}', attempts: 0, queuedAt: Date.now() }])
  await eventually('node a is attempting', () => hook.got.length === 1 ? true : undefined)
  // Node a dies: its connections drop, its attempt never finishes, nothing is acknowledged.
  dying.disconnect()
  void a.close()
  const survivor = new Redis(testRedisUrl())
  const b = new RedisQueue({ redis: survivor, keyPrefix, nodeId: 'b', retry, concurrency: 4, deadLetterMax: 10, visibilityMs: 500, pollMs: 50, fanout: () => [], onError: () => {} })
  t.teardown(async () => {
    await b.close()
    survivor.disconnect()
  })
  b.start(deliver)
  await eventually('node b delivered it', () => hook.got.length === 2 ? true : undefined, { timeoutMs: 30_000 })
  t.equal(hook.got[1]!.headers['webhook-id'], 'msg_crash', 'the same delivery, so the receiver can deduplicate')
  await eventually('acknowledged', async () => await survivor.xlen(`${keyPrefix}:webhooks:jobs`) === 0 ? true : undefined)
})

t.test('redis: while Redis is down emit rejects and nothing crashes; after it restarts empty, deliveries resume', async (t) => {
  const hook = await receiver(t, () => 200)
  const port = await freePort()
  let child = await startRedisServer(port)
  t.teardown(async () => { await killRedisServer(child) })
  const redis = new Redis({ port, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 50, lazyConnect: true })
  redis.on('error', () => {})
  await redis.connect()
  t.teardown(() => { redis.disconnect() })
  const warned: string[] = []
  const w = new Webhooks({ options: options(hook.url), redis, keyPrefix: 'rt', nodeId: 'n', log: { warn: (_o, m) => { warned.push(m) }, error: () => {} } })
  t.teardown(async () => { await w.close() })
  await w.emit({ type: 'user.online', tenantId: 'acme', data: { n: 1 } })
  await eventually('first delivered', () => hook.got.length === 1 ? true : undefined)
  await killRedisServer(child)
  await t.rejects(w.emit({ type: 'user.online', tenantId: 'acme', data: { n: 2 } }), 'the caller learns the event was not queued')
  child = await startRedisServer(port)
  await eventually('queued again once Redis is back', async () => await w.emit({ type: 'user.online', tenantId: 'acme', data: { n: 3 } }).then(() => true, () => undefined), { timeoutMs: 30_000 })
  await eventually('delivered after the restart', () => hook.got.some((r) => JSON.parse(r.body).data.n === 3) ? true : undefined, { timeoutMs: 30_000 })
  t.notOk(hook.got.some((r) => JSON.parse(r.body).data.n === 2), 'the refused one was not sent')
})

t.test('retry delays double with jitter up to the cap', async (t) => {
  const policy = { attempts: 10, initialDelayMs: 1000, maxDelayMs: 10_000 }
  t.equal(retryDelay(policy, 1, () => 0), 500)
  t.equal(retryDelay(policy, 1, () => 1), 1000)
  t.equal(retryDelay(policy, 3, () => 1), 4000)
  t.equal(retryDelay(policy, 9, () => 1), 10_000, 'capped')
  t.equal(retryDelay(policy, 9, () => 0), 5000, 'jitter over the upper half')
})
