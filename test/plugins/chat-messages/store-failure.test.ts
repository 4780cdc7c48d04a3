import { Redis } from 'ioredis'
import t from 'tap'
import { startServer, testRedisUrl, waitFor } from 'realtime-server/testing'

t.test('when Redis fails, sends get a clear message:failed and connections a connection:error', async (t) => {
  const server = await startServer({ config: { plugins: { 'chat-messages': {} } }, redis: true })
  t.teardown(() => server.close())
  const redis = new Redis(testRedisUrl())
  t.teardown(() => redis.disconnect())
  const alice = await server.connect('/', { token: server.token({ sub: 'alice', tenantId: 'acme' }) })
  await server.emitWithAck(alice, 'channel:join', { channelId: 'c' })

  // Keys of the wrong type make Redis answer with errors (WRONGTYPE), as a broken store would; nothing is mocked.
  await redis.hset(`${server.keyPrefix!}:chat-messages:store:acme:ch:c:seq`, 'broken', '1')
  await redis.set(`${server.keyPrefix!}:chat-messages:channels:acme:bob`, 'broken')

  const failed = waitFor(alice, 'message:failed')
  const ack = await server.emitWithAck(alice, 'message:send', { content: 'lost?', channelId: 'c', tempId: 't1' })
  t.same(ack, { error: { code: 'RT_CHAT_SEND_FAILED', message: 'Message could not be saved; nothing was sent' }, tempId: 't1', status: 'FAILED', processed: true })
  t.match((await failed)[0], { error: 'Message could not be saved; nothing was sent', code: 'RT_CHAT_SEND_FAILED', tempId: 't1', status: 'FAILED', processed: true })

  // The failed send released its tempId: once the store works again, the retry goes through.
  await redis.del(`${server.keyPrefix!}:chat-messages:store:acme:ch:c:seq`)
  const retry = await server.emitWithAck(alice, 'message:send', { content: 'lost?', channelId: 'c', tempId: 't1' })
  t.equal(retry.status, 'DELIVERED')
  t.equal(retry.duplicate, undefined)

  const bob = server.client('/', { token: server.token({ sub: 'bob', tenantId: 'acme' }) })
  const [error] = await waitFor(bob, 'connection:error')
  t.same(error, { error: 'Could not load your channels', reason: 'server_error', reconnectAttempt: 0 })
})
