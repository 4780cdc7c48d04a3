import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { withStableStreamOffsets } from '../../src/core/stream-offsets.js'
import { deleteRedisPrefix, testRedisUrl } from 'realtime-server/testing'

// Guards src/core/stream-offsets.ts: the streams adapter polls `XREAD ... STREAMS <s> $` until it has read
// something, so an entry added between a timed-out poll and the next one was never delivered to other nodes.
t.test('an entry added between two idle polls is read by the next poll', async (t) => {
  const prefix = `test-offsets-${randomUUID().slice(0, 8)}`
  const stream = `${prefix}:stream`
  const redis = new Redis(testRedisUrl())
  const reader = withStableStreamOffsets(redis).duplicate()
  const raw = redis.duplicate()
  t.teardown(async () => { reader.disconnect(); raw.disconnect(); redis.disconnect(); await deleteRedisPrefix(prefix) })

  const poll = async (client: Redis): Promise<unknown> => await client.xread('COUNT', 10, 'BLOCK', 20, 'STREAMS', stream, '$')
  t.equal(await poll(reader), null, 'an idle poll times out')
  t.equal(await poll(raw), null)
  await redis.xadd(stream, '*', 'n', '1')
  const next = await poll(reader) as Array<[string, Array<[string, string[]]>]>
  t.same(next[0]![1].map(([, fields]) => fields), [['n', '1']], 'the wrapped reader gets the entry')
  t.equal(await poll(raw), null, 'a raw `$` poll misses it (the adapter bug this guards)')

  await redis.xadd(stream, '*', 'n', '2')
  const after = await poll(reader) as Array<[string, Array<[string, string[]]>]>
  t.same(after[0]![1].map(([, fields]) => fields), [['n', '2']], 'and continues from the last id read')
  t.equal(await redis.xadd(`${prefix}:other`, '*', 'x', '1') !== null, true, 'other commands pass through the wrapper')
})
