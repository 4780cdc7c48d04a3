import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { record, startServer, waitFor, type ClientSocket, type TestServer } from 'realtime-server/testing'

const withOptions = (options: Record<string, unknown>) => ({ config: { plugins: { 'chat-messages': { options } } } })

/** Connects and resolves with the socket and its `connection:success` payload. */
async function connect (server: TestServer, claims: Record<string, unknown>): Promise<{ socket: ClientSocket, channels: string[] }> {
  const socket = server.client('/', { token: server.token(claims) })
  const success = waitFor(socket, 'connection:success')
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('connect_error', reject) })
  const [payload] = await success
  return { socket, channels: payload.channels }
}

t.test('open channels (tenant mode): only members may send, read history, react and mark read', async (t) => {
  const server = await startServer(withOptions({}))
  t.teardown(() => server.close())
  const { socket: alice } = await connect(server, { sub: 'alice', tenantId: 'acme' })
  const { socket: mallory } = await connect(server, { sub: 'mallory', tenantId: 'acme' })
  await server.emitWithAck(alice, 'channel:join', { channelId: 'team' })
  const sent = await server.emitWithAck(alice, 'message:send', { content: 'secret plan', channelId: 'team', tempId: 'a1' })

  const failed = waitFor(mallory, 'message:failed')
  mallory.emit('message:send', { content: 'let me in', channelId: 'team', tempId: 'm1' })
  t.match((await failed)[0], { error: 'Not a member of channel team', code: 'RT_CHAT_NOT_MEMBER', tempId: 'm1', status: 'FAILED', processed: true })

  const notMember = { error: { code: 'RT_CHAT_NOT_MEMBER', message: 'Not a member of channel team' } }
  t.same(await server.emitWithAck(mallory, 'channel:history', { channelId: 'team' }), notMember)
  t.same(await server.emitWithAck(mallory, 'reaction:add', { messageId: sent.messageId, type: '👍' }), notMember)
  t.same(await server.emitWithAck(mallory, 'reaction:remove', { messageId: sent.messageId, type: '👍' }), notMember)
  t.same(await server.emitWithAck(mallory, 'message:read', { messageId: sent.messageId }), notMember)
  const rest = await server.request('GET', '/api/chat-messages/channels/team/messages', { token: server.token({ sub: 'mallory', tenantId: 'acme' }) })
  t.equal(rest.status, 403)
  t.equal(rest.body.code, 'RT_CHAT_NOT_MEMBER')

  // Without an ack the refusal arrives as the core's `error` event.
  const error = waitFor(mallory, 'error')
  mallory.emit('channel:history', { channelId: 'team' })
  t.match((await error)[0], { code: 'RT_CHAT_NOT_MEMBER', message: 'Not a member of channel team', event: 'channel:history' })

  // Leaving: announced to the channel, and the user is no member any more.
  const { socket: bob } = await connect(server, { sub: 'bob', tenantId: 'acme' })
  await server.emitWithAck(bob, 'channel:join', { channelId: 'team' })
  const left = waitFor(alice, 'channel:user_left')
  const ack = await server.emitWithAck(bob, 'channel:leave', { channelId: 'team' })
  t.match(ack, { userId: 'bob', channelId: 'team', left: true })
  t.match((await left)[0], { userId: 'bob', channelId: 'team' })
  t.equal((await server.emitWithAck(bob, 'message:send', { content: 'x', channelId: 'team' })).error.code, 'RT_CHAT_NOT_MEMBER')
  t.match(await server.emitWithAck(bob, 'channel:leave', { channelId: 'team' }), { left: false }, 'leaving twice is harmless')
  t.same((await connect(server, { sub: 'bob', tenantId: 'acme' })).channels, [])
})

t.test('a membership made on one socket lets the user\'s other sockets send, and they then receive', async (t) => {
  const server = await startServer(withOptions({}))
  t.teardown(() => server.close())
  const { socket: phone } = await connect(server, { sub: 'alice', tenantId: 'acme' })
  const { socket: laptop } = await connect(server, { sub: 'alice', tenantId: 'acme' })
  await server.emitWithAck(phone, 'channel:join', { channelId: 'c' })
  const echo = waitFor(laptop, 'message:created')
  const ack = await server.emitWithAck(laptop, 'message:send', { content: 'from the laptop', channelId: 'c' })
  t.equal(ack.status, 'DELIVERED')
  t.equal((await echo)[0].message.id, ack.messageId, 'the laptop joined the channel room when it sent')
})

