import { Redis } from 'ioredis'
import t from 'tap'
import { record, startServer, testRedisUrl, waitFor, type ClientSocket, type TestServer } from 'realtime-server/testing'
import { fingerprint } from '../../../plugins/tenant-broadcast/idempotency.js'

const TS = '2025-11-05T10:00:00Z'
const config = (options: object = {}): object => ({ plugins: { 'tenant-broadcast': { options: { rooms: [{ kind: 'campaign' }], ...options } } } })
const event = (label: string, extra: object = {}): Record<string, unknown> => ({ type: 'campaign:paused', payload: { campaignId: label, timestamp: TS }, tenantId: 'acme', ...extra })
const labels = (seen: ReturnType<typeof record>): string[] => seen.map((e) => e.args[0].campaignId)

async function sentinel (server: TestServer, sockets: ClientSocket[], tenantId = 'acme'): Promise<void> {
  const done = sockets.map(async (s) => await waitFor(s, 'campaign:paused', { filter: (p) => p.campaignId === 'sentinel' }))
  await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: event('sentinel', { tenantId }) })
  await Promise.all(done)
}

t.test('idempotent triggers: same key, same result, published once, across two nodes', async (t) => {
  const prefix = `test-tb-idem-${Math.random().toString(36).slice(2, 10)}`
  const one = await startServer({ config: config(), redis: prefix })
  t.teardown(() => one.close())
  const two = await startServer({ config: config(), redis: prefix })
  t.teardown(() => two.close())
  const s1 = await one.connect('/', { token: one.token({ sub: 'u1', tenantId: 'acme' }) })
  const s2 = await two.connect('/', { token: two.token({ sub: 'u2', tenantId: 'acme' }) })
  const seen1 = record(s1, 'campaign:paused')
  const seen2 = record(s2, 'campaign:paused')
  const post = async (server: TestServer, body: object): Promise<{ status: number, body: any }> =>
    await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body })

  const first = await post(one, event('once', { idempotencyKey: 'k-1' }))
  t.equal(first.status, 200)
  t.equal(first.body.recipients, 2, 'both nodes\' sockets counted')
  const again = await post(one, event('once', { idempotencyKey: 'k-1' }))
  t.same(again.body, first.body, 'the same key gives the same result')
  const otherNode = await post(two, event('once', { idempotencyKey: 'k-1' }))
  t.same(otherNode.body, first.body, 'on the other node too')
  const reordered = await post(two, { idempotencyKey: 'k-1', tenantId: 'acme', payload: { timestamp: TS, campaignId: 'once' }, type: 'campaign:paused' })
  t.same(reordered.body, first.body, 'key order in the JSON does not matter')

  const mismatch = await post(one, event('different', { idempotencyKey: 'k-1' }))
  t.same([mismatch.status, mismatch.body.code], [422, 'RT_BROADCAST_IDEMPOTENCY_MISMATCH'])
  const mismatchTarget = await post(one, event('once', { idempotencyKey: 'k-1', to: { users: ['u1'] } }))
  t.equal(mismatchTarget.status, 422, 'another target is another event')
  const otherTenant = await post(one, event('other-tenant', { idempotencyKey: 'k-1', tenantId: 'globex' }))
  t.equal(otherTenant.status, 200, 'keys are per tenant')
  t.not(otherTenant.body.eventId, first.body.eventId)

  // Concurrent requests with one key, spread over both nodes: one publish, one result.
  const burst = await Promise.all([one, two, one, two, one].map(async (s) => await post(s, event('burst', { idempotencyKey: 'k-burst' }))))
  t.same(burst.map((r) => r.status), [200, 200, 200, 200, 200])
  t.equal(new Set(burst.map((r) => r.body.eventId)).size, 1, 'every request got the one event id')

  await sentinel(one, [s1, s2])
  t.same(labels(seen1), ['once', 'burst', 'sentinel'], 'each keyed event arrived once')
  t.same(labels(seen2), ['once', 'burst', 'sentinel'])
})

t.test('a replay says so; a key held by a running request waits for it, then 409', async (t) => {
  const server = await startServer({ config: config({ idempotency: { waitMs: 0 } }), redis: true })
  t.teardown(() => server.close())
  const redis = new Redis(testRedisUrl())
  t.teardown(() => { redis.disconnect() })
  const s = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const seen = record(s, 'campaign:paused')
  const key = (k: string): string => `${server.keyPrefix!}:tenant-broadcast:idem:acme:${k}`

  const res = await fetch(`${server.url}/api/tenant-broadcast/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'test-api-key-0123456789' },
    body: JSON.stringify(event('replayed', { idempotencyKey: 'k-r' }))
  })
  t.equal(res.status, 200)
  t.equal(res.headers.get('idempotent-replayed'), null, 'a first request is not a replay')
  const replay = await fetch(`${server.url}/api/tenant-broadcast/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'test-api-key-0123456789' },
    body: JSON.stringify(event('replayed', { idempotencyKey: 'k-r' }))
  })
  t.equal(replay.headers.get('idempotent-replayed'), 'true')
  t.ok(await redis.pttl(key('k-r')) > 3_600_000, 'the result is kept for the window (24 h by default)')

  // Another node holds the key and has not finished: with waitMs 0 the answer is 409 at once.
  const pending = event('pending', { idempotencyKey: 'k-p' })
  await redis.set(key('k-p'), JSON.stringify({ state: 'pending', fp: fingerprint(pending as any) }), 'PX', 60000)
  const busy = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: pending })
  t.same([busy.status, busy.body.code], [409, 'RT_BROADCAST_IDEMPOTENCY_IN_PROGRESS'])

  // Once it finished, the result is the one it stored, and nothing is published again.
  const stored = { eventId: 'from-the-other-node', recipients: 7 }
  await redis.set(key('k-p'), JSON.stringify({ state: 'done', fp: fingerprint(pending as any), result: stored }), 'PX', 60000)
  const done = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: pending })
  t.same([done.status, done.body], [200, stored])

  await sentinel(server, [s])
  t.same(labels(seen), ['replayed', 'sentinel'])
})

