import t from 'tap'
import { record, startServer, waitFor, type ClientSocket, type TestServer } from 'realtime-server/testing'

async function members (server: TestServer, users: string[], channelId: string): Promise<ClientSocket[]> {
  const sockets: ClientSocket[] = []
  for (const sub of users) {
    const socket = await server.connect('/', { token: server.token({ sub, tenantId: 'acme' }) })
    await server.emitWithAck(socket, 'channel:join', { channelId })
    sockets.push(socket)
  }
  return sockets
}

for (const redis of [false, true]) {
  const kind = redis ? 'redis' : 'memory'

  t.test(`reactions: one per user, type and message (${kind})`, async (t) => {
    const server = await startServer({ config: { plugins: { 'chat-messages': {} } }, redis })
    t.teardown(() => server.close())
    const [alice, bob, carol] = await members(server, ['alice', 'bob', 'carol'], 'general')
    const { messageId } = await server.emitWithAck(alice!, 'message:send', { content: 'vote', channelId: 'general' })

    const added = [alice!, carol!].map((s) => waitFor(s, 'reaction:added'))
    const ack = await server.emitWithAck(bob!, 'reaction:add', { messageId, type: '👍' })
    t.match(ack, { messageId, processed: true, added: true, reaction: { type: '👍', userId: 'bob', messageId } })
    t.type(ack.reaction.id, 'string')
    t.type(ack.reaction.createdAt, 'string')
    for (const [p] of await Promise.all(added)) {
      t.same(p, { messageId, reaction: ack.reaction, processed: true })
      t.same(Object.keys(p.reaction).sort(), ['createdAt', 'id', 'messageId', 'type', 'userId'])
    }

    // The same reaction again: answered with the existing one, not announced.
    const aliceSaw = record(alice!, 'reaction:added')
    const again = await server.emitWithAck(bob!, 'reaction:add', { messageId, type: '👍' })
    t.same(again, { messageId, reaction: ack.reaction, processed: true, added: false })
    // Another type, and another user with the same type, are reactions of their own.
    const heart = waitFor(alice!, 'reaction:added', { filter: (p) => p.reaction.type === '❤️' })
    await server.emitWithAck(bob!, 'reaction:add', { messageId, type: '❤️' })
    await heart
    const carolThumb = waitFor(alice!, 'reaction:added', { filter: (p) => p.reaction.userId === 'carol' })
    await server.emitWithAck(carol!, 'reaction:add', { messageId, type: '👍' })
    await carolThumb
    t.same(aliceSaw.map((e) => [e.args[0].reaction.userId, e.args[0].reaction.type]), [['bob', '❤️'], ['carol', '👍']], 'the repeated 👍 of bob was not announced')

    let page = await server.emitWithAck(alice!, 'channel:history', { channelId: 'general' })
    t.same(page.messages[0].reactions.map((r: any) => [r.userId, r.type]).sort(), [['bob', '❤️'], ['bob', '👍'], ['carol', '👍']])

    const removed = waitFor(alice!, 'reaction:removed')
    t.same(await server.emitWithAck(bob!, 'reaction:remove', { messageId, type: '👍' }), { messageId, userId: 'bob', type: '👍', processed: true, removed: true })
    t.same((await removed)[0], { messageId, userId: 'bob', type: '👍', processed: true })
    t.same(await server.emitWithAck(bob!, 'reaction:remove', { messageId, type: '👍' }), { messageId, userId: 'bob', type: '👍', processed: true, removed: false }, 'removing again changes nothing')
    page = await server.emitWithAck(alice!, 'channel:history', { channelId: 'general' })
    t.same(page.messages[0].reactions.map((r: any) => [r.userId, r.type]).sort(), [['bob', '❤️'], ['carol', '👍']])

    const missing = await server.emitWithAck(bob!, 'reaction:add', { messageId: 'no-such-message', type: '👍' })
    t.same(missing, { error: { code: 'RT_CHAT_MESSAGE_NOT_FOUND', message: 'Message no-such-message not found' } })
    t.equal((await server.emitWithAck(bob!, 'reaction:remove', { messageId: 'no-such-message', type: '👍' })).error.code, 'RT_CHAT_MESSAGE_NOT_FOUND')
  })

  t.test(`read receipts and statuses: SENT -> DELIVERED -> READ, never back (${kind})`, async (t) => {
    const server = await startServer({ config: { plugins: { 'chat-messages': {} } }, redis })
    t.teardown(() => server.close())
    const [alice, bob, carol] = await members(server, ['alice', 'bob', 'carol'], 'general')
    const sent = await server.emitWithAck(alice!, 'message:send', { content: 'read me', channelId: 'general' })
    t.equal(sent.message.deliveryStatus, 'DELIVERED')

    // The author reading their own message changes nothing.
    const own = await server.emitWithAck(alice!, 'message:read', { messageId: sent.messageId })
    t.match(own, { messageId: sent.messageId, userId: 'alice', status: 'DELIVERED', changed: false })
    let [m] = (await server.emitWithAck(bob!, 'channel:history', { channelId: 'general' })).messages
    t.equal(m.deliveryStatus, 'DELIVERED')

    const receipts = [alice!, carol!].map((s) => waitFor(s, 'message:read'))
    const ack = await server.emitWithAck(bob!, 'message:read', { messageId: sent.messageId, channelId: 'general' })
    t.match(ack, { messageId: sent.messageId, userId: 'bob', status: 'READ', changed: true })
    for (const [r] of await Promise.all(receipts)) t.same(r, { messageId: sent.messageId, userId: 'bob', status: 'READ', timestamp: ack.timestamp })
    ;[m] = (await server.emitWithAck(bob!, 'channel:history', { channelId: 'general' })).messages
    t.equal(m.deliveryStatus, 'READ')
    t.equal(m.updatedAt, ack.timestamp)

    // Reading again: the first time is kept, nothing is announced.
    const aliceSaw = record(alice!, 'message:read')
    const twice = await server.emitWithAck(bob!, 'message:read', { messageId: sent.messageId })
    t.same(twice, { messageId: sent.messageId, userId: 'bob', status: 'READ', timestamp: ack.timestamp, changed: false })
    // Carol's first read is announced; the status stays READ.
    const carolRead = waitFor(alice!, 'message:read')
    await server.emitWithAck(carol!, 'message:read', { messageId: sent.messageId })
    t.equal((await carolRead)[0].userId, 'carol')
    t.same(aliceSaw.map((e) => e.args[0].userId), ['carol'], 'bob\'s second read was not announced')

    t.same(await server.emitWithAck(bob!, 'message:read', { messageId: sent.messageId, channelId: 'other' }),
      { error: { code: 'RT_CHAT_MESSAGE_NOT_FOUND', message: `Message ${sent.messageId} not found` } }, 'a wrong channel is refused')
  })
}
