// Issue 15's defects, through real clients on both stores: ill-formed strings (lone surrogates) refused in every id,
// tenant and stored string with 400 / RT_ERR_VALIDATION naming the field (no key builder, no Lua script sees one),
// a payload of the wrong type named `payload`, and claims that are no ids refused.
import t from 'tap'
import { startServer, type ClientSocket, type TestServer } from 'realtime-server/testing'

const config = {
  plugins: {
    'chat-messages': { options: { namespace: '/messages' } },
    sessions: { options: { namespace: '/messages' } },
    presence: { options: { online: [{ namespace: '/messages', rooms: ['conversation:'] }], typing: [{ namespace: '/messages', format: 'conversation' }] } },
    'tenant-broadcast': { options: { rooms: [{ kind: 'campaign', access: { mode: 'tenant' } }] } }
  }
}

/** The refusal of an ill-formed value: RT_ERR_VALIDATION naming the field. */
const refused = (field: string) => ({ error: { code: 'RT_ERR_VALIDATION', field, message: /lone surrogate/ } })
const refusedRest = (field: string) => ({ status: 400, body: { code: 'RT_ERR_VALIDATION', field, message: /lone surrogate/ } })

for (const store of ['memory', 'redis'] as const) {
  t.test(`${store}: ill-formed strings are refused naming the field, and nothing is poisoned`, async (t) => {
    const server: TestServer = await startServer({ config, redis: store === 'redis' })
    t.teardown(() => server.close())
    const token = server.token({ sub: 'u1', tenantId: 'acme' })
    const messages: ClientSocket = await server.connect('/messages', { token })
    const root: ClientSocket = await server.connect('/', { token })
    const ask = async (socket: ClientSocket, event: string, payload: unknown): Promise<any> => await server.emitWithAck(socket, event, payload)
    const post = async (path: string, body: unknown) => await server.request('POST', path, { apiKey: true, body })

    // sessions: the id on the socket and in REST, a stored string (nodeLabel), nested data of an Unknown field.
    t.match(await ask(messages, 'session:join', { sessionId: 'a\ud800b' }), refused('sessionId'), 'session:join sessionId')
    t.match(await post('/api/sessions/node-executed', { tenantId: 'acme', sessionId: 'a\ud800b', nodeId: 'n1', nodeLabel: 'Ask' }), refusedRest('sessionId'))
    t.match(await post('/api/sessions/node-executed', { tenantId: 'acme', sessionId: 's1', nodeId: 'n1', nodeLabel: 'bad\ud800' }), refusedRest('nodeLabel'), 'the issue\'s poisoning event')
    t.match(await post('/api/sessions/message-sent', {
      tenantId: 'acme', sessionId: 's1', messageId: 'm1', senderId: 'u2', type: 'text', content: { parts: ['ok', 'x\udc00'] }, status: 'sent', timestamp: 'now'
    }), refusedRest('content.parts.1'), 'a string deep in an Unknown field')
    t.match(await post('/api/sessions/node-executed', { tenantId: 'a\ud800', sessionId: 's1', nodeId: 'n1', nodeLabel: 'Ask' }), refusedRest('tenantId'), 'a tenant an unbound key names')
    t.match(await post('/api/sessions/node-executed', { tenantId: 'acme', sessionId: 's1', nodeId: 'n1', nodeLabel: 'Ask 😀' }), { status: 200 }, 'a well-formed pair is fine')
    t.match(await post('/api/sessions/completed', { tenantId: 'acme', sessionId: 's1', completedAt: 'now', totalNodes: 1, totalMessages: 0 }), { status: 200 }, 'the session was not poisoned: it completes')
    t.match(await ask(messages, 'session:join', { sessionId: 's1' }), { state: { sessionId: 's1', status: 'completed', currentNodeLabel: 'Ask 😀' } })
    t.match(await server.request('GET', '/api/sessions/%ED%A0%80', { apiKey: true }), { status: 400, body: { code: 'RT_ERR_BAD_REQUEST' } }, 'an undecodable id in a URL')

    // chat: channelId, messageId, tempId, conversationId, and the stored content.
    t.match(await ask(messages, 'channel:join', { channelId: 'c\ud800' }), refused('channelId'))
    t.equal((await ask(messages, 'channel:join', { channelId: 'c1' })).error, undefined, 'a well-formed channel is joined')
    const failed = await ask(messages, 'message:send', { channelId: 'c1', content: 'hi', tempId: 't\ud800' })
    t.match(failed, { error: { code: 'RT_ERR_VALIDATION', field: 'tempId' }, status: 'FAILED' }, 'message:send tempId (a failed send)')
    t.match(await ask(messages, 'message:send', { channelId: 'c1', content: 'hi\udbff' }), { error: { code: 'RT_ERR_VALIDATION', field: 'content' }, status: 'FAILED' }, 'message:send content')
    t.match(await ask(messages, 'message:read', { messageId: 'm\ud800' }), refused('messageId'))
    t.match(await ask(messages, 'conversation:join', { conversationId: 'v\ud800' }), refused('conversationId'), 'no presence room key is built from it')
    const sent = await ask(messages, 'message:send', { channelId: 'c1', content: 'still fine', tempId: 't1' })
    t.match(sent, { message: { content: 'still fine' } }, 'the channel and the store work on')

    // presence: room and user keys; a payload of the wrong type names `payload`.
    t.match(await ask(messages, 'presence:list', { room: 'conversation:\ud800' }), refused('room'))
    t.match(await ask(messages, 'presence:status', { userIds: ['u1', 'u\udfff'] }), refused('userIds.1'))
    t.match(await ask(messages, 'typing:start', { conversationId: 'v\ud800' }), refused('conversationId'))
    t.same(await ask(messages, 'presence:list', 'x'), { error: { code: 'RT_ERR_VALIDATION', field: 'payload', message: 'Invalid payload: payload: must be object' } },
      'the whole payload of the wrong type: named payload, the type it must have (not "must be undefined")')
    t.match(await server.request('POST', '/api/presence/status', { apiKey: true, body: { tenantId: 'acme', userIds: ['u\ud800'] } }), refusedRest('userIds.0'))

    // tenant-broadcast: room ids, the tenant of join-tenant, idempotency keys, and an event's data.
    t.match(await ask(root, 'subscribe:campaign', 'c\ud800'), refused('payload'), 'a bare id is the payload')
    t.match(await ask(root, 'subscribe:campaign', { id: 'c\ud800' }), refused('id'))
    t.match(await ask(root, 'join-tenant', { tenantId: 'acme\ud800' }), refused('tenantId'))
    t.match(await post('/api/tenant-broadcast/events', { tenantId: 'acme', type: 'note', payload: { text: 'ok' }, idempotencyKey: 'k\ud800' }), refusedRest('idempotencyKey'))
    t.match(await post('/api/tenant-broadcast/events', { tenantId: 'acme', type: 'note', payload: { 'key\ud800': 1 } }),
      { status: 400, body: { code: 'RT_ERR_VALIDATION', field: 'payload', message: /property name/ } }, 'an ill-formed property name names the object holding it')
    t.match(await post('/api/tenant-broadcast/events', { tenantId: 'acme', type: 'note', payload: JSON.parse('['.repeat(100) + ']'.repeat(100)) }),
      { status: 400, body: { code: 'RT_ERR_VALIDATION', message: /nested too deeply/ } }, 'nesting deeper than 64 levels')
    const published = await post('/api/tenant-broadcast/events', { tenantId: 'acme', type: 'note', payload: { text: 'ok' }, idempotencyKey: 'k1' })
    t.ok(published.status < 300 || published.body.code !== 'RT_ERR_INTERNAL', `a well-formed publish is answered (${published.status})`)
    t.ok(messages.connected && root.connected, 'every refusal left the sockets connected')
  })
}

