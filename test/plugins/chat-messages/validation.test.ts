import t from 'tap'
import { record, startServer, waitFor } from 'realtime-server/testing'

/** For every client event: payloads the schema refuses, and the field named. */
const invalid: Record<string, Array<[unknown, string]>> = {
  'message:read': [[{}, 'messageId'], [{ messageId: 1 }, 'messageId'], [{ messageId: 'm', extra: true }, 'extra'], [{ messageId: '' }, 'messageId']],
  'reaction:add': [[{ messageId: 'm' }, 'type'], [{ messageId: 'm', type: '' }, 'type'], [{ messageId: 'm', type: 'x'.repeat(65) }, 'type']],
  'reaction:remove': [[{ type: 'x' }, 'messageId'], [{ messageId: 'm', type: 7 }, 'type']],
  'channel:join': [[{}, 'channelId'], [{ channelId: 'x'.repeat(129) }, 'channelId'], ['general', 'payload']],
  'channel:leave': [[{ channelId: null }, 'channelId']],
  'channel:history': [[{ channelId: 'c', limit: 0 }, 'limit'], [{ channelId: 'c', before: 'abc' }, 'before'], [{ channelId: 'c', limit: 'ten' }, 'limit']],
  'conversation:join': [[{ conversationId: 5 }, 'conversationId'], [{}, 'conversationId']],
  'conversation:leave': [[{ id: 'c' }, 'conversationId']]
}

t.test('invalid payloads of every event are refused, naming the field', async (t) => {
  const server = await startServer({ config: { plugins: { 'chat-messages': {} } } })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'alice', tenantId: 'acme' }) })
  for (const [event, cases] of Object.entries(invalid)) {
    for (const [payload, field] of cases) {
      const ack = await server.emitWithAck(socket, event, payload)
      t.equal(ack.error?.code, 'RT_ERR_VALIDATION', `${event} ${JSON.stringify(payload)}: ack`)
      t.equal(ack.error?.field, field, `${event}: names ${field}`)
    }
    // Without an ack the same refusal arrives as an `error` event naming the event.
    const [payload, field] = cases[0]!
    const error = waitFor(socket, 'error', { filter: (e) => e.event === event })
    socket.emit(event, payload)
    const [e] = await error
    t.match(e, { code: 'RT_ERR_VALIDATION', field, event })
    t.type(e.message, 'string')
    t.type(e.timestamp, 'string')
  }
})

