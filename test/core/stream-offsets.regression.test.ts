import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { StreamOffsets } from '../../src/core/patches/stream-offsets.js'
import { deleteRedisPrefix, testRedisUrl } from 'realtime-server/testing'

type Entries = Array<[string, Array<[string, string[]]>]>
const fields = (r: unknown): string[][] => (r as Entries)[0]![1].map(([, f]) => f)

// Guards src/core/patches/stream-offsets.ts at the level of one client (test/core/stream-offsets.test.ts guards it
// through running servers): the streams adapter polls `XREAD ... STREAMS <s> $` until it has read
// something, so an entry added between a timed-out poll and the next one was never delivered to other nodes.
t.test('an entry added between two idle polls is read by the next poll', async (t) => {
  const prefix = `test-offsets-${randomUUID().slice(0, 8)}`
  const stream = `${prefix}:stream`
  const redis = new Redis(testRedisUrl())
  const offsets = new StreamOffsets()
  t.equal(offsets.ready, false, 'not ready before the reader has polled')
  const reader = offsets.stable(redis.duplicate())
  const raw = redis.duplicate()
  t.teardown(async () => { reader.disconnect(); raw.disconnect(); redis.disconnect(); await deleteRedisPrefix(prefix) })

  const poll = async (client: Redis): Promise<unknown> => await client.xread('COUNT', 10, 'BLOCK', 20, 'STREAMS', stream, '$')
  t.equal(await poll(reader), null, 'an idle poll times out')
  t.equal(offsets.ready, true, 'ready once the reader has its starting offset')
  t.equal(await poll(raw), null)
  await redis.xadd(stream, '*', 'n', '1')
  t.same(fields(await poll(reader)), [['n', '1']], 'the wrapped reader gets the entry')
  t.equal(await poll(raw), null, 'a raw `$` poll misses it (the adapter bug this guards)')

  await redis.xadd(stream, '*', 'n', '2')
  t.same(fields(await poll(reader)), [['n', '2']], 'and continues from the last id read')
  t.equal(await redis.xadd(`${prefix}:other`, '*', 'x', '1') !== null, true, 'other commands pass through the wrapper')
})

t.test('after a reconnection to a stream that started again with lower ids, the reader starts from its beginning', async (t) => {
  const prefix = `test-offsets-${randomUUID().slice(0, 8)}`
  const stream = `${prefix}:stream`
  const redis = new Redis(testRedisUrl())
  const reader = new StreamOffsets().stable(redis.duplicate())
  t.teardown(async () => { reader.disconnect(); redis.disconnect(); await deleteRedisPrefix(prefix) })
  const poll = async (): Promise<unknown> => await reader.xread('COUNT', 10, 'BLOCK', 20, 'STREAMS', stream, '$')

  await poll()
  await redis.xadd(stream, '*', 'n', 'old')
  t.same(fields(await poll()), [['n', 'old']])
  // What a Redis restarted without its data and with a clock behind looks like: the stream is new, its ids lower.
  await redis.del(stream)
  await redis.xadd(stream, '1-1', 'n', 'new')
  const ready = new Promise((resolve) => reader.once('ready', resolve))
  reader.disconnect(true)
  await ready
  t.same(fields(await poll()), [['n', 'new']], 'the entry of the new stream is read')
})
