import { randomUUID } from 'node:crypto'
import t from 'tap'
import { deleteRedisPrefix, record, startServer, waitFor, type TestServer } from 'realtime-server/testing'

const at = '2025-01-01T10:00:00.000Z'
const slow = { timeoutMs: 15_000 }

t.test('two nodes on one Redis share every session', async (t) => {
  const prefix = `test-sessions-${randomUUID().slice(0, 8)}`
  const config = { plugins: { sessions: {} } }
  const a = await startServer({ config, redis: prefix })
  const b = await startServer({ config, redis: prefix })
  t.teardown(async () => {
    await Promise.all([a.close(), b.close()])
    await deleteRedisPrefix(prefix)
  })
  const post = async (node: TestServer, event: string, body: object): Promise<{ status: number, body: any }> =>
    await node.request('POST', `/api/sessions/${event}`, { apiKey: true, body: { tenantId: 'acme', ...body } })
  const get = async (node: TestServer, path: string): Promise<any> => (await node.request('GET', `/api/sessions${path}`, { apiKey: true })).body

  await t.test('events applied on either node build one state, delivered to watchers on both', async (t) => {
    const onB = await b.connect('/messages', { token: b.token({ sub: 'u1', tenantId: 'acme' }) })
    const bSaw = record(onB)
    t.same((await b.emitWithAck(onB, 'session:join', { sessionId: 's1' })).state, null)

    const started = waitFor(onB, 'session:status-changed', slow)
    t.match(await post(a, 'status-changed', { sessionId: 's1', newStatus: 'running', updatedAt: at }), { status: 200, body: { seq: 1 } })
    t.equal((await started)[1].seq, 1, 'an event applied on A reaches a watcher on B')
    t.match(await post(b, 'node-executed', { sessionId: 's1', nodeId: 'n1', nodeLabel: 'Hi' }), { status: 200, body: { seq: 2 } }, 'B continues A\'s sequence')
    const message = waitFor(onB, 'session:message-sent', slow)
    t.match(await post(a, 'message-sent', { sessionId: 's1', messageId: 'm1', senderId: 'bot', type: 'text', content: 'hi', status: 'sent', timestamp: at }), { status: 200, body: { seq: 3 } })
    // Events of different nodes may overtake each other on the way (meta.seq orders them); wait before the next one.
    await message

    const fromA = await get(a, '/s1?tenantId=acme')
    t.match(fromA, { status: 'running', seq: 3, nodeCount: 1, messageCount: 1 })
    t.same(await get(b, '/s1?tenantId=acme'), fromA, 'both nodes read the same state')

    // A late joiner on A after events applied on both nodes, then a live event from B.
    const onA = await a.connect('/messages', { token: a.token({ sub: 'u2', tenantId: 'acme' }) })
    const aSaw = record(onA)
    t.same((await a.emitWithAck(onA, 'session:join', { sessionId: 's1' })).state, fromA, 'the snapshot of a late joiner on the other node')
    const waiting = waitFor(onA, 'session:status-changed', slow)
    const bDone = waitFor(onB, 'session:status-changed', { ...slow, filter: (_p: unknown, m: { seq: number }) => m.seq === 4 })
    t.equal((await post(b, 'status-changed', { sessionId: 's1', newStatus: 'waiting_input', updatedAt: at })).status, 200)
    await Promise.all([waiting, bDone])
    t.same(aSaw.map((e) => [e.event, e.args[1]?.seq]), [['session:state', undefined], ['session:status-changed', 4]])
    t.same(bSaw.map((e) => e.args[1]?.seq), [undefined, 1, 2, 3, 4], 'the first watcher got each event once, in order')
    t.same((await get(a, '?tenantId=acme')).sessions.map((s: { seq: number }) => s.seq), [4])
    t.same(await get(b, '?tenantId=acme'), await get(a, '?tenantId=acme'), 'both nodes list the same active sessions')
  })

  await t.test('concurrent events on both nodes: no lost update, one sequence', async (t) => {
    const results = await Promise.all(Array.from({ length: 20 }, async (_, i) =>
      await post(i % 2 === 0 ? a : b, 'message-sent', { sessionId: 'busy', messageId: `m${i}`, senderId: 'x', type: 'text', content: i, status: 'sent', timestamp: at })))
    t.same(results.map((r) => r.status), Array(20).fill(200), 'every event accepted')
    t.same(results.map((r) => r.body.seq).sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i + 1), 'each got its own seq')
    const state = await get(b, '/busy?tenantId=acme')
    t.equal(state.messageCount, 20)
    t.same(state.recent.map((e: { seq: number }) => e.seq), Array.from({ length: 20 }, (_, i) => i + 1))
  })

  await t.test('concurrent terminal transitions on both nodes: exactly one wins', async (t) => {
    const finals = ['completed', 'stopped', 'expired', 'stopped', 'completed', 'expired']
    const results = await Promise.all(finals.map(async (newStatus, i) =>
      await post(i % 2 === 0 ? a : b, 'status-changed', { sessionId: 's1', newStatus, updatedAt: at })))
    const won = results.filter((r) => r.status === 200)
    t.equal(won.length, 1, 'one accepted')
    t.same(results.filter((r) => r.status !== 200).map((r) => r.body.code), Array(5).fill('RT_SESSIONS_ILLEGAL_TRANSITION'), 'the others refused')
    t.match(await get(a, '/s1?tenantId=acme'), { status: won[0]!.body.status, seq: 5 })
    t.same((await get(b, '?tenantId=acme')).sessions.map((s: { sessionId: string }) => s.sessionId), ['busy'], 's1 left the active list')
  })

  await t.test('joining on B while A applies events: snapshot plus live events miss nothing', async (t) => {
    const total = 30
    const sending = (async () => {
      for (let i = 1; i <= total; i++) t.equal((await post(a, 'node-executed', { sessionId: 'stream', nodeId: `n${i}`, nodeLabel: 'x' })).status, 200)
    })()
    const watcher = await b.connect('/messages', { token: b.token({ sub: 'u3', tenantId: 'acme' }) })
    const live: number[] = []
    watcher.on('session:node-executed', (_p: unknown, meta: { seq: number }) => { live.push(meta.seq) })
    const { state } = await b.emitWithAck(watcher, 'session:join', { sessionId: 'stream' })
    await sending
    const sentinel = waitFor(watcher, 'session:node-executed', { ...slow, filter: (_p: unknown, meta: { seq: number }) => meta.seq === total + 1 })
    t.equal((await post(a, 'node-executed', { sessionId: 'stream', nodeId: 'end', nodeLabel: 'x' })).status, 200)
    await sentinel
    const from = (state?.seq ?? 0) + 1
    t.same(live.filter((s) => s >= from), Array.from({ length: total + 2 - from }, (_, i) => from + i))
  })
})