t.test('joining a channel on one tab puts all the user\'s tabs in its room at once', async (t) => {
  const server = await startServer(withOptions({}))
  t.teardown(() => server.close())
  const { socket: phone } = await connect(server, { sub: 'alice', tenantId: 'acme' })
  const { socket: laptop } = await connect(server, { sub: 'alice', tenantId: 'acme' })
  const { socket: bob } = await connect(server, { sub: 'bob', tenantId: 'acme' })
  await server.emitWithAck(phone, 'channel:join', { channelId: 'c2' })
  await server.emitWithAck(bob, 'channel:join', { channelId: 'c2' })
  const onLaptop = waitFor(laptop, 'message:created')
  const ack = await server.emitWithAck(bob, 'message:send', { content: 'hi alice', channelId: 'c2' })
  t.equal((await onLaptop)[0].message.id, ack.messageId, 'the laptop, which never sent nor joined itself, receives it')
  await server.emitWithAck(laptop, 'channel:leave', { channelId: 'c2' })
  const laptopSaw = record(laptop, 'message:created')
  const onBob = waitFor(bob, 'message:created', { filter: (p) => p.message.content === 'after' })
  await server.emitWithAck(bob, 'message:send', { content: 'after', channelId: 'c2' })
  await onBob
  // A round trip on the laptop's own connection: anything sent to it before is in front of this ack.
  t.equal((await server.emitWithAck(laptop, 'channel:history', { channelId: 'c2' })).error.code, 'RT_CHAT_NOT_MEMBER')
  t.same(laptopSaw, [], 'leaving on one tab takes every tab out of the room')
})

t.test('claim mode: the token lists the channels', async (t) => {
  const server = await startServer(withOptions({ channels: { access: { mode: 'claim', claim: 'chat.channels' } } }))
  t.teardown(() => server.close())
  const alice = await connect(server, { sub: 'alice', tenantId: 'acme', chat: { channels: ['b', 'a'] } })
  t.same(alice.channels, ['a', 'b'], 'connection:success lists the claim channels')
  const bob = await connect(server, { sub: 'bob', tenantId: 'acme', chat: { channels: 'a' } })
  t.same(bob.channels, ['a'])

  const got = waitFor(bob.socket, 'message:created')
  const ack = await server.emitWithAck(alice.socket, 'message:send', { content: 'no join needed', channelId: 'a' })
  t.equal((await got)[0].message.id, ack.messageId, 'listed channels are joined at connection')

  const refused = await server.emitWithAck(bob.socket, 'channel:join', { channelId: 'b' })
  t.same(refused, { error: { code: 'RT_CHAT_JOIN_REFUSED', message: 'Cannot join channel b: not listed in the token\'s chat.channels claim' } })
  t.equal((await server.emitWithAck(bob.socket, 'message:send', { content: 'x', channelId: 'b' })).error.code, 'RT_CHAT_NOT_MEMBER')

  // `*` allows any channel, but a channel is only the user's once joined.
  const star = await connect(server, { sub: 'carol', tenantId: 'acme', chat: { channels: ['*'] } })
  t.same(star.channels, [])
  t.equal((await server.emitWithAck(star.socket, 'message:send', { content: 'x', channelId: 'z' })).error.code, 'RT_CHAT_NOT_MEMBER')
  t.match(await server.emitWithAck(star.socket, 'channel:join', { channelId: 'z' }), { channelId: 'z' })
  t.equal((await server.emitWithAck(star.socket, 'message:send', { content: 'x', channelId: 'z' })).status, 'DELIVERED')
})

t.test('roles mode: only listed roles may join', async (t) => {
  const server = await startServer(withOptions({ channels: { access: { mode: 'roles', roles: ['staff'] } } }))
  t.teardown(() => server.close())
  const { socket: staff } = await connect(server, { sub: 's', tenantId: 'acme', role: 'staff' })
  const { socket: guest } = await connect(server, { sub: 'g', tenantId: 'acme', role: 'guest' })
  t.match(await server.emitWithAck(staff, 'channel:join', { channelId: 'ops' }), { channelId: 'ops' })
  t.same(await server.emitWithAck(guest, 'channel:join', { channelId: 'ops' }), { error: { code: 'RT_CHAT_JOIN_REFUSED', message: 'Cannot join channel ops: requires one of the roles staff' } })
})

