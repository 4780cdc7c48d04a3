import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { startServer } from 'realtime-server/testing'

const seed = async (server: { request: (m: string, p: string, o: object) => Promise<{ status: number }> }, sessionId: string): Promise<number> =>
  (await server.request('POST', '/api/sessions/node-executed', { apiKey: true, body: { tenantId: 'acme', sessionId, nodeId: 'n1', nodeLabel: 'x' } })).status

t.test('access by roles: only listed roles watch, and user tokens read only what they may watch', async (t) => {
  const server = await startServer({ config: { plugins: { sessions: { options: { access: { mode: 'roles', roles: ['supervisor'] } } } } } })
  t.teardown(() => server.close())
  t.equal(await seed(server, 's1'), 200)
  const agent = server.token({ sub: 'a1', tenantId: 'acme', role: 'agent' })
  const supervisor = server.token({ sub: 'b1', tenantId: 'acme', role: ['agent', 'supervisor'] })

  const refused = await server.emitWithAck(await server.connect('/messages', { token: agent }), 'session:join', { sessionId: 's1' })
  t.same(refused, { error: { code: 'RT_SESSIONS_FORBIDDEN', message: 'Not allowed to watch session s1: requires one of the roles supervisor' } })
  const allowed = await server.emitWithAck(await server.connect('/messages', { token: supervisor }), 'session:join', { sessionId: 's1' })
  t.match(allowed, { sessionId: 's1', success: true, state: { seq: 1, nodeCount: 1 } })

  t.match(await server.request('GET', '/api/sessions/s1', { token: agent }), { status: 403, body: { code: 'RT_SESSIONS_FORBIDDEN' } })
  t.match(await server.request('GET', '/api/sessions/s1', { token: supervisor }), { status: 200, body: { seq: 1 } })
  t.same((await server.request('GET', '/api/sessions', { token: agent })).body, { tenantId: 'acme', sessions: [] }, 'the list leaves out what the token may not watch')
  t.equal((await server.request('GET', '/api/sessions', { token: supervisor })).body.sessions.length, 1)
  t.match(await server.request('GET', '/api/sessions/s1?tenantId=acme', { apiKey: true }), { status: 200 }, 'a backend\'s API key reads regardless')
})

t.test('access by a backend hook: asked with the user and the session id', async (t) => {
  const asked: any[] = []
  const hook = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      const question = JSON.parse(body)
      asked.push({ question, secret: req.headers['x-hook-secret'] })
      if (String(question.id).startsWith('data-')) {
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ data: { watcher: question.userId } }))
        return
      }
      res.statusCode = String(question.id).startsWith('open-') ? 204 : 403
      res.end()
    })
  })
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { hook.close() })
  const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/may-watch`
  const server = await startServer({
    config: { plugins: { sessions: { options: { access: { mode: 'hook', url, cacheTtlMs: 0, headers: { 'x-hook-secret': 's3cret' } } } } } }
  })
  t.teardown(() => server.close())
  t.equal(await seed(server, 'open-1'), 200)
  t.equal(await seed(server, 'closed-1'), 200)
  const token = server.token({ sub: 'u7', tenantId: 'acme', role: 'agent' })
  const socket = await server.connect('/messages', { token })

  t.match(await server.emitWithAck(socket, 'session:join', { sessionId: 'open-1' }), { success: true, state: { seq: 1 } })
  t.same(await server.emitWithAck(socket, 'session:join', { sessionId: 'closed-1' }), {
    error: { code: 'RT_SESSIONS_FORBIDDEN', message: 'Not allowed to watch session closed-1: refused by the access hook' }
  })
  t.same(asked.slice(0, 2), [
    { question: { userId: 'u7', tenantId: 'acme', roles: ['agent'], kind: 'session', id: 'open-1' }, secret: 's3cret' },
    { question: { userId: 'u7', tenantId: 'acme', roles: ['agent'], kind: 'session', id: 'closed-1' }, secret: 's3cret' }
  ])
  const listed = await server.request('GET', '/api/sessions', { token })
  t.same(listed.body.sessions.map((s: { sessionId: string }) => s.sessionId), ['open-1'], 'the list shows what the hook allows')
  t.match(await server.request('GET', '/api/sessions/closed-1', { token }), { status: 403 })
  const joined = await server.emitWithAck(socket, 'session:join', { sessionId: 'data-1' })
  t.same(joined, { sessionId: 'data-1', success: true, state: null, data: { watcher: 'u7' } }, 'the hook\'s data comes with the join')
  t.notOk('data' in (await server.emitWithAck(socket, 'session:join', { sessionId: 'open-1' })), 'no data field when the hook gave none')
})
