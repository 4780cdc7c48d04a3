import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t from 'tap'
import { pluginRedis, testRedisUrl } from 'realtime-server/testing'
import { createMemoryMessageStore } from '../../../plugins/chat-messages/store/memory.js'
import type { MessageStore, NewMessage } from '../../../plugins/chat-messages/store/index.js'
import { createRedisMessageStore } from '../../../plugins/chat-messages/store/redis.js'

const storeOptions = { maxPerChannel: 100, tempIdTtlMs: 60000, processingTimeoutMs: 150 }

const draft = (channelId: string, content: string, userId = 'u1'): NewMessage => ({
  id: randomUUID(), content, channelId, userId, replyToId: null, user: { id: userId, name: userId, imageUrl: null }, createdAt: new Date().toISOString()
})

async function redisStore (t: { teardown: (fn: () => unknown) => void }): Promise<MessageStore> {
  return createRedisMessageStore(await pluginRedis(t, 'store-fixture'), storeOptions)
}

const implementations: Array<[string, (t: { teardown: (fn: () => unknown) => void }) => Promise<MessageStore>]> = [
  ['memory', async (t) => {
    const store = createMemoryMessageStore(storeOptions)
    t.teardown(() => store.close())
    return store
  }],
  ['redis', redisStore]
]

for (const [name, make] of implementations) {
  t.test(`${name}: statuses only move forward`, async (t) => {
    const store = await make(t)
    const m = await store.create('acme', draft('c', 'hello'))
    t.equal(m.deliveryStatus, 'SENT')
    t.equal(m.updatedAt, m.createdAt)
    t.equal((await store.advanceStatus('acme', m.id, 'READ', 'T2'))?.deliveryStatus, 'READ')
    const back = await store.advanceStatus('acme', m.id, 'DELIVERED', 'T3')
    t.match(back, { deliveryStatus: 'READ', updatedAt: 'T2' }, 'DELIVERED after READ changes nothing')
    t.match(await store.advanceStatus('acme', m.id, 'SENT', 'T4'), { deliveryStatus: 'READ', updatedAt: 'T2' })
    t.match(await store.get('acme', m.id), { id: m.id, content: 'hello', deliveryStatus: 'READ', updatedAt: 'T2' })
    t.equal(await store.advanceStatus('acme', 'missing', 'READ', 'T5'), undefined)
    t.equal(await store.get('globex', m.id), undefined, 'another tenant does not see it')
  })

  t.test(`${name}: tempId records`, async (t) => {
    const store = await make(t)
    t.same(await store.claimTempId('acme', 'u1', 'tmp'), { state: 'claimed' })
    t.same(await store.claimTempId('acme', 'u1', 'tmp'), { state: 'processing' })
    t.same(await store.claimTempId('acme', 'u2', 'tmp'), { state: 'claimed' }, 'per user')
    t.same(await store.claimTempId('globex', 'u1', 'tmp'), { state: 'claimed' }, 'per tenant')
    await store.releaseTempId('acme', 'u1', 'tmp')
    t.same(await store.claimTempId('acme', 'u1', 'tmp'), { state: 'claimed' }, 'released')
    const m = await store.create('acme', draft('c', 'x', 'u1'), 'tmp')
    t.same(await store.claimTempId('acme', 'u1', 'tmp'), { state: 'done', messageId: m.id })
    await store.releaseTempId('acme', 'u1', 'tmp')
    t.same(await store.claimTempId('acme', 'u1', 'tmp'), { state: 'done', messageId: m.id }, 'a done record is not released')

    // An in-flight claim whose sender died expires after processingTimeoutMs.
    t.same(await store.claimTempId('acme', 'u1', 'stuck'), { state: 'claimed' })
    await sleep(storeOptions.processingTimeoutMs + 250)
    t.same(await store.claimTempId('acme', 'u1', 'stuck'), { state: 'claimed' }, 'claimable again once expired')
  })

  t.test(`${name}: reactions and reads are set once, and only on existing messages`, async (t) => {
    const store = await make(t)
    const m = await store.create('acme', draft('c', 'x'))
    const r = { id: 'r1', type: '👍', userId: 'u2', messageId: m.id, createdAt: 'T1' }
    t.same(await store.addReaction('acme', r), { reaction: r, added: true })
    t.same(await store.addReaction('acme', { ...r, id: 'r2', createdAt: 'T2' }), { reaction: r, added: false })
    t.equal(await store.addReaction('acme', { ...r, messageId: 'missing' }), undefined)
    t.equal(await store.addReaction('globex', r), undefined, 'not in another tenant')
    t.equal(await store.removeReaction('acme', m.id, 'u2', '👍'), true)
    t.equal(await store.removeReaction('acme', m.id, 'u2', '👍'), false)
    t.same(await store.markRead('acme', m.id, 'u2', 'T1'), { readAt: 'T1', first: true })
    t.same(await store.markRead('acme', m.id, 'u2', 'T2'), { readAt: 'T1', first: false })
    t.same(await store.markRead('acme', m.id, 'u3', 'T3'), { readAt: 'T3', first: true })
    t.equal(await store.markRead('acme', 'missing', 'u2', 'T1'), undefined)
    t.same(await store.readers('acme', m.id), { u2: 'T1', u3: 'T3' })
    t.same(await store.readers('acme', 'missing'), {})
  })

  t.test(`${name}: ids with separators cannot collide across tenants and channels`, async (t) => {
    const store = await make(t)
    await store.create('a:b', draft('c', 'tenant a:b, channel c'))
    await store.create('a', draft('b:c', 'tenant a, channel b:c'))
    t.same((await store.history('a:b', 'c', { limit: 10 })).messages.map((m) => m.content), ['tenant a:b, channel c'])
    t.same((await store.history('a', 'b:c', { limit: 10 })).messages.map((m) => m.content), ['tenant a, channel b:c'])
    t.same((await store.history('a', 'b', { limit: 10 })).messages, [])
  })

  t.test(`${name}: history cursor`, async (t) => {
    const store = await make(t)
    const ids: string[] = []
    for (let i = 1; i <= 5; i++) ids.push((await store.create('acme', draft('c', `m${i}`))).id)
    const p1 = await store.history('acme', 'c', { limit: 2 })
    t.same(p1.messages.map((m) => m.content), ['m4', 'm5'])
    const p2 = await store.history('acme', 'c', { limit: 2, before: p1.nextCursor! })
    t.same(p2.messages.map((m) => m.content), ['m2', 'm3'])
    const p3 = await store.history('acme', 'c', { limit: 2, before: p2.nextCursor! })
    t.same(p3.messages.map((m) => m.content), ['m1'])
    t.equal(p3.nextCursor, null)
    t.same((await store.history('acme', 'c', { limit: 10, before: '1' })).messages, [], 'nothing before the first')
  })
}

