import { Redis } from 'ioredis'
import t from 'tap'
import { startServer, testRedisUrl, type TestServer } from 'realtime-server/testing'

const at = '2025-01-01T10:00:00.000Z'

/** Polls a read until it answers 404; fails after a generous deadline. */
async function until404 (server: TestServer, path: string, deadlineMs = 20_000): Promise<{ status: number, body: any }> {
  const deadline = Date.now() + deadlineMs
  for (;;) {
    const res = await server.request('GET', path, { apiKey: true })
    if (res.status === 404 || Date.now() > deadline) return res
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const post = async (server: TestServer, event: string, body: object): Promise<{ status: number, body: any }> =>
  await server.request('POST', `/api/sessions/${event}`, { apiKey: true, body: { tenantId: 'acme', ...body } })
const listed = async (server: TestServer): Promise<string[]> =>
  (await server.request('GET', '/api/sessions?tenantId=acme', { apiKey: true })).body.sessions.map((s: { sessionId: string }) => s.sessionId)

for (const redis of [false, true]) {
  const backend = redis ? 'redis' : 'memory'

  t.test(`finished sessions expire after finishedTtlMs; active ones stay (${backend})`, async (t) => {
    const server = await startServer({ config: { plugins: { sessions: { options: { finishedTtlMs: 150 } } } }, redis })
    t.teardown(() => server.close())
    t.equal((await post(server, 'status-changed', { sessionId: 'live', newStatus: 'running', updatedAt: at })).status, 200)
    t.equal((await post(server, 'status-changed', { sessionId: 'done', newStatus: 'running', updatedAt: at })).status, 200)
    t.equal((await post(server, 'completed', { sessionId: 'done', completedAt: at, totalNodes: 0, totalMessages: 0 })).status, 200)
    t.same(await listed(server), ['live'], 'a finished session leaves the active list at once')

    t.match(await until404(server, '/api/sessions/done?tenantId=acme'), { status: 404, body: { code: 'RT_SESSIONS_NOT_FOUND' } })
    t.match(await server.request('GET', '/api/sessions/live?tenantId=acme', { apiKey: true }), { status: 200, body: { status: 'running' } }, 'the active session is still there')
    t.match(await post(server, 'status-changed', { sessionId: 'done', newStatus: 'running', updatedAt: at }), { status: 200, body: { seq: 1 } },
      'once expired, the id starts a new session')
  })

  t.test(`idle active sessions expire after activeTtlMs and leave the list (${backend})`, async (t) => {
    const server = await startServer({ config: { plugins: { sessions: { options: { activeTtlMs: 150 } } } }, redis })
    t.teardown(() => server.close())
    t.equal((await post(server, 'node-executed', { sessionId: 'idle', nodeId: 'n1', nodeLabel: 'x' })).status, 200)
    t.equal((await post(server, 'status-changed', { sessionId: 'ended', newStatus: 'stopped', updatedAt: at })).status, 200)
    t.match(await until404(server, '/api/sessions/idle?tenantId=acme'), { status: 404 })
    t.notOk((await listed(server)).includes('idle'), 'the expired session is not listed')
    t.match(await server.request('GET', '/api/sessions/ended?tenantId=acme', { apiKey: true }), { status: 200, body: { status: 'stopped' } },
      'a finished session keeps finishedTtlMs, not activeTtlMs')
  })
}

t.test('activeTtlMs 0 keeps an active session until it finishes', async (t) => {
  const server = await startServer({ config: { plugins: { sessions: { options: { activeTtlMs: 0 } } } }, redis: true })
  t.teardown(() => server.close())
  t.equal((await post(server, 'node-executed', { sessionId: 'forever', nodeId: 'n1', nodeLabel: 'x' })).status, 200)
  const raw = new Redis(testRedisUrl())
  t.teardown(() => { raw.disconnect() })
  t.equal(await raw.pttl(`${server.keyPrefix!}:sessions:state:acme:forever`), -1, 'no expiry on the state')
  t.equal(await raw.pttl(`${server.keyPrefix!}:sessions:active:acme`), -1, 'nor on the index')
  t.equal((await post(server, 'status-changed', { sessionId: 'forever', newStatus: 'completed', updatedAt: at })).status, 200)
  t.ok(await raw.pttl(`${server.keyPrefix!}:sessions:state:acme:forever`) > 0, 'finishing sets the expiry')
})
