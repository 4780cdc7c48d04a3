import t from 'tap'
import { record, startServer, waitFor } from 'realtime-server/testing'

const at = '2025-01-01T10:00:00.000Z'

for (const redis of [false, true]) {
  t.test(`impossible transitions are refused with 409 and change nothing (${redis ? 'redis' : 'memory'})`, async (t) => {
    const server = await startServer({ config: { plugins: { sessions: {} } }, redis })
    t.teardown(() => server.close())
    const post = async (event: string, body: object): Promise<{ status: number, body: any }> =>
      await server.request('POST', `/api/sessions/${event}`, { apiKey: true, body: { tenantId: 'acme', ...body } })
    const status = (sessionId: string, newStatus: string): object => ({ sessionId, newStatus, updatedAt: at })
    const summary = (sessionId: string): object => ({ sessionId, completedAt: at, totalNodes: 1, totalMessages: 1 })
    const message = (sessionId: string): object => ({ sessionId, messageId: 'm', senderId: 'x', type: 'text', content: 'late', status: 'sent', timestamp: at })
    const refused = (sessionId: string, what: string, reason: string): object => ({
      status: 409,
      body: { statusCode: 409, error: 'Conflict', code: 'RT_SESSIONS_ILLEGAL_TRANSITION', message: `Session ${sessionId} refuses ${what}: ${reason}` }
    })

    const watcher = await server.connect('/messages', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
    t.equal((await server.emitWithAck(watcher, 'session:join', { sessionId: 'done' })).success, true)

    // running <-> waiting_input, then completed (status first, then the summary: both accepted once).
    for (const s of ['running', 'waiting_input', 'waiting_input', 'running', 'completed']) {
      t.equal((await post('status-changed', status('done', s))).status, 200, `-> ${s}`)
    }
    const summarized = waitFor(watcher, 'session:completed')
    t.match(await post('completed', summary('done')), { status: 200, body: { seq: 6, status: 'completed' } }, 'the summary after status-changed to completed')
    await summarized
    const watcherSaw = record(watcher)

    t.same(await post('status-changed', status('done', 'running')), refused('done', 'status-changed to running', 'it is already completed'))
    t.same(await post('status-changed', status('done', 'completed')), refused('done', 'status-changed to completed', 'it is already completed'))
    t.same(await post('completed', summary('done')), refused('done', 'session:completed', 'it already completed'))
    t.same(await post('message-sent', message('done')), refused('done', 'session:message-sent', 'it is already completed'))
    t.same(await post('node-executed', { sessionId: 'done', nodeId: 'n9', nodeLabel: 'x' }), refused('done', 'session:node-executed', 'it is already completed'))

    t.equal((await post('completed', summary('direct'))).status, 200, 'a running session completes with the summary alone')
    t.same(await post('status-changed', status('direct', 'completed')), refused('direct', 'status-changed to completed', 'it is already completed'))

    t.equal((await post('status-changed', status('halted', 'stopped'))).status, 200)
    t.same(await post('completed', summary('halted')), refused('halted', 'session:completed', 'it is already stopped'))
    t.equal((await post('status-changed', status('timeout', 'expired'))).status, 200)
    t.same(await post('status-changed', status('timeout', 'waiting_input')), refused('timeout', 'status-changed to waiting_input', 'it is already expired'))

    // Nothing refused was published: the watcher's next event is the sentinel.
    const sentinel = waitFor(watcher, 'session:node-executed')
    await server.emitWithAck(watcher, 'session:join', { sessionId: 'sentinel' })
    t.equal((await post('node-executed', { sessionId: 'sentinel', nodeId: 'n1', nodeLabel: 'x' })).status, 200)
    await sentinel
    t.same(watcherSaw.filter((e) => e.event !== 'session:state').map((e) => e.args[0].sessionId), ['sentinel'], 'no refused event reached the room')

    const state = await server.request('GET', '/api/sessions/done?tenantId=acme', { apiKey: true })
    t.match(state.body, { status: 'completed', seq: 6, messageCount: 0, nodeCount: 0, totalNodes: 1 }, 'the refused events left no trace')
  })

  t.test(`concurrent terminal transitions: exactly one wins (${redis ? 'redis' : 'memory'})`, async (t) => {
    const server = await startServer({ config: { plugins: { sessions: {} } }, redis })
    t.teardown(() => server.close())
    const post = async (event: string, body: object): Promise<{ status: number, body: any }> =>
      await server.request('POST', `/api/sessions/${event}`, { apiKey: true, body: { tenantId: 'acme', sessionId: 'race', ...body } })
    t.equal((await post('status-changed', { newStatus: 'running', updatedAt: at })).status, 200)

    const finals = ['completed', 'stopped', 'expired', 'completed', 'stopped', 'expired', 'completed', 'stopped']
    const results = await Promise.all([
      ...finals.map(async (s) => await post('status-changed', { newStatus: s, updatedAt: at })),
      ...[1, 2, 3, 4].map(async (i) => await post('message-sent', { messageId: `m${i}`, senderId: 'x', type: 'text', content: i, status: 'sent', timestamp: at }))
    ])
    const finalResults = results.slice(0, finals.length)
    const winners = finalResults.filter((r) => r.status === 200)
    t.equal(winners.length, 1, 'one terminal transition is accepted')
    t.ok(finalResults.every((r) => r.status === 200 || r.body.code === 'RT_SESSIONS_ILLEGAL_TRANSITION'), 'the others are refused with 409')
    const acceptedMessages = results.slice(finals.length).filter((r) => r.status === 200).length
    const state = (await server.request('GET', '/api/sessions/race?tenantId=acme', { apiKey: true })).body
    t.equal(state.status, winners[0]!.body.status, 'the stored status is the winner\'s')
    t.equal(state.messageCount, acceptedMessages, 'every accepted message is counted, none after the end')
    t.equal(state.seq, 2 + acceptedMessages, 'one seq per accepted event')
    t.ok(state.recent.every((e: { seq: number }, i: number) => e.seq === i + 1), 'the history has no gap and no duplicate')
    t.equal(state.recent[state.recent.length - 1].event, 'session:status-changed', 'the terminal event is the last one')
  })
}