t.test('an invalid message:send always gets message:failed, with or without ack', async (t) => {
  const server = await startServer({ config: { plugins: { 'chat-messages': { options: { messages: { maxContentLength: 10, rateLimit: { messages: 0 } } } } } } })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'alice', tenantId: 'acme' }) })
  await server.emitWithAck(socket, 'channel:join', { channelId: 'c' })
  const errors = record(socket, 'error')

  // Every refusal names its field; a payload that is not an object is named `payload`.
  const cases: Array<[unknown, string, string, string | null]> = [
    [{ channelId: 'c', tempId: 't1' }, 'RT_ERR_VALIDATION', 'content', 't1'],
    [{ content: 'hi', tempId: 't2' }, 'RT_ERR_VALIDATION', 'channelId', 't2'],
    [{ content: '', channelId: 'c' }, 'RT_ERR_VALIDATION', 'content', null],
    [{ content: '   ', channelId: 'c', tempId: 't3' }, 'RT_ERR_VALIDATION', 'content', 't3'],
    [{ content: 42, channelId: 'c', tempId: 't4' }, 'RT_ERR_VALIDATION', 'content', 't4'],
    [{ content: 'hi', channelId: 'c', tempId: 5 }, 'RT_ERR_VALIDATION', 'tempId', null],
    [{ content: 'hi', channelId: 'c', color: 'red' }, 'RT_ERR_VALIDATION', 'color', null],
    ['just text', 'RT_ERR_VALIDATION', 'payload', null],
    [{ content: 'x'.repeat(11), channelId: 'c', tempId: 't5' }, 'RT_CHAT_CONTENT_TOO_LONG', 'content', 't5'],
    [{ content: 'hi', channelId: 'c', replyToId: 'missing', tempId: 't6' }, 'RT_CHAT_MESSAGE_NOT_FOUND', 'replyToId', 't6']
  ]
  for (const [payload, code, field, tempId] of cases) {
    const label = JSON.stringify(payload).slice(0, 60)
    let failed = waitFor(socket, 'message:failed')
    const ack = await server.emitWithAck(socket, 'message:send', payload)
    t.match(ack, { error: { code }, tempId, status: 'FAILED', processed: true }, `${label}: ack`)
    t.equal(ack.error.field, field, `${label}: field`)
    const [event] = await failed
    t.match(event, { code, field, tempId, status: 'FAILED', processed: true }, `${label}: message:failed`)
    t.equal(event.error, ack.error.message)

    failed = waitFor(socket, 'message:failed')
    socket.emit('message:send', payload)
    t.match((await failed)[0], { code, tempId }, `${label}: message:failed without ack`)
  }
  // No payload at all, only an ack.
  const failed = waitFor(socket, 'message:failed')
  const ack = await socket.timeout(5000).emitWithAck('message:send')
  t.match(ack, { error: { code: 'RT_ERR_VALIDATION', field: 'payload' }, tempId: null, status: 'FAILED' })
  await failed

  // 10 characters is fine, counted in characters: emoji are one each.
  t.equal((await server.emitWithAck(socket, 'message:send', { content: '😀'.repeat(10), channelId: 'c' })).status, 'DELIVERED')
  t.same(errors, [], 'message:send failures never become `error` events')
})

t.test('the rate limit is per socket and answered with message:failed', async (t) => {
  const server = await startServer({ config: { plugins: { 'chat-messages': { options: { messages: { rateLimit: { messages: 2, windowMs: 600000 } } } } } } })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'alice', tenantId: 'acme' })
  const first = await server.connect('/', { token })
  const second = await server.connect('/', { token })
  await server.emitWithAck(first, 'channel:join', { channelId: 'c' })
  t.equal((await server.emitWithAck(first, 'message:send', { content: '1', channelId: 'c', tempId: 'a' })).status, 'DELIVERED')
  t.equal((await server.emitWithAck(first, 'message:send', { content: '2', channelId: 'c', tempId: 'b' })).status, 'DELIVERED')
  const failed = waitFor(first, 'message:failed')
  const limited = await server.emitWithAck(first, 'message:send', { content: '3', channelId: 'c', tempId: 'c' })
  t.same(limited, { error: { code: 'RT_CHAT_RATE_LIMITED', message: 'Too many messages: at most 2 per 600000 ms' }, tempId: 'c', status: 'FAILED', processed: true })
  t.match((await failed)[0], { error: 'Too many messages: at most 2 per 600000 ms', code: 'RT_CHAT_RATE_LIMITED', tempId: 'c' })
  t.equal((await server.emitWithAck(second, 'message:send', { content: '3', channelId: 'c', tempId: 'c' })).status, 'DELIVERED', 'another socket has its own budget, and the refused tempId was not used')
  const page = await server.emitWithAck(second, 'channel:history', { channelId: 'c' })
  t.same(page.messages.map((m: any) => m.content), ['1', '2', '3'])
})

t.test('bad plugin options stop the server with the option\'s path', async (t) => {
  await t.rejects(startServer({ config: { plugins: { 'chat-messages': { options: { messages: { maxContentLength: 0 } } } } } }), /plugins\.chat-messages\.options\.messages\.maxContentLength/)
  await t.rejects(startServer({ config: { plugins: { 'chat-messages': { options: { channels: { access: { mode: 'claim' } } } } } } }), /plugins\.chat-messages\.options\.channels\.access/)
  await t.rejects(startServer({ config: { plugins: { 'chat-messages': { options: { unknown: 1 } } } } }), /plugins\.chat-messages\.options\.unknown/)
})
