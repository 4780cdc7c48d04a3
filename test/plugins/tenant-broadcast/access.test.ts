import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import t from 'tap'
import { record, startServer, waitFor, type ClientSocket, type TestServer } from 'realtime-server/testing'

interface HookRequest { headers: IncomingMessage['headers'], body: any }

/** A real backend answering the subscribe hook: ids `ok*` 204, `no*` 403, `boom*` 500, `hang*` never. */
async function startHook (): Promise<{ url: string, requests: HookRequest[], close: () => Promise<void> }> {
  const requests: HookRequest[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = ''
    req.on('data', (c: Buffer) => { text += c.toString() })
    req.on('end', () => {
      const body = JSON.parse(text)
      requests.push({ headers: req.headers, body })
      const id = String(body.id)
      if (id.startsWith('hang')) return // the server's timeout must refuse
      if (id.startsWith('data')) {
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ data: { for: body.userId, unread: id.length } }))
        return
      }
      res.statusCode = id.startsWith('ok') ? 204 : id.startsWith('no') ? 403 : 500
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}/authorize`,
    requests,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => { resolve() }))
    }
  }
}

/** The URL of a port nothing listens on any more (connection refused). */
async function deadUrl (): Promise<string> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const { port } = s.address() as { port: number }
  await new Promise<void>((resolve) => s.close(() => { resolve() }))
  return `http://127.0.0.1:${port}/authorize`
}

const TS = '2025-11-05T10:00:00Z'
const refusedAck = (room: string, reason: string): object => ({ error: { code: 'RT_BROADCAST_SUBSCRIBE_REFUSED', message: `Subscription to ${room} refused: ${reason}` } })

async function publishTo (server: TestServer, kind: string, id: string, tenantId = 'acme'): Promise<number> {
  const res = await server.request('POST', '/api/tenant-broadcast/events', {
    apiKey: true,
    body: { type: 'campaign:paused', payload: { campaignId: `${kind}:${id}`, timestamp: TS }, tenantId, to: { room: { kind, id } } }
  })
  return res.body.recipients
}

/** Publishes a sentinel to the socket's user and waits for it; returns the rooms the socket got events for. */
async function roomsReached (server: TestServer, socket: ClientSocket, seen: ReturnType<typeof record>, user: string): Promise<string[]> {
  const sentinel = waitFor(socket, 'campaign:paused', { filter: (p) => p.campaignId === 'sentinel' })
  await server.request('POST', '/api/tenant-broadcast/events', {
    apiKey: true,
    body: { type: 'campaign:paused', payload: { campaignId: 'sentinel', timestamp: TS }, tenantId: 'acme', to: { users: [user] } }
  })
  await sentinel
  return seen.map((e) => e.args[0].campaignId).filter((l: string) => l !== 'sentinel')
}