t.test('hook mode: the backend decides, and a revoked user is no longer a member', async (t) => {
  const refused = new Set<string>()
  const seen: any[] = []
  const hook = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      const b = JSON.parse(body)
      seen.push(b)
      res.statusCode = refused.has(`${b.userId}/${b.id}`) ? 403 : 200
      res.end()
    })
  })
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { hook.closeAllConnections(); hook.close(() => resolve()) }))
  const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`
  const server = await startServer(withOptions({ channels: { access: { mode: 'hook', url, cacheTtlMs: 0, timeoutMs: 60000 } } }))
  t.teardown(() => server.close())

  refused.add('eve/vip')
  const { socket: eve } = await connect(server, { sub: 'eve', tenantId: 'acme' })
  t.same(await server.emitWithAck(eve, 'channel:join', { channelId: 'vip' }), { error: { code: 'RT_CHAT_JOIN_REFUSED', message: 'Cannot join channel vip: refused by the access hook' } })
  t.match(seen.at(-1), { userId: 'eve', tenantId: 'acme', kind: 'channel', id: 'vip' })

  const { socket: ann } = await connect(server, { sub: 'ann', tenantId: 'acme' })
  await server.emitWithAck(ann, 'channel:join', { channelId: 'vip' })
  t.equal((await server.emitWithAck(ann, 'message:send', { content: 'ok', channelId: 'vip' })).status, 'DELIVERED')
  refused.add('ann/vip')
  t.equal((await server.emitWithAck(ann, 'message:send', { content: 'no', channelId: 'vip' })).error.code, 'RT_CHAT_NOT_MEMBER', 'revoked by the hook')
  t.same((await connect(server, { sub: 'ann', tenantId: 'acme' })).channels, [], 'and not listed at connection')
})

for (const redis of [false, true]) {
  t.test(`tenants never see each other's channels (${redis ? 'redis' : 'memory'})`, async (t) => {
    const server = await startServer({ ...withOptions({}), redis })
    t.teardown(() => server.close())
    const { socket: a } = await connect(server, { sub: 'same-user', tenantId: 'acme' })
    const { socket: b } = await connect(server, { sub: 'same-user', tenantId: 'globex' })
    await server.emitWithAck(a, 'channel:join', { channelId: 'general' })
    // Room events travel through the adapter (Redis streams): wait for b's own join before recording.
    const bJoined = waitFor(b, 'channel:user_joined')
    await server.emitWithAck(b, 'channel:join', { channelId: 'general' })
    await bJoined
    const bSaw = record(b)

    const sent = await server.emitWithAck(a, 'message:send', { content: 'acme only', channelId: 'general', tempId: 'same-temp' })
    const notFound = { error: { code: 'RT_CHAT_MESSAGE_NOT_FOUND', message: `Message ${sent.messageId} not found` } }
    t.same(await server.emitWithAck(b, 'reaction:add', { messageId: sent.messageId, type: 'x' }), notFound)
    t.same(await server.emitWithAck(b, 'message:read', { messageId: sent.messageId }), notFound)
    t.same((await server.emitWithAck(b, 'channel:history', { channelId: 'general' })).messages, [])

    // The same user and tempId in the other tenant is another message.
    const ownCreated = waitFor(b, 'message:created') // the sentinel: published after acme's message
    const other = await server.emitWithAck(b, 'message:send', { content: 'globex', channelId: 'general', tempId: 'same-temp' })
    await ownCreated
    t.not(other.messageId, sent.messageId)
    t.equal(other.duplicate, undefined)
    t.same(bSaw.map((e) => [e.event, e.args[0].message?.content]), [['message:delivered', undefined], ['message:created', 'globex']], 'globex saw only its own message')

    const token = server.token({ sub: 'same-user', tenantId: 'globex' })
    const cross = await server.request('GET', '/api/chat-messages/channels/general/messages?tenantId=acme', { token })
    t.equal(cross.status, 403, 'a user token cannot read another tenant')
    const own = await server.request('GET', '/api/chat-messages/channels/general/messages', { token })
    t.same(own.body.messages.map((m: any) => m.content), ['globex'])
  })
}