t.test('claims that are no ids are refused: auth.userId ["u1"], a malformed tenant claim under defaultTenantId', async (t) => {
  const server = await startServer({ config: { plugins: { probe: { from: './test/fixtures/plugins/probe' } }, auth: { jwt: { defaultTenantId: 'solo' } } } })
  t.teardown(() => server.close())
  const connectError = async (auth: Record<string, unknown>): Promise<{ message: string, data?: { code: string } }> => await new Promise((resolve, reject) => {
    const socket = server.client('/', { auth })
    socket.once('connect', () => { reject(new Error('connected')) })
    socket.once('connect_error', resolve)
  })

  const user = server.token({ sub: 'u1', tenantId: 'acme' })
  for (const claimed of [['u1'], { id: 'u1' }, true]) {
    const err = await connectError({ token: user, userId: claimed })
    t.match(err, { message: 'Authentication failed: auth.userId must be a string or a number', data: { code: 'RT_ERR_AUTH_USER_MISMATCH' } }, JSON.stringify(claimed))
  }
  const numeric = await server.connect('/', { auth: { token: server.token({ sub: 7, tenantId: 'acme' }), userId: 7 } })
  t.match(await server.emitWithAck(numeric, 'probe:whoami', {}), { userId: '7' }, 'a number equal to the token\'s user is the same user')

  for (const tenant of [[], ['acme'], '', {}, { id: 'acme' }, 'a\ud800', true]) {
    const token = server.token({ sub: 'u1', tenantId: tenant })
    t.match(await connectError({ token }), { message: 'Authentication failed: claim tenantId must be a non-empty string or a number', data: { code: 'RT_ERR_AUTH_INVALID_TOKEN' } },
      `socket, tenant claim ${JSON.stringify(tenant)}`)
    t.match(await server.request('POST', '/api/probe/hit', { token, body: {} }), { status: 401, body: { code: 'RT_ERR_UNAUTHORIZED', message: /claim tenantid must be a non-empty string or a number/ } }, `REST, tenant claim ${JSON.stringify(tenant)}`)
  }
  for (const sub of [['u1'], '', {}, 'u\ud800']) {
    t.match(await connectError({ token: server.token({ sub, tenantId: 'acme' }) }), { data: { code: 'RT_ERR_AUTH_INVALID_TOKEN' } }, `user claim ${JSON.stringify(sub)}`)
  }
  const defaulted = await server.connect('/', { token: server.token({ sub: 'u2' }) })
  t.match(await server.emitWithAck(defaulted, 'probe:whoami', {}), { userId: 'u2', tenantId: 'solo' }, 'a token without a tenant claim still gets the default')
  const nullTenant = await server.connect('/', { token: server.token({ sub: 'u3', tenantId: null }) })
  t.match(await server.emitWithAck(nullTenant, 'probe:whoami', {}), { tenantId: 'solo' }, 'a null claim is no claim')
})