t.test('subscription authorization: tenant, claim, roles and a backend hook', async (t) => {
  const hook = await startHook()
  t.teardown(hook.close)
  const down = await deadUrl()
  const server = await startServer({
    config: {
      plugins: {
        'tenant-broadcast': {
          options: {
            rooms: [
              { kind: 'campaign', access: { mode: 'tenant' } },
              { kind: 'whatsapp', access: { mode: 'claim', claim: 'whatsappAccounts' } },
              { kind: 'team', access: { mode: 'roles', roles: ['admin', 'supervisor'] } },
              { kind: 'contact', access: { mode: 'hook', url: hook.url, cacheTtlMs: 60000, headers: { authorization: 'Bearer hook-secret' } } },
              { kind: 'flow', access: { mode: 'hook', url: hook.url, cacheTtlMs: 0 } },
              { kind: 'slow', access: { mode: 'hook', url: hook.url, timeoutMs: 200 } },
              { kind: 'down', access: { mode: 'hook', url: down } }
            ]
          }
        }
      }
    }
  })
  t.teardown(() => server.close())

  t.test('tenant: any id of the own tenant', async (t) => {
    const s = await server.connect('/', { token: server.token({ sub: 'tenant-user', tenantId: 'acme' }) })
    const seen = record(s, 'campaign:paused')
    t.same(await server.emitWithAck(s, 'subscribe:campaign', 'anything-42'), { ok: true, kind: 'campaign', id: 'anything-42' })
    t.equal(await publishTo(server, 'campaign', 'anything-42'), 1)
    t.same(await roomsReached(server, s, seen, 'tenant-user'), ['campaign:anything-42'])
  })

  t.test('claim: ids listed in a JWT claim', async (t) => {
    const s = await server.connect('/', { token: server.token({ sub: 'claim-user', tenantId: 'acme', whatsappAccounts: ['wa-1', 'wa-2'] }) })
    const seen = record(s, 'campaign:paused')
    t.same(await server.emitWithAck(s, 'subscribe:whatsapp', 'wa-1'), { ok: true, kind: 'whatsapp', id: 'wa-1' })
    t.same(await server.emitWithAck(s, 'subscribe:whatsapp', { id: 'wa-3' }), refusedAck('whatsapp:wa-3', 'not listed in the token\'s whatsappAccounts claim'))
    const none = await server.connect('/', { token: server.token({ sub: 'claim-none', tenantId: 'acme' }) })
    t.same(await server.emitWithAck(none, 'subscribe:whatsapp', 'wa-1'), refusedAck('whatsapp:wa-1', 'not listed in the token\'s whatsappAccounts claim'))
    const all = await server.connect('/', { token: server.token({ sub: 'claim-all', tenantId: 'acme', whatsappAccounts: '*' }) })
    t.same(await server.emitWithAck(all, 'subscribe:whatsapp', 'wa-9'), { ok: true, kind: 'whatsapp', id: 'wa-9' })
    await publishTo(server, 'whatsapp', 'wa-1')
    await publishTo(server, 'whatsapp', 'wa-3')
    t.same(await roomsReached(server, s, seen, 'claim-user'), ['whatsapp:wa-1'], 'the refused room was not joined')
  })

  t.test('roles: any id for users with one of the roles', async (t) => {
    const admin = await server.connect('/', { token: server.token({ sub: 'role-admin', tenantId: 'acme', role: ['agent', 'supervisor'] }) })
    const agent = await server.connect('/', { token: server.token({ sub: 'role-agent', tenantId: 'acme', role: 'agent' }) })
    const seen = record(agent, 'campaign:paused')
    t.same(await server.emitWithAck(admin, 'subscribe:team', 't1'), { ok: true, kind: 'team', id: 't1' })
    t.same(await server.emitWithAck(agent, 'subscribe:team', 't1'), refusedAck('team:t1', 'requires one of the roles admin, supervisor'))
    t.equal(await publishTo(server, 'team', 't1'), 1, 'only the supervisor is in the room')
    t.same(await roomsReached(server, agent, seen, 'role-agent'), [])
  })

  t.test('hook: a 2xx answer allows; the backend gets user, tenant, kind and id; answers are cached', async (t) => {
    const s = await server.connect('/', { token: server.token({ sub: 'hook-user', tenantId: 'acme', role: 'agent' }) })
    const seen = record(s, 'campaign:paused')
    t.same(await server.emitWithAck(s, 'subscribe:contact', 'ok-1'), { ok: true, kind: 'contact', id: 'ok-1' })
    const asked = hook.requests.filter((r) => r.body.id === 'ok-1')
    t.equal(asked.length, 1)
    t.same(asked[0]!.body, { userId: 'hook-user', tenantId: 'acme', roles: ['agent'], kind: 'contact', id: 'ok-1' })
    t.equal(asked[0]!.headers.authorization, 'Bearer hook-secret', 'configured headers are sent')

    t.same(await server.emitWithAck(s, 'subscribe:contact', 'no-1'), refusedAck('contact:no-1', 'refused by the access hook'))
    t.same(await server.emitWithAck(s, 'subscribe:contact', 'boom-1'), refusedAck('contact:boom-1', 'refused by the access hook'), 'a 500 refuses')

    // Cached: unsubscribing and subscribing again does not ask the backend again (cacheTtlMs 60000)...
    t.same(await server.emitWithAck(s, 'unsubscribe:contact', 'ok-1'), { ok: true, kind: 'contact', id: 'ok-1' })
    t.same(await server.emitWithAck(s, 'subscribe:contact', 'ok-1'), { ok: true, kind: 'contact', id: 'ok-1' })
    t.equal(hook.requests.filter((r) => r.body.id === 'ok-1').length, 1, 'the allowed answer was cached')
    t.same(await server.emitWithAck(s, 'subscribe:contact', 'no-1'), refusedAck('contact:no-1', 'refused by the access hook'))
    t.equal(hook.requests.filter((r) => r.body.id === 'no-1').length, 1, 'the refusal was cached too')
    // ...while cacheTtlMs 0 asks every time.
    t.same(await server.emitWithAck(s, 'subscribe:flow', 'ok-2'), { ok: true, kind: 'flow', id: 'ok-2' })
    t.same(await server.emitWithAck(s, 'unsubscribe:flow', 'ok-2'), { ok: true, kind: 'flow', id: 'ok-2' })
    t.same(await server.emitWithAck(s, 'subscribe:flow', 'ok-2'), { ok: true, kind: 'flow', id: 'ok-2' })
    t.equal(hook.requests.filter((r) => r.body.id === 'ok-2').length, 2)

    await publishTo(server, 'contact', 'ok-1')
    await publishTo(server, 'contact', 'no-1')
    await publishTo(server, 'contact', 'boom-1')
    t.same(await roomsReached(server, s, seen, 'hook-user'), ['contact:ok-1'])
  })

  t.test('hook: the data of its answer reaches the client in the subscribe ack, for each user; 50 joins ask once', async (t) => {
    const a = await server.connect('/', { token: server.token({ sub: 'data-a', tenantId: 'acme' }) })
    const b = await server.connect('/', { token: server.token({ sub: 'data-b', tenantId: 'acme' }) })
    t.same(await server.emitWithAck(a, 'subscribe:contact', 'data-1'), { ok: true, kind: 'contact', id: 'data-1', data: { for: 'data-a', unread: 6 } })
    t.same(await server.emitWithAck(b, 'subscribe:contact', 'data-1'), { ok: true, kind: 'contact', id: 'data-1', data: { for: 'data-b', unread: 6 } })
    const many = await Promise.all(Array.from({ length: 50 }, async () => {
      const s = await server.connect('/', { token: server.token({ sub: 'data-c', tenantId: 'acme' }) })
      return await server.emitWithAck(s, 'subscribe:contact', 'data-22')
    }))
    t.same(many[49], { ok: true, kind: 'contact', id: 'data-22', data: { for: 'data-c', unread: 7 } })
    t.equal(hook.requests.filter((r) => r.body.id === 'data-22').length, 1, 'one request for 50 sockets of one user')
  })

  t.test('hook: one slower than its timeout refuses, one that is down refuses', async (t) => {
    const s = await server.connect('/', { token: server.token({ sub: 'hook-down-user', tenantId: 'acme' }) })
    const seen = record(s, 'campaign:paused')
    t.same(await server.emitWithAck(s, 'subscribe:slow', 'hang-1'), refusedAck('slow:hang-1', 'the access hook is unavailable'))
    t.ok(hook.requests.some((r) => r.body.id === 'hang-1'), 'the hook was asked and did not answer')
    t.same(await server.emitWithAck(s, 'subscribe:down', 'ok-3'), refusedAck('down:ok-3', 'the access hook is unavailable'))
    // A hook that is down again: errors are not cached, and still refuse.
    t.same(await server.emitWithAck(s, 'subscribe:down', 'ok-3'), refusedAck('down:ok-3', 'the access hook is unavailable'))
    await publishTo(server, 'slow', 'hang-1')
    await publishTo(server, 'down', 'ok-3')
    t.same(await roomsReached(server, s, seen, 'hook-down-user'), [], 'refused subscriptions joined nothing')
  })

  t.test('a refusal without an ack callback comes as an error event; bad ids are validation errors', async (t) => {
    const s = await server.connect('/', { token: server.token({ sub: 'no-ack-user', tenantId: 'acme' }) })
    const error = waitFor(s, 'error')
    s.emit('subscribe:contact', 'no-2') // the WhatsApp CRM rooms protocol clients emit without an ack
    const [err] = await error
    t.equal(err.code, 'RT_BROADCAST_SUBSCRIBE_REFUSED')
    t.equal(err.event, 'subscribe:contact')
    t.equal(err.message, 'Subscription to contact:no-2 refused: refused by the access hook')

    const bad = await server.emitWithAck(s, 'subscribe:campaign', 42)
    t.equal(bad.error.code, 'RT_ERR_VALIDATION')
    t.same(await server.emitWithAck(s, 'subscribe:campaign', { id: '' }), { error: { code: 'RT_ERR_VALIDATION', message: 'Invalid payload: id: must not have fewer than 1 characters', field: 'id' } })
  })
})

