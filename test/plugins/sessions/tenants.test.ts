import t from 'tap'
import { record, startServer, waitFor } from 'realtime-server/testing'

const BETA_KEY = 'beta-only-key-0123456789'

t.test('one session id in two tenants is two sessions: rooms, state, lists and credentials stay apart', async (t) => {
  const server = await startServer({
    config: { auth: { apiKeys: ['test-api-key-0123456789', { key: BETA_KEY, tenantId: 'beta' }] }, plugins: { sessions: {} } }
  })
  t.teardown(() => server.close())
  const alpha = await server.connect('/messages', { token: server.token({ sub: 'u1', tenantId: 'alpha' }) })
  const beta = await server.connect('/messages', { token: server.token({ sub: 'u1', tenantId: 'beta' }) })
  for (const s of [alpha, beta]) t.same((await server.emitWithAck(s, 'session:join', { sessionId: 'shared' })).state, null)
  const betaSaw = record(beta)

  const alphaGot = waitFor(alpha, 'session:status-changed')
  const res = await server.request('POST', '/api/sessions/status-changed', {
    apiKey: true, body: { tenantId: 'alpha', sessionId: 'shared', newStatus: 'waiting_input', updatedAt: 'now' }
  })
  t.match(res, { status: 200, body: { seq: 1, status: 'waiting_input' } })
  await alphaGot

  // Sentinel for beta: its own tenant's event on the same session id, sent with its tenant-bound key.
  const betaGot = waitFor(beta, 'session:node-executed')
  const own = await server.request('POST', '/api/sessions/node-executed', { apiKey: BETA_KEY, body: { sessionId: 'shared', nodeId: 'b1', nodeLabel: 'B' } })
  t.match(own, { status: 200, body: { seq: 1, status: 'running' } }, 'beta\'s session starts at seq 1, untouched by alpha\'s')
  await betaGot
  t.same(betaSaw.map((e) => e.event), ['session:node-executed'], 'beta saw none of alpha\'s events')

  const alphaToken = server.token({ sub: 'u1', tenantId: 'alpha' })
  const betaToken = server.token({ sub: 'u1', tenantId: 'beta' })
  t.match((await server.request('GET', '/api/sessions/shared', { token: alphaToken })).body, { status: 'waiting_input', nodeCount: 0 })
  t.match((await server.request('GET', '/api/sessions/shared', { token: betaToken })).body, { status: 'running', nodeCount: 1 })
  t.match(await server.request('GET', '/api/sessions/shared?tenantId=alpha', { token: betaToken }), { status: 403 }, 'a user token reads only its tenant')
  t.match(await server.request('GET', '/api/sessions?tenantId=alpha', { apiKey: BETA_KEY }), { status: 403 }, 'a tenant-bound key lists only its tenant')
  t.match(await server.request('POST', '/api/sessions/completed', {
    apiKey: BETA_KEY, body: { tenantId: 'alpha', sessionId: 'shared', completedAt: 'now', totalNodes: 0, totalMessages: 0 }
  }), { status: 403 }, 'a tenant-bound key publishes only to its tenant')
  t.match((await server.request('GET', '/api/sessions/shared', { token: alphaToken })).body, { status: 'waiting_input', seq: 1 }, 'alpha\'s session is unchanged')

  t.same((await server.request('GET', '/api/sessions', { token: betaToken })).body.sessions.map((s: { nodeCount: number }) => s.nodeCount), [1])
  t.same((await server.request('GET', '/api/sessions', { token: alphaToken })).body.sessions.map((s: { status: string }) => s.status), ['waiting_input'])
})
