// A tempId reused for a different message is refused (RT_CHAT_TEMPID_REUSED), never answered with another message; a true retry still gets the original.
import t from 'tap'
import { record, startServer, waitFor, type ClientSocket, type TestServer } from 'realtime-server/testing'

const config = { plugins: { 'chat-messages': { options: { messages: { maxPerChannel: 2, rateLimit: { messages: 0 } } } } } }

async function member (server: TestServer, userId: string, channels: string[]): Promise<ClientSocket> {
  const socket = await server.connect('/', { token: server.token({ sub: userId, tenantId: 'acme' }) })
  for (const channelId of channels) await server.emitWithAck(socket, 'channel:join', { channelId })
  return socket
}

const contents = async (server: TestServer, socket: ClientSocket, channelId: string): Promise<string[]> =>
  (await server.emitWithAck(socket, 'channel:history', { channelId })).messages.map((m: any) => m.content)

for (const redis of [false, true]) {
  t.test(`${redis ? 'redis' : 'memory'}: a reused tempId is refused naming tempId; a retry of the same message gets the original`, async (t) => {
    const server = await startServer({ config, redis })
    t.teardown(() => server.close())
    const alice = await member(server, 'alice', ['x', 'y'])
    const created = record(alice, 'message:created')

    const first = await server.emitWithAck(alice, 'message:send', { content: 'hello X', channelId: 'x', tempId: 'temp-1' })
    t.equal(first.status, 'DELIVERED')

    // Same tempId, another channel and text: refused, with message:failed, and nothing reported as delivered.
    const failed = waitFor(alice, 'message:failed')
    const other = await server.emitWithAck(alice, 'message:send', { content: 'hello Y', channelId: 'y', tempId: 'temp-1' })
    t.same(other, {
      error: { code: 'RT_CHAT_TEMPID_REUSED', message: 'tempId "temp-1" was already used for another message (in another channel)', field: 'tempId' },
      tempId: 'temp-1',
      status: 'FAILED',
      processed: true
    })
    t.match((await failed)[0], { code: 'RT_CHAT_TEMPID_REUSED', field: 'tempId', tempId: 'temp-1', status: 'FAILED' })
    // Same channel, other text; same text, another reply target.
    t.match(await server.emitWithAck(alice, 'message:send', { content: 'hello again', channelId: 'x', tempId: 'temp-1' }),
      { error: { code: 'RT_CHAT_TEMPID_REUSED', message: 'tempId "temp-1" was already used for another message (other content)' } })
    t.match(await server.emitWithAck(alice, 'message:send', { content: 'hello X', channelId: 'x', tempId: 'temp-1', replyToId: first.messageId }),
      { error: { code: 'RT_CHAT_TEMPID_REUSED', field: 'tempId' } })

    // The retry: same tempId, channel and content.
    const retry = await server.emitWithAck(alice, 'message:send', { content: 'hello X', channelId: 'x', tempId: 'temp-1' })
    t.match(retry, { messageId: first.messageId, status: 'DELIVERED', duplicate: true, message: { id: first.messageId, content: 'hello X', channelId: 'x' } })

    // A fresh tempId for the new message works.
    const announced = waitFor(alice, 'message:created', { filter: (p) => p.message.content === 'hello Y' })
    const y = await server.emitWithAck(alice, 'message:send', { content: 'hello Y', channelId: 'y', tempId: 'temp-2' })
    t.equal(y.status, 'DELIVERED')
    await announced
    t.same(await contents(server, alice, 'x'), ['hello X'], 'channel x holds its one message')
    t.same(await contents(server, alice, 'y'), ['hello Y'], 'channel y holds the message sent with a fresh tempId')
    t.same(created.map((e) => e.args[0].message.content), ['hello X', 'hello Y'], 'each stored message was announced once')
  })

  t.test(`${redis ? 'redis' : 'memory'}: a retry whose message was trimmed away is refused, never reported delivered`, async (t) => {
    const server = await startServer({ config, redis })
    t.teardown(() => server.close())
    const alice = await member(server, 'alice', ['x'])
    const gone = await server.emitWithAck(alice, 'message:send', { content: 'oldest', channelId: 'x', tempId: 'old' })
    await server.emitWithAck(alice, 'message:send', { content: 'two', channelId: 'x', tempId: 't2' })
    await server.emitWithAck(alice, 'message:send', { content: 'three', channelId: 'x', tempId: 't3' })
    t.same(await contents(server, alice, 'x'), ['two', 'three'], 'maxPerChannel 2 trimmed the oldest')
    const retry = await server.emitWithAck(alice, 'message:send', { content: 'oldest', channelId: 'x', tempId: 'old' })
    t.match(retry, { error: { code: 'RT_CHAT_TEMPID_REUSED', field: 'tempId', message: /no longer exists/ }, status: 'FAILED' })
    t.not(retry.messageId, gone.messageId)
  })
}
