// The dead-letter routes through real HTTP: credentials and tenant binding, listing, replay (same webhook-id), hostile input, webhooks off.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { deleteRedisPrefix, eventually, startServer, type TestServer } from 'realtime-server/testing'
import { METRICS_TOKEN, samplesOf, valueOf } from '../fixtures/metrics-scrape.js'
import { receiver, SECRET } from '../fixtures/webhook-receiver.js'

const OTHER_KEY = 'other-tenant-key-0123456789'

for (const store of ['memory', 'redis'] as const) {
  t.test(`${store}: dead letters listed per tenant and replayed`, async (t) => {
    let accept = false
    // 400 fails at once: every event becomes a dead letter until the receiver accepts.
    const hook = await receiver(t, () => accept ? 200 : 400)
    const prefix = `test-${randomUUID().slice(0, 8)}`
    const server = await startServer({
      ...(store === 'redis' ? { redis: prefix } : {}),
      config: {
        auth: { apiKeys: ['test-api-key-0123456789', { key: OTHER_KEY, tenantId: 'other', name: 'other-backend' }] },
        webhooks: { endpoints: [{ name: 'backend', url: hook.url, secret: SECRET, events: ['user.online'] }] },
        metrics: { token: METRICS_TOKEN },
        plugins: { presence: { options: { online: [{ namespace: '/' }], typing: [] } } }
      }
    })
    t.teardown(async () => {
      await server.close()
      if (store === 'redis') await deleteRedisPrefix(prefix)
    })
    await server.connect('/', { token: server.token({ sub: 'alice', tenantId: 'acme' }) })
    await server.connect('/', { token: server.token({ sub: 'olga', tenantId: 'other' }) })
    const list = async (query: string, apiKey: string | true = true): Promise<{ status: number, body: any }> =>
      await server.request('GET', `/api/webhooks/dead-letters${query}`, { apiKey })
    await eventually('two dead letters', async () => {
      const [a, o] = [await list('?tenantId=acme'), await list('', OTHER_KEY)]
      return a.body.deadLetters?.length === 1 && o.body.deadLetters?.length === 1 ? true : undefined
    })

    t.equal((await server.request('GET', '/api/webhooks/dead-letters?tenantId=acme')).status, 401, 'no credential')
    t.match(await list(''), { status: 400, body: { code: 'RT_ERR_VALIDATION', field: 'tenantId' } }, 'an unbound key names the tenant')
    t.match(await list('?tenantId=acme', OTHER_KEY), { status: 403, body: { code: 'RT_ERR_FORBIDDEN' } }, 'a bound key cannot name another tenant')
    t.match(await list('?tenantId=acme&limit=0'), { status: 400, body: { code: 'RT_ERR_VALIDATION', field: 'limit' } })

    const acme = (await list('?tenantId=acme')).body
    t.match(acme, { tenantId: 'acme', durable: store === 'redis', deadLetters: [{ endpoint: 'backend', type: 'user.online', attempts: 1, error: 'HTTP 400', event: { type: 'user.online', tenantId: 'acme', data: { userId: 'alice' } } }] })
    const mine = acme.deadLetters[0]
    const theirs = (await list('', OTHER_KEY)).body.deadLetters[0]
    t.equal(theirs.event.data.userId, 'olga', 'the bound key sees its tenant\'s letter only')

    const replay = async (body: unknown, apiKey: string | true = true): Promise<{ status: number, body: any }> =>
      await server.request('POST', '/api/webhooks/dead-letters/replay', { apiKey, body })
    t.match(await replay({ deadIds: [mine.deadId] }, OTHER_KEY), { status: 202, body: { tenantId: 'other', replayed: 0 } }, 'another tenant\'s letter is not replayed')
    t.match(await replay({ tenantId: 'acme', deadIds: ['__proto__', 'constructor', '1-1', mine.deadId.slice(0, -1) + 'x'] }), { status: 202, body: { replayed: 0 } }, 'unknown ids are skipped')
    t.match(await replay({ tenantId: 'acme', deadIds: ['a\uD800b'] }), { status: 400, body: { code: 'RT_ERR_VALIDATION', field: 'deadIds.0' } }, 'a lone surrogate is refused, naming the field')
    t.match(await replay({ tenantId: 'acme', deadIds: ['x'.repeat(100_000)] }), { status: 400, body: { code: 'RT_ERR_VALIDATION', field: 'deadIds.0' } }, 'a long id is refused')
    t.match(await replay({ tenantId: 'acme', deadIds: ['x'.repeat(1 << 20)] }), { status: 413, body: { code: 'RT_ERR_PAYLOAD_TOO_LARGE' } }, 'a 1 MB id is over the body limit')
    t.match(await replay({ tenantId: 'acme', deadIds: [] }), { status: 400, body: { field: 'deadIds' } })

    accept = true
    const before = hook.got.length
    t.match(await replay({ tenantId: 'acme', deadIds: [mine.deadId] }), { status: 202, body: { tenantId: 'acme', replayed: 1 } })
    await eventually('the replay delivered', () => hook.got.length > before && hook.got.at(-1)!.status === 200 ? true : undefined)
    t.equal(hook.got.at(-1)!.headers['webhook-id'], mine.id, 'a replay keeps the webhook-id')
    t.same((await list('?tenantId=acme')).body.deadLetters, [], 'no longer a dead letter')
    const samples = await samplesOf(server)
    t.equal(valueOf(samples, 'rt_webhook_attempts_total', { endpoint: 'backend', outcome: 'failed' }), 2, 'attempts by outcome')
    t.equal(valueOf(samples, 'rt_webhook_attempts_total', { endpoint: 'backend', outcome: 'delivered' }), 1)
    t.equal(valueOf(samples, 'rt_webhook_dead_letters_total', { endpoint: 'backend' }), 2, 'dead letters made')
    t.equal((await list('', OTHER_KEY)).body.deadLetters.length, 1, 'the other tenant\'s letter is still there')
  })
}

t.test('webhooks off: the routes answer RT_ERR_WEBHOOKS_OFF, after authentication', async (t) => {
  const server: TestServer = await startServer({})
  t.teardown(async () => { await server.close() })
  t.equal((await server.request('GET', '/api/webhooks/dead-letters?tenantId=acme')).status, 401)
  t.match(await server.request('GET', '/api/webhooks/dead-letters?tenantId=acme', { apiKey: true }), { status: 404, body: { code: 'RT_ERR_WEBHOOKS_OFF' } })
  t.match(await server.request('POST', '/api/webhooks/dead-letters/replay', { apiKey: true, body: { tenantId: 'acme', deadIds: ['1-1'] } }), { status: 404, body: { code: 'RT_ERR_WEBHOOKS_OFF' } })
})