t.test('redis: trimming deletes the old messages\' keys', async (t) => {
  const fixture = await pluginRedis(t, 'store-fixture')
  const prefix = fixture.key('store:')
  const redis = new Redis(testRedisUrl())
  t.teardown(() => { redis.disconnect() })
  const store = createRedisMessageStore(fixture, { ...storeOptions, maxPerChannel: 2 })
  const first = await store.create('acme', draft('c', 'm1'))
  await store.addReaction('acme', { id: 'r', type: 'x', userId: 'u', messageId: first.id, createdAt: 'T' })
  await store.markRead('acme', first.id, 'u', 'T')
  await store.create('acme', draft('c', 'm2'))
  await store.create('acme', draft('c', 'm3'))
  t.equal(await store.get('acme', first.id), undefined)
  t.same(await redis.keys(`${prefix}acme:msg:${first.id}*`), [], 'message, reactions and reads deleted')
  t.equal(await redis.zcard(`${prefix}acme:ch:c:ids`), 2)
})

t.test('redis: a script Redis does not know (after a restart) is sent again', async (t) => {
  const redis = await pluginRedis(t, 'store-fixture')
  const marker = randomUUID()
  const script = redis.script<string>('marker', { lua: `return '${marker}'`, keys: 0 })
  t.equal(await script([]), marker, 'NOSCRIPT, then EVAL')
  t.equal(await script([]), marker, 'then EVALSHA')
  await t.rejects(redis.script('nope', { lua: 'return redis.call(\'NOPE\')', keys: 0 })([]), /Unknown Redis command|unknown command/i, 'other errors are thrown')
})

t.test('memory: trimming', async (t) => {
  const store = createMemoryMessageStore({ ...storeOptions, maxPerChannel: 2 })
  t.teardown(() => store.close())
  const first = await store.create('acme', draft('c', 'm1'))
  await store.create('acme', draft('c', 'm2'))
  await store.create('acme', draft('c', 'm3'))
  t.equal(await store.get('acme', first.id), undefined)
  const page = await store.history('acme', 'c', { limit: 5 })
  t.same(page.messages.map((m) => m.content), ['m2', 'm3'])
  t.equal(page.nextCursor, null)
})
