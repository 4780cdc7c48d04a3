import { readFileSync } from 'node:fs'
import t from 'tap'
import { record, startServer, waitFor, type TestServer } from 'realtime-server/testing'

const at = '2025-01-01T10:00:00.000Z'

const post = async (server: TestServer, event: string, body: object): Promise<{ status: number, body: any }> =>
  await server.request('POST', `/api/sessions/${event}`, { apiKey: true, body: { tenantId: 'acme', ...body } })

const lastEvent = (seen: Array<{ event: string, args: any[] }>): { event: string, args: any[] } | undefined => seen[seen.length - 1]

t.test('a session from start to completion, with a watcher from the start and one joining late', async (t) => {
  const server = await startServer({ config: { plugins: { sessions: { options: { recentEvents: 4 } } } } })
  t.teardown(() => server.close())

  // The seed's frontend emits session:join without an ack: the snapshot comes as session:state.
  const early = await server.connect('/messages', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const earlySaw = record(early)
  const emptyState = waitFor(early, 'session:state')
  early.emit('session:join', { sessionId: 's1' })
  t.same((await emptyState)[0], { sessionId: 's1', state: null }, 'a session without events has no state yet')

  const events: Array<[string, object]> = [
    ['status-changed', { sessionId: 's1', newStatus: 'running', currentNodeId: 'n0', currentNodeLabel: 'Start', updatedAt: at }],
    ['node-executed', { sessionId: 's1', nodeId: 'n1', nodeLabel: 'Ask name' }],
    ['message-sent', { sessionId: 's1', messageId: 'm1', senderId: 'bot', isFromBot: true, type: 'text', content: { text: 'Your name?' }, status: 'sent', timestamp: at }],
    ['message-sent', { sessionId: 's1', messageId: 'm2', senderId: 'c1', senderName: 'Ada', senderPhone: '+100', isFromBot: false, type: 'text', content: 'Ada', status: 'received', timestamp: at }],
    ['status-changed', { sessionId: 's1', newStatus: 'waiting_input', updatedAt: at }]
  ]
  for (const [i, [path, body]] of events.entries()) {
    const live = waitFor(early, `session:${path}`, { filter: (_p: unknown, meta: { seq: number }) => meta.seq === i + 1 })
    const res = await post(server, path, body)
    t.equal(res.status, 200, `${path} accepted`)
    t.match(res.body, { sessionId: 's1', seq: i + 1, eventId: String })
    const [payload, meta] = await live
    t.same(payload, body, `${path} reaches the watcher exactly as the seed defines it`)
    t.equal(meta.eventId, res.body.eventId, 'the meta carries the event id the trigger answered')
  }

  // The late watcher: the snapshot first (ack and session:state), then only what happened after it.
  const late = await server.connect('/messages', { token: server.token({ sub: 'u2', tenantId: 'acme' }) })
  const lateSaw = record(late)
  const joined = await server.emitWithAck(late, 'session:join', { sessionId: 's1' })
  t.equal(joined.success, true)
  const snapshot = joined.state
  t.match(snapshot, {
    sessionId: 's1',
    status: 'waiting_input',
    currentNodeId: 'n1',
    currentNodeLabel: 'Ask name',
    messageCount: 2,
    nodeCount: 1,
    statusUpdatedAt: at,
    seq: 5
  })
  t.same(snapshot.recent.map((e: { seq: number }) => e.seq), [2, 3, 4, 5], 'the last recentEvents events, oldest first')
  t.same(snapshot.recent[3], { seq: 5, eventId: snapshot.recent[3].eventId, event: 'session:status-changed', payload: events[4]![1], at: snapshot.lastEventAt })
  const read = await server.request('GET', '/api/sessions/s1?tenantId=acme', { apiKey: true })
  t.same(read, { status: 200, body: snapshot }, 'the REST read is the same snapshot')

  const list = await server.request('GET', '/api/sessions', { token: server.token({ sub: 'dash', tenantId: 'acme' }) })
  t.equal(list.status, 200)
  t.same(list.body.sessions.map((s: { sessionId: string }) => s.sessionId), ['s1'], 'a dashboard token lists the active session')
  t.notOk('recent' in list.body.sessions[0], 'the list is a summary')

  const finish: Array<[string, object]> = [
    ['status-changed', { sessionId: 's1', newStatus: 'running', currentNodeId: 'n2', currentNodeLabel: 'Thank', updatedAt: at }],
    ['status-changed', { sessionId: 's1', newStatus: 'completed', updatedAt: at }],
    ['completed', { sessionId: 's1', completedAt: at, completionReason: 'flow_end', totalNodes: 2, totalMessages: 2 }]
  ]
  const lateDone = waitFor(late, 'session:completed')
  const earlyDone = waitFor(early, 'session:completed')
  for (const [path, body] of finish) t.equal((await post(server, path, body)).status, 200, `${path} accepted`)
  await Promise.all([lateDone, earlyDone])

  t.same(lateSaw.map((e) => [e.event, e.args[1]?.seq]), [
    ['session:state', undefined],
    ['session:status-changed', 6],
    ['session:status-changed', 7],
    ['session:completed', 8]
  ], 'the late watcher got the snapshot, then every later event once, in order')
  t.same(lateSaw[0]!.args[0], { sessionId: 's1', state: snapshot }, 'session:state carries the same snapshot as the ack')
  t.same(earlySaw.map((e) => e.args[1]?.seq), [undefined, 1, 2, 3, 4, 5, 6, 7, 8], 'the first watcher saw every event once')
  t.same(lastEvent(earlySaw)!.args[0], finish[2]![1])

  const done = await server.request('GET', '/api/sessions/s1', { token: server.token({ sub: 'dash', tenantId: 'acme' }) })
  t.match(done.body, { status: 'completed', completedAt: at, completionReason: 'flow_end', totalNodes: 2, totalMessages: 2, currentNodeId: 'n2', seq: 8 })
  const after = await server.request('GET', '/api/sessions?tenantId=acme', { apiKey: true })
  t.same(after.body, { tenantId: 'acme', sessions: [] }, 'a finished session is no longer active')
})

t.test('the active list: most recent first, limited', async (t) => {
  const server = await startServer({ config: { plugins: { sessions: {} } } })
  t.teardown(() => server.close())
  // Ids chosen so that two events in the same millisecond (ties sort by id) keep the expected order.
  for (const id of ['a', 'c', 'b']) {
    t.equal((await post(server, 'node-executed', { sessionId: id, nodeId: 'n1', nodeLabel: 'Hi' })).status, 200)
  }
  t.equal((await post(server, 'message-sent', { sessionId: 'a', messageId: 'm', senderId: 'x', type: 'text', content: null, status: 'sent', timestamp: at })).status, 200)
  const all = await server.request('GET', '/api/sessions?tenantId=acme', { apiKey: true })
  t.same(all.body.sessions.map((s: { sessionId: string }) => s.sessionId), ['a', 'b', 'c'])
  t.match(all.body.sessions[0], { status: 'running', messageCount: 1, nodeCount: 1 }, 'an event without a status starts the session as running')
  const two = await server.request('GET', '/api/sessions?tenantId=acme&limit=2', { apiKey: true })
  t.same(two.body.sessions.map((s: { sessionId: string }) => s.sessionId), ['a', 'b'])
  const tooMany = await server.request('GET', '/api/sessions?tenantId=acme&limit=5000', { apiKey: true })
  t.match(tooMany, { status: 400, body: { code: 'RT_ERR_VALIDATION', field: 'limit' } })
})

t.test('triggers validate their body and their caller', async (t) => {
  const server = await startServer({ config: { plugins: { sessions: {} } } })
  t.teardown(() => server.close())

  t.match(await post(server, 'status-changed', { sessionId: 's1', newStatus: 'paused', updatedAt: at }), {
    status: 400,
    body: { code: 'RT_ERR_VALIDATION', field: 'newStatus', message: 'Invalid payload: newStatus: must be one of: running, waiting_input, completed, expired, stopped' }
  })
  t.match(await post(server, 'message-sent', { sessionId: 's1', messageId: 'm1', senderId: 'x', type: 'text', content: 'hi', status: 'sent' }), {
    status: 400, body: { field: 'timestamp', message: 'Invalid payload: timestamp: is required' }
  })
  t.match(await post(server, 'completed', { sessionId: 's1', completedAt: at, totalNodes: -1, totalMessages: 0 }), { status: 400, body: { field: 'totalNodes' } })
  t.match(await post(server, 'node-executed', { sessionId: 's1', nodeId: 'n1', nodeLabel: 'x', extra: 1 }), {
    status: 400, body: { field: 'extra', message: 'Invalid payload: extra: is not an allowed property' }
  })
  t.match(await server.request('POST', '/api/sessions/node-executed', { apiKey: true, body: { sessionId: 's1', nodeId: 'n1', nodeLabel: 'x' } }), {
    status: 400, body: { field: 'tenantId' }
  }, 'an unbound API key must name the tenant')
  t.match(await server.request('POST', '/api/sessions/node-executed', { body: { tenantId: 'acme', sessionId: 's1', nodeId: 'n1', nodeLabel: 'x' } }), { status: 401 })
  t.match(await server.request('POST', '/api/sessions/node-executed', {
    token: server.token({ sub: 'u1', tenantId: 'acme', role: 'agent' }), body: { sessionId: 's1', nodeId: 'n1', nodeLabel: 'x' }
  }), { status: 403 }, 'a user token may read but not publish')
  t.match(await server.request('POST', '/api/sessions/node-executed', {
    token: server.token({ sub: 'bot', tenantId: 'acme', role: 'service' }), body: { sessionId: 's1', nodeId: 'n1', nodeLabel: 'x' }
  }), { status: 200, body: { seq: 1 } }, 'a publisher token acts in its own tenant')
  t.match(await server.request('GET', '/api/sessions/s1'), { status: 401 }, 'reads need credentials')
  t.match(await server.request('GET', '/api/sessions/nope?tenantId=acme', { apiKey: true }), {
    status: 404, body: { code: 'RT_SESSIONS_NOT_FOUND', message: 'Session nope not found' }
  })

  const socket = await server.connect('/messages', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  t.match(await server.emitWithAck(socket, 'session:join', { sessionId: '' }), { error: { code: 'RT_ERR_VALIDATION', field: 'sessionId' } })
  t.match(await server.emitWithAck(socket, 'session:leave', {}), { error: { code: 'RT_ERR_VALIDATION', field: 'sessionId' } })
})

t.test('the options of the WhatsApp builder gateway protocol profile are valid and serve /messages', async (t) => {
  const profile = JSON.parse(readFileSync('config/examples/whatsapp-builder-gateway.json', 'utf8'))
  const server = await startServer({ config: { plugins: { sessions: profile.plugins.sessions } } })
  t.teardown(() => server.close())
  const socket = await server.connect('/messages', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  t.same(await server.emitWithAck(socket, 'session:join', { sessionId: 's1' }), { sessionId: 's1', success: true, state: null })
})

t.test('joining while events stream in: snapshot plus live events cover every seq, none missing', async (t) => {
  const server = await startServer({ config: { plugins: { sessions: {} } } })
  t.teardown(() => server.close())
  const total = 40
  const sending = (async () => {
    for (let i = 1; i <= total; i++) t.equal((await post(server, 'node-executed', { sessionId: 'busy', nodeId: `n${i}`, nodeLabel: 'x' })).status, 200)
  })()
  const watcher = await server.connect('/messages', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const live: number[] = []
  watcher.on('session:node-executed', (_p: unknown, meta: { seq: number }) => { live.push(meta.seq) })
  const { state } = await server.emitWithAck(watcher, 'session:join', { sessionId: 'busy' })
  await sending
  // Sentinel: one more event, certainly after the join.
  const sentinel = waitFor(watcher, 'session:node-executed', { filter: (_p: unknown, meta: { seq: number }) => meta.seq === total + 1 })
  t.equal((await post(server, 'node-executed', { sessionId: 'busy', nodeId: 'end', nodeLabel: 'x' })).status, 200)
  await sentinel
  const from = (state?.seq ?? 0) + 1
  t.same(live.filter((s) => s >= from), Array.from({ length: total + 2 - from }, (_, i) => from + i), 'every event after the snapshot arrived once, in order')
})
