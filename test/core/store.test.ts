import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { MemoryStoreBackend, memoryStore } from '../../src/core/store/memory.js'
import { redisStore } from '../../src/core/store/redis.js'
import { deleteRedisPrefix, storeConformance, testRedisUrl } from 'realtime-server/testing'

/** One contract, two implementations: the same assertions run against memory and the real Redis. */
t.test('memory store', async (t) => {
  const backend = new MemoryStoreBackend()
  t.teardown(() => { backend.close() })
  await storeConformance(memoryStore(backend, 'p:'), t)
  backend.sweep(Date.now() + 60_000)
  t.equal(await memoryStore(backend, 'p:').get('lock'), 3, 'keys without TTL survive a sweep')
})

t.test('redis store', async (t) => {
  const prefix = `test-store-${randomUUID().slice(0, 8)}`
  const redis = new Redis(testRedisUrl())
  t.teardown(async () => { redis.disconnect(); await deleteRedisPrefix(prefix) })
  await storeConformance(redisStore(redis, `${prefix}:`), t)
})

t.test('the conformance suite catches a store that breaks the contract', async (t) => {
  const backend = new MemoryStoreBackend()
  t.teardown(() => { backend.close() })
  const good = memoryStore(backend, 'broken:')
  // A store whose ifAbsent writes overwrite: the lock check must fail.
  const broken = { ...good, set: async (key: string, value: unknown) => await good.set(key, value) } as typeof good
  await t.rejects(storeConformance(broken), { name: 'AssertionError', message: /ifAbsent refuses an existing key/ })
})
