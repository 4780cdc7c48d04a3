import t from 'tap'
import { startServer, waitFor } from 'realtime-server/testing'
import { roomsFixture } from '../../fixtures/presence-rooms.js'

t.test('REST: who is online in a tenant or a room, and the state of users', async (t) => {
  const server = await startServer({
    config: {
      plugins: {
        presence: {
          options: {
            online: [
              { namespace: '/messages', rooms: ['conversation:'] },
              { namespace: '/customers', roles: ['customer'], visibleTo: ['admin'], format: 'customer' }
            ],
            typing: [],
            offlineDelayMs: 200
          }
        }
      }
    },
    plugins: [{ plugin: roomsFixture }]
  })
  t.teardown(() => server.close())
  const token = (sub: string, role?: string, tenantId = 'acme') => server.token({ sub, tenantId, role })
  const alice = await server.connect('/messages', { token: token('alice') })
  const bob = await server.connect('/messages', { token: token('bob') })
  await server.connect('/messages', { token: token('eve', undefined, 'other') })
  await server.emitWithAck(alice, 'test:join', { room: 'conversation:c1' })
  await server.emitWithAck(alice, 'presence:list') // a query waits for the asker's own updates
  await server.emitWithAck(bob, 'presence:list')
  const get = async (path: string, auth: { token?: string, apiKey?: true } = { token: token('alice') }) => await server.request('GET', `/api/presence${path}`, auth)

  t.match(await get('/online', {}), { status: 401, body: { code: 'RT_ERR_UNAUTHORIZED' } })
  t.match(await get('/online', { apiKey: true }), { status: 400, body: { code: 'RT_ERR_VALIDATION', field: 'tenantId' } })

  const byKey = await get('/online?tenantId=acme', { apiKey: true })
  t.equal(byKey.status, 200)
  t.match(byKey.body, { tenantId: 'acme', namespace: '/messages', count: 2, users: [{ userId: 'alice', online: true, connections: 1, since: Number }, { userId: 'bob' }] })
  t.match(await get('/online'), { status: 200, body: { tenantId: 'acme', count: 2 } }, 'a user token reads its own tenant')
  t.match(await get('/online?tenantId=other'), { status: 403, body: { code: 'RT_ERR_FORBIDDEN' } }, 'and no other')
  t.match(await get('/online?tenantId=other', { apiKey: true }), { status: 200, body: { count: 1, users: [{ userId: 'eve' }] } })
  t.match(await get('/online?limit=1'), { status: 200, body: { count: 2, users: [{ userId: 'alice' }] } })
  t.equal((await get('/online?limit=1')).body.users.length, 1)
  t.match(await get('/online?limit=zero'), { status: 400, body: { code: 'RT_ERR_VALIDATION' } })

  t.match(await get('/online?room=conversation:c1'), { status: 200, body: { room: 'conversation:c1', count: 1, users: [{ userId: 'alice' }] } })
  t.match(await get('/online?room=conversation:c1', { token: token('bob') }), { status: 403, body: { code: 'RT_PRESENCE_NOT_IN_ROOM' } }, 'a user sees only rooms they are in')
  t.match(await get('/online?tenantId=acme&room=conversation:c1&limit=5', { apiKey: true }), { status: 200, body: { count: 1 } })
  t.match(await get('/online?room=misc:1'), { status: 400, body: { code: 'RT_PRESENCE_ROOM_NOT_TRACKED' } })
  t.match(await get('/online?namespace=/nope'), { status: 404, body: { code: 'RT_PRESENCE_UNKNOWN_LIST' } })
  t.match(await get('/online?namespace=/customers'), { status: 403, body: { code: 'RT_PRESENCE_NOT_VISIBLE' } })
  t.match(await get('/online?namespace=/customers', { token: token('root', 'admin') }), { status: 200, body: { namespace: '/customers', count: 0, users: [] } })

  t.match(await get('/users/bob'), { status: 200, body: { userId: 'bob', online: true, connections: 1, since: Number } })
  t.match(await get('/users/zed'), { status: 200, body: { userId: 'zed', online: false, connections: 0 } })

  const status = await server.request('POST', '/api/presence/status', { token: token('alice'), body: { userIds: ['bob', 'zed'] } })
  t.match(status, { status: 200, body: { users: [{ userId: 'bob', online: true }, { userId: 'zed', online: false }] } })
  t.match(await server.request('POST', '/api/presence/status', { token: token('alice'), body: {} }), { status: 400, body: { code: 'RT_ERR_VALIDATION' } })

  const offline = waitFor(alice, 'user:offline')
  bob.disconnect()
  await offline
  const after = await get('/users/bob')
  t.match(after.body, { userId: 'bob', online: false, connections: 0, lastSeen: Number }, 'lastSeen is kept')
})