t.test('unsubscribe leaves the room; subscriptions per socket are limited', async (t) => {
  const server = await startServer({ config: { plugins: { 'tenant-broadcast': { options: { rooms: [{ kind: 'campaign' }, { kind: 'contact' }], maxSubscriptions: 2 } } } } })
  t.teardown(() => server.close())
  const s = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const seen = record(s, 'campaign:paused')
  t.same(await server.emitWithAck(s, 'subscribe:campaign', 'c1'), { ok: true, kind: 'campaign', id: 'c1' })
  t.same(await server.emitWithAck(s, 'subscribe:contact', 'k1'), { ok: true, kind: 'contact', id: 'k1' })
  t.same(await server.emitWithAck(s, 'subscribe:campaign', 'c1'), { ok: true, kind: 'campaign', id: 'c1' }, 'a room already joined is not counted twice')
  t.same(await server.emitWithAck(s, 'subscribe:campaign', 'c2'), { error: { code: 'RT_BROADCAST_TOO_MANY_SUBSCRIPTIONS', message: 'Too many subscriptions: at most 2 rooms per socket' } })
  t.same(await server.emitWithAck(s, 'unsubscribe:contact', { id: 'k1' }), { ok: true, kind: 'contact', id: 'k1' })
  t.same(await server.emitWithAck(s, 'subscribe:campaign', 'c2'), { ok: true, kind: 'campaign', id: 'c2' }, 'room freed by unsubscribing')

  await publishTo(server, 'contact', 'k1')
  await publishTo(server, 'campaign', 'c1')
  await publishTo(server, 'campaign', 'c2')
  t.same(await roomsReached(server, s, seen, 'u1'), ['campaign:c1', 'campaign:c2'])
  t.same((await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'campaign:paused', payload: { campaignId: 'x', timestamp: TS }, tenantId: 'acme', to: { room: { kind: 'team', id: 'x' } } } })).body.field,
    'to.room.kind', 'only declared room kinds can be targeted')
})