t.test('a request waiting for a running one gets its result', async (t) => {
  const server = await startServer({ config: config({ idempotency: { waitMs: 60000 } }), redis: true })
  t.teardown(() => server.close())
  const redis = new Redis(testRedisUrl())
  t.teardown(() => { redis.disconnect() })
  const key = `${server.keyPrefix!}:tenant-broadcast:idem:acme:k-w`
  const body = event('waiting', { idempotencyKey: 'k-w' })
  const fp = fingerprint(body as any)
  await redis.set(key, JSON.stringify({ state: 'pending', fp }), 'PX', 60000)
  const waiting = server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body })
  const stored = { eventId: 'finished-elsewhere', recipients: 3 }
  await redis.set(key, JSON.stringify({ state: 'done', fp, result: stored }), 'PX', 60000)
  t.same((await waiting).body, stored)
})

t.test('batch triggers', async (t) => {
  const server = await startServer({ config: config({ batch: { maxEvents: 3 } }), redis: true })
  t.teardown(() => server.close())
  const u1 = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const u2 = await server.connect('/', { token: server.token({ sub: 'u2', tenantId: 'acme' }) })
  const g = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'globex' }) })
  await server.emitWithAck(u2, 'subscribe:campaign', 'c1')
  const seen1 = record(u1, 'campaign:paused')
  const seen2 = record(u2, 'campaign:paused')
  const seenG = record(g, 'campaign:paused')
  const batch = async (body: object): Promise<{ status: number, body: any }> =>
    await server.request('POST', '/api/tenant-broadcast/events/batch', { apiKey: true, body })
  const item = (label: string, extra: object = {}): object => ({ type: 'campaign:paused', payload: { campaignId: label, timestamp: TS }, ...extra })

  const res = await batch({
    tenantId: 'acme',
    events: [item('b-tenant'), item('b-user', { to: { users: ['u1'] } }), item('b-room', { to: { room: { kind: 'campaign', id: 'c1' } }, language: 'ar' })]
  })
  t.equal(res.status, 200)
  t.same(res.body.results.map((r: any) => r.recipients), [2, 1, 1])
  t.equal(new Set(res.body.results.map((r: any) => r.eventId)).size, 3)

  const perItem = await batch({ events: [item('b-acme', { tenantId: 'acme', to: { users: ['u1'] } }), item('b-globex', { tenantId: 'globex' })] })
  t.same(perItem.body.results.map((r: any) => r.recipients), [1, 1], 'an unbound key may address a tenant per item')

  // Invalid batches publish nothing.
  let bad = await batch({ tenantId: 'acme', events: [item('nope-1'), { type: 'campaign:paused', payload: { campaignId: 'nope-2' } }] })
  t.same([bad.status, bad.body.field, bad.body.message], [400, 'events.1.payload.timestamp', 'Invalid payload: events.1.payload.timestamp: is required'])
  bad = await batch({ tenantId: 'acme', events: [item('nope-3'), { type: 'no_such_event', payload: {} }] })
  t.same([bad.status, bad.body.code, bad.body.field], [400, 'RT_BROADCAST_UNKNOWN_EVENT', 'events.1.type'])
  bad = await batch({ events: [item('nope-4', { tenantId: 'acme' }), item('nope-5')] })
  t.same([bad.status, bad.body.field], [400, 'events.1.tenantId'])
  bad = await batch({ tenantId: 'acme', events: [item('1'), item('2'), item('3'), item('4')] })
  t.same([bad.status, bad.body.field], [400, 'events'], 'more than batch.maxEvents')
  bad = await batch({ tenantId: 'acme', events: [] })
  t.equal(bad.status, 400)
  bad = await batch({ tenantId: 'acme', events: [item('dup', { idempotencyKey: 'same' }), item('dup', { idempotencyKey: 'same' })] })
  t.same([bad.status, bad.body.field], [400, 'events.1.idempotencyKey'])

  // Idempotent items: a retried batch replays them.
  const keyed = { tenantId: 'acme', events: [item('k-a', { idempotencyKey: 'a' }), item('k-b', { idempotencyKey: 'b', to: { users: ['u2'] } })] }
  const first = await batch(keyed)
  const retry = await batch(keyed)
  t.same(retry.body.results, first.body.results.map((r: any) => ({ ...r, replayed: true })))
  // One item's key was used for another event: 422, and the keys the batch claimed are freed.
  bad = await batch({ tenantId: 'acme', events: [item('k-c', { idempotencyKey: 'c' }), item('k-a-changed', { idempotencyKey: 'a' })] })
  t.same([bad.status, bad.body.code], [422, 'RT_BROADCAST_IDEMPOTENCY_MISMATCH'])
  const freed = await batch({ tenantId: 'acme', events: [item('k-c', { idempotencyKey: 'c' })] })
  t.equal(freed.body.results[0].replayed, undefined, 'key c was released, so it publishes now')

  await sentinel(server, [u1, u2])
  await sentinel(server, [g], 'globex')
  t.same(labels(seen1), ['b-tenant', 'b-user', 'b-acme', 'k-a', 'k-c', 'sentinel'])
  t.same(labels(seen2), ['b-tenant', 'b-room', 'k-a', 'k-b', 'k-c', 'sentinel'])
  const roomEvent = seen2.find((e) => e.args[0].campaignId === 'b-room')!
  t.equal(roomEvent.args[1].language, 'ar')
  t.same(labels(seenG), ['b-globex', 'sentinel'])
})
