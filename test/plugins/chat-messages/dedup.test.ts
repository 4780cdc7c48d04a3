import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { deleteRedisPrefix, startServer, waitFor, type ClientSocket, type TestServer } from 'realtime-server/testing'

/**
 * An access hook that answers at once, except the request it is told to hold: that one waits until
 * released, which keeps a `message:send` in flight (its membership check) for as long as a test needs.
 */
async function accessHook (t: { teardown: (fn: () => unknown) => void }) {
  let held: { reached: () => void, release: Promise<void> } | undefined
  const server = createServer((req, res) => {
    req.resume() // the body is not needed: the hook only answers
    req.on('end', () => {
      const hold = held
      held = undefined
      const answer = (): void => { res.statusCode = 204; res.end() }
      if (hold === undefined) return answer()
      hold.reached()
      void hold.release.then(answer)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/access`,
    /** Holds the next request: `reached` resolves when it arrives, `release()` answers it. */
    holdNext () {
      let reached!: () => void
      let release!: () => void
      const arrived = new Promise<void>((resolve) => { reached = resolve })
      held = { reached, release: new Promise<void>((resolve) => { release = resolve }) }
      return { arrived, release }
    }
  }
}

const config = (hookUrl: string) => ({
  plugins: {
    'chat-messages': {
      options: {
        channels: { access: { mode: 'hook', url: hookUrl, cacheTtlMs: 0, timeoutMs: 120000 } },
        messages: { processingTimeoutMs: 120000, rateLimit: { messages: 0 } }
      }
    }
  }
})

async function member (server: TestServer, userId: string, channelId: string): Promise<ClientSocket> {
  const socket = await server.connect('/', { token: server.token({ sub: userId, tenantId: 'acme' }) })
  await server.emitWithAck(socket, 'channel:join', { channelId })
  return socket
}

const historyIds = async (server: TestServer, socket: ClientSocket, channelId: string): Promise<string[]> =>
  (await server.emitWithAck(socket, 'channel:history', { channelId })).messages.map((m: any) => m.id)

for (const redis of [false, true]) {
  t.test(`one node (${redis ? 'redis' : 'memory'}): a duplicate in flight fails, a retry after success gets the original id`, async (t) => {
    const hook = await accessHook(t)
    const server = await startServer({ config: config(hook.url), redis })
    t.teardown(() => server.close())
    const alice = await member(server, 'alice', 'room')

    const { arrived, release } = hook.holdNext()
    const first = server.emitWithAck(alice, 'message:send', { content: 'once', channelId: 'room', tempId: 'tmp-1' })
    await arrived // the first send is now in flight

    const failed = waitFor(alice, 'message:failed')
    const second = await server.emitWithAck(alice, 'message:send', { content: 'once', channelId: 'room', tempId: 'tmp-1' })
    t.same(second, { error: { code: 'RT_CHAT_IN_FLIGHT', message: 'Message already being processed' }, tempId: 'tmp-1', status: 'FAILED', processed: true })
    const [event] = await failed
    t.match(event, { error: 'Message already being processed', code: 'RT_CHAT_IN_FLIGHT', tempId: 'tmp-1', status: 'FAILED', processed: true })
    t.type(event.timestamp, 'string')

    release()
    const done = await first
    t.match(done, { tempId: 'tmp-1', status: 'DELIVERED', processed: true })

    const redelivered = waitFor(alice, 'message:delivered')
    const retry = await server.emitWithAck(alice, 'message:send', { content: 'once', channelId: 'room', tempId: 'tmp-1' })
    t.equal(retry.messageId, done.messageId, 'the retry gets the original id')
    t.equal(retry.duplicate, true)
    t.equal(retry.message.id, done.messageId)
    t.same((await redelivered)[0], { messageId: done.messageId, tempId: 'tmp-1', status: 'DELIVERED', processed: true })
    t.same(await historyIds(server, alice, 'room'), [done.messageId], 'stored once')

    // tempIds are per user: bob may use the same one for his own message.
    const bob = await member(server, 'bob', 'room')
    const bobs = await server.emitWithAck(bob, 'message:send', { content: 'mine', channelId: 'room', tempId: 'tmp-1' })
    t.not(bobs.messageId, done.messageId)
    t.equal(bobs.duplicate, undefined)
  })

  t.test(`one node (${redis ? 'redis' : 'memory'}): concurrent sends of one tempId store one message`, async (t) => {
    const hook = await accessHook(t)
    const server = await startServer({ config: config(hook.url), redis })
    t.teardown(() => server.close())
    const alice = await member(server, 'alice', 'room')
    const acks = await Promise.all(Array.from({ length: 8 }, async () =>
      await server.emitWithAck(alice, 'message:send', { content: 'burst', channelId: 'room', tempId: 'same' })))
    const ok = acks.filter((a) => a.error === undefined)
    t.ok(ok.length >= 1, 'at least one succeeded')
    t.equal(new Set(ok.map((a) => a.messageId)).size, 1, 'every success names the same message')
    for (const a of acks.filter((x) => x.error !== undefined)) t.equal(a.error.code, 'RT_CHAT_IN_FLIGHT')
    t.same(await historyIds(server, alice, 'room'), [ok[0].messageId])
  })

  t.test(`one node (${redis ? 'redis' : 'memory'}): a failed send releases its tempId`, async (t) => {
    const hook = await accessHook(t)
    const server = await startServer({ config: config(hook.url), redis })
    t.teardown(() => server.close())
    const alice = await server.connect('/', { token: server.token({ sub: 'alice', tenantId: 'acme' }) })
    const refused = await server.emitWithAck(alice, 'message:send', { content: 'x', channelId: 'room', tempId: 'r-1' })
    t.equal(refused.error.code, 'RT_CHAT_NOT_MEMBER')
    await server.emitWithAck(alice, 'channel:join', { channelId: 'room' })
    const ok = await server.emitWithAck(alice, 'message:send', { content: 'x', channelId: 'room', tempId: 'r-1' })
    t.equal(ok.status, 'DELIVERED', 'the same tempId works once the cause is fixed')
    t.equal(ok.duplicate, undefined)
  })
}

t.test('two nodes on Redis: in flight on one node fails on the other; retries after success get the original id', async (t) => {
  const hook = await accessHook(t)
  const prefix = `test-${randomUUID().slice(0, 8)}`
  const a = await startServer({ config: config(hook.url), redis: prefix })
  const b = await startServer({ config: config(hook.url), redis: prefix })
  t.teardown(async () => { await a.close(); await b.close(); await deleteRedisPrefix(prefix) })
  const phone = await member(a, 'alice', 'room')
  const laptop = await b.connect('/', { token: b.token({ sub: 'alice', tenantId: 'acme' }) })

  const { arrived, release } = hook.holdNext()
  const first = a.emitWithAck(phone, 'message:send', { content: 'hi', channelId: 'room', tempId: 'x-1' })
  await arrived
  const dup = await b.emitWithAck(laptop, 'message:send', { content: 'hi', channelId: 'room', tempId: 'x-1' })
  t.equal(dup.error?.message, 'Message already being processed', 'the other node sees the send in flight')
  release()
  const done = await first
  t.equal(done.status, 'DELIVERED')
  const retry = await b.emitWithAck(laptop, 'message:send', { content: 'hi', channelId: 'room', tempId: 'x-1' })
  t.equal(retry.messageId, done.messageId, 'the other node returns the original id')
  t.equal(retry.duplicate, true)

  // A concurrent burst split over both nodes stores one message.
  const acks = await Promise.all(Array.from({ length: 6 }, async (_, i) => {
    const [server, socket] = i % 2 === 0 ? [a, phone] : [b, laptop]
    return await server.emitWithAck(socket, 'message:send', { content: 'burst', channelId: 'room', tempId: 'x-2' })
  }))
  const ok = acks.filter((x) => x.error === undefined)
  t.ok(ok.length >= 1)
  t.equal(new Set(ok.map((x) => x.messageId)).size, 1)
  for (const x of acks.filter((y) => y.error !== undefined)) t.equal(x.error.code, 'RT_CHAT_IN_FLIGHT')
  t.same(await historyIds(a, phone, 'room'), [done.messageId, ok[0].messageId], 'two messages in all, each stored once')
})
