// tenant-broadcast's room kinds are declared rooms: the core's control routes move a user into and out of them.
import t from 'tap'
import { record, startServer, waitFor } from 'realtime-server/testing'

const TS = '2025-11-05T10:00:00Z'

t.test('a backend moves a user into a campaign room and out again through /api/control', async (t) => {
  const server = await startServer({ config: { plugins: { 'tenant-broadcast': { options: { rooms: [{ kind: 'campaign' }] } } } } })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const seen = record(socket, 'campaign:paused')
  const publish = async (campaignId: string, to: object): Promise<void> => {
    const res = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'campaign:paused', payload: { campaignId, timestamp: TS }, tenantId: 'acme', to } })
    t.equal(res.status, 200, `published ${campaignId}`)
  }
  const move = async (action: 'join' | 'leave', room: string): Promise<{ status: number, body: any }> =>
    await server.request('POST', `/api/control/users/${action}`, { apiKey: true, body: { tenantId: 'acme', userId: 'u1', room } })

  t.match(await move('join', 'campaign:42'), { status: 200, body: { room: 'campaign:42', template: 'campaign:{id}', plugin: 'tenant-broadcast', sockets: 1 } })
  const first = waitFor(socket, 'campaign:paused', { filter: (p) => p.campaignId === 'c42' })
  await publish('c42', { room: { kind: 'campaign', id: '42' } })
  await first

  t.match(await move('leave', 'campaign:42'), { status: 200, body: { sockets: 1 } })
  await publish('c42-after', { room: { kind: 'campaign', id: '42' } })
  const sentinel = waitFor(socket, 'campaign:paused', { filter: (p) => p.campaignId === 'sentinel' })
  await publish('sentinel', { users: ['u1'] })
  await sentinel
  t.same(seen.map((e) => e.args[0].campaignId), ['c42', 'sentinel'], 'nothing from the room once left')

  t.match(await move('join', 'team:1'), { status: 400, body: { code: 'RT_ERR_ROOM_UNDECLARED', field: 'room' } }, 'a kind the config does not declare')
})
