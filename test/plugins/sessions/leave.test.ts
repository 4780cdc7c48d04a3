import t from 'tap'
import { record, startServer, waitFor } from 'realtime-server/testing'

t.test('leaving a session stops its events; the other session and the other watcher still get theirs', async (t) => {
  const server = await startServer({ config: { plugins: { sessions: {} } } })
  t.teardown(() => server.close())
  const node = (sessionId: string, nodeId: string): Promise<{ status: number, body: any }> =>
    server.request('POST', '/api/sessions/node-executed', { apiKey: true, body: { tenantId: 'acme', sessionId, nodeId, nodeLabel: nodeId } })

  const leaver = await server.connect('/messages', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const stayer = await server.connect('/messages', { token: server.token({ sub: 'u2', tenantId: 'acme' }) })
  for (const s of [leaver, stayer]) t.equal((await server.emitWithAck(s, 'session:join', { sessionId: 's1' })).success, true)
  t.equal((await server.emitWithAck(leaver, 'session:join', { sessionId: 's2' })).success, true)

  const first = waitFor(leaver, 'session:node-executed')
  t.equal((await node('s1', 'n1')).status, 200)
  t.same((await first)[0], { sessionId: 's1', nodeId: 'n1', nodeLabel: 'n1' }, 'delivered while joined')

  t.same(await server.emitWithAck(leaver, 'session:leave', { sessionId: 's1' }), { sessionId: 's1', success: true })
  const leaverSaw = record(leaver, 'session:node-executed')
  const stayerGot = waitFor(stayer, 'session:node-executed', { filter: (p: { nodeId: string }) => p.nodeId === 'n2' })
  t.equal((await node('s1', 'n2')).status, 200)
  await stayerGot
  // Sentinel: an event of s2, which the leaver still watches, published after the s1 event.
  const sentinel = waitFor(leaver, 'session:node-executed', { filter: (p: { sessionId: string }) => p.sessionId === 's2' })
  t.equal((await node('s2', 'x')).status, 200)
  await sentinel
  t.same(leaverSaw.map((e) => e.args[0].sessionId), ['s2'], 'nothing of s1 after leaving, only the sentinel')
  t.same(await server.emitWithAck(leaver, 'session:leave', { sessionId: 's1' }), { sessionId: 's1', success: true }, 'leaving twice is harmless')
})
