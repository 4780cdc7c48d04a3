// The SharedStore contract as one runnable check: the memory and Redis stores pass it, and so must any new backend.
import { deepStrictEqual, strictEqual } from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SharedStore } from './types.js'

/** What reports each check: tap's `t` fits (`t.equal`, `t.same`); by default node:assert, which throws at the first failure. */
export interface ConformanceAssert {
  equal (actual: unknown, expected: unknown, message: string): unknown
  same (actual: unknown, expected: unknown, message: string): unknown
}

const strict: ConformanceAssert = {
  equal: (actual, expected, message) => { strictEqual(actual, expected, message) },
  same: (actual, expected, message) => { deepStrictEqual(actual, expected, message) }
}

/**
 * Runs every operation of the store contract against `store` (use an empty scope: it writes keys such as `k`, `h`,
 * `l`, `s`, `z` and `inner:k`) and reports each check to `assert` (by default it rejects with an AssertionError naming the first
 * check that fails). It waits about a quarter of a second for two TTLs to pass.
 *
 * @example
 * import { storeConformance } from 'realtime-server/testing'
 * await storeConformance(myStore.scope(`conformance-${Date.now()}`))   // throws at the first failure
 * await storeConformance(myStore.scope('c'), t)                          // in tap: one assertion per check
 */
export async function storeConformance (store: SharedStore, assert: ConformanceAssert = strict): Promise<void> {
  let n = 0
  const label = (message?: string): string => `store check ${++n}${message === undefined ? '' : `: ${message}`}`
  const check = (actual: unknown, expected: unknown, message?: string): void => { assert.equal(actual, expected, label(message)) }
  const same = (actual: unknown, expected: unknown, message?: string): void => { assert.same(actual, expected, label(message)) }
  check(await store.get('missing'), undefined)
  check(await store.set('k', { a: [1, 'x'] }), true)
  same(await store.get('k'), { a: [1, 'x'] }, 'JSON round trip')
  check(await store.set('k', 2, { ifAbsent: true }), false, 'ifAbsent refuses an existing key')
  check(await store.set('lock', 1, { ifAbsent: true, ttlMs: 60 }), true)
  check(await store.set('lock', 2, { ifAbsent: true, ttlMs: 60 }), false)
  await sleep(120)
  check(await store.get('lock'), undefined, 'a TTL expires the key')
  check(await store.set('lock', 3, { ifAbsent: true }), true, 'and frees the lock')
  check(await store.delete('k'), true)
  check(await store.delete('k'), false)

  check(await store.increment('c'), 1)
  check(await store.increment('c', 5), 6)
  check(await store.increment('c', -2, { ttlMs: 10_000 }), 4)
  check(await store.expire('c', 50), true)
  check(await store.expire('nothing', 50), false)
  await sleep(120)
  check(await store.increment('c'), 1, 'expired counters restart')

  await store.hashSet('h', 'f1', { v: 1 })
  await store.hashSet('h', 'f2', 'two', { ttlMs: 10_000 })
  same(await store.hashGet('h', 'f1'), { v: 1 })
  same(await store.hashGetAll('h'), { f1: { v: 1 }, f2: 'two' })
  check(await store.hashIncrement('h', 'n', 3), 3)
  check(await store.hashIncrement('h', 'n', -1, { ttlMs: 10_000 }), 2)
  check(await store.hashDelete('h', 'f1'), true)
  check(await store.hashDelete('h', 'f1'), false)
  check(await store.hashDelete('nohash', 'f1'), false)
  same(await store.hashGetAll('nohash'), {})

  for (let i = 1; i <= 5; i++) await store.listPush('l', { i }, { maxLength: 3 })
  check(await store.listLength('l'), 3, 'capped')
  same(await store.listRange('l', 0, -1), [{ i: 3 }, { i: 4 }, { i: 5 }])
  same(await store.listRange('l', -2, -1), [{ i: 4 }, { i: 5 }])
  same(await store.listRange('l', 5, 10), [])
  check(await store.listPush('l2', 'x', { ttlMs: 10_000 }), 1)

  check(await store.setAdd('s', 'a'), true)
  check(await store.setAdd('s', 'a'), false)
  check(await store.setAdd('s', 'b', { ttlMs: 10_000 }), true)
  same((await store.setMembers('s')).sort(), ['a', 'b'])
  check(await store.setHas('s', 'b'), true)
  check(await store.setRemove('s', 'a'), true)
  check(await store.setRemove('s', 'a'), false)
  check(await store.setRemove('s', 'b'), true)
  same(await store.setMembers('s'), [], 'an emptied set is gone')

  await store.sortedAdd('z', 'b', 2)
  await store.sortedAdd('z', 'a', 1)
  await store.sortedAdd('z', 'c', 3, { ttlMs: 10_000 })
  await store.sortedAdd('z', 'a2', 1)
  same(await store.sortedRange('z', 1, 2), [{ member: 'a', score: 1 }, { member: 'a2', score: 1 }, { member: 'b', score: 2 }])
  same(await store.sortedRange('z', -Infinity, Infinity, 1), [{ member: 'a', score: 1 }])
  check(await store.sortedScore('z', 'c'), 3)
  check(await store.sortedScore('z', 'nope'), undefined)
  check(await store.sortedRemove('z', 'c'), true)
  check(await store.sortedRemove('z', 'c'), false)
  check(await store.sortedRemove('nozset', 'c'), false)

  const scoped = store.scope('inner')
  await scoped.set('k', 'scoped')
  check(await store.get('inner:k'), 'scoped', 'scopes prefix keys')
}
