import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { MemoryStoreBackend, memoryStore } from '../../src/core/store/memory.js'
import { redisStore } from '../../src/core/store/redis.js'
import type { SharedStore } from '../../src/core/store/types.js'
import { deleteRedisPrefix, testRedisUrl } from 'realtime-server/testing'

/** One contract, two implementations: the same assertions run against memory and the real Redis. */
async function conformance (t: Test, store: SharedStore): Promise<void> {
  t.equal(await store.get('missing'), undefined)
  t.equal(await store.set('k', { a: [1, 'x'] }), true)
  t.same(await store.get('k'), { a: [1, 'x'] }, 'JSON round trip')
  t.equal(await store.set('k', 2, { ifAbsent: true }), false, 'ifAbsent refuses an existing key')
  t.equal(await store.set('lock', 1, { ifAbsent: true, ttlMs: 60 }), true)
  t.equal(await store.set('lock', 2, { ifAbsent: true, ttlMs: 60 }), false)
  await sleep(120)
  t.equal(await store.get('lock'), undefined, 'a TTL expires the key')
  t.equal(await store.set('lock', 3, { ifAbsent: true }), true, 'and frees the lock')
  t.equal(await store.delete('k'), true)
  t.equal(await store.delete('k'), false)

  t.equal(await store.increment('c'), 1)
  t.equal(await store.increment('c', 5), 6)
  t.equal(await store.increment('c', -2, { ttlMs: 10_000 }), 4)
  t.equal(await store.expire('c', 50), true)
  t.equal(await store.expire('nothing', 50), false)
  await sleep(120)
  t.equal(await store.increment('c'), 1, 'expired counters restart')

  await store.hashSet('h', 'f1', { v: 1 })
  await store.hashSet('h', 'f2', 'two', { ttlMs: 10_000 })
  t.same(await store.hashGet('h', 'f1'), { v: 1 })
  t.same(await store.hashGetAll('h'), { f1: { v: 1 }, f2: 'two' })
  t.equal(await store.hashIncrement('h', 'n', 3), 3)
  t.equal(await store.hashIncrement('h', 'n', -1, { ttlMs: 10_000 }), 2)
  t.equal(await store.hashDelete('h', 'f1'), true)
  t.equal(await store.hashDelete('h', 'f1'), false)
  t.equal(await store.hashDelete('nohash', 'f1'), false)
  t.same(await store.hashGetAll('nohash'), {})

  for (let i = 1; i <= 5; i++) await store.listPush('l', { i }, { maxLength: 3 })
  t.equal(await store.listLength('l'), 3, 'capped')
  t.same(await store.listRange('l', 0, -1), [{ i: 3 }, { i: 4 }, { i: 5 }])
  t.same(await store.listRange('l', -2, -1), [{ i: 4 }, { i: 5 }])
  t.same(await store.listRange('l', 5, 10), [])
  t.equal(await store.listPush('l2', 'x', { ttlMs: 10_000 }), 1)

  t.equal(await store.setAdd('s', 'a'), true)
  t.equal(await store.setAdd('s', 'a'), false)
  t.equal(await store.setAdd('s', 'b', { ttlMs: 10_000 }), true)
  t.same((await store.setMembers('s')).sort(), ['a', 'b'])
  t.equal(await store.setHas('s', 'b'), true)
  t.equal(await store.setRemove('s', 'a'), true)
  t.equal(await store.setRemove('s', 'a'), false)
  t.equal(await store.setRemove('s', 'b'), true)
  t.same(await store.setMembers('s'), [], 'an emptied set is gone')

  await store.sortedAdd('z', 'b', 2)
  await store.sortedAdd('z', 'a', 1)
  await store.sortedAdd('z', 'c', 3, { ttlMs: 10_000 })
  await store.sortedAdd('z', 'a2', 1)
  t.same(await store.sortedRange('z', 1, 2), [{ member: 'a', score: 1 }, { member: 'a2', score: 1 }, { member: 'b', score: 2 }])
  t.same(await store.sortedRange('z', -Infinity, Infinity, 1), [{ member: 'a', score: 1 }])
  t.equal(await store.sortedScore('z', 'c'), 3)
  t.equal(await store.sortedScore('z', 'nope'), undefined)
  t.equal(await store.sortedRemove('z', 'c'), true)
  t.equal(await store.sortedRemove('z', 'c'), false)
  t.equal(await store.sortedRemove('nozset', 'c'), false)

  const scoped = store.scope('inner')
  await scoped.set('k', 'scoped')
  t.equal(await store.get('inner:k'), 'scoped', 'scopes prefix keys')
}

t.test('memory store', async (t) => {
  const backend = new MemoryStoreBackend()
  t.teardown(() => { backend.close() })
  await conformance(t, memoryStore(backend, 'p:'))
  backend.sweep(Date.now() + 60_000)
  t.equal(await memoryStore(backend, 'p:').get('lock'), 3, 'keys without TTL survive a sweep')
})

t.test('redis store', async (t) => {
  const prefix = `test-store-${randomUUID().slice(0, 8)}`
  const redis = new Redis(testRedisUrl())
  t.teardown(async () => { redis.disconnect(); await deleteRedisPrefix(prefix) })
  await conformance(t, redisStore(redis, `${prefix}:`))
})
