import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { deleteRedisPrefix, startServer, type TestServer } from 'realtime-server/testing'
import { connectUser, flush, pluginConfig, publish, samples, type User } from './support.test.js'

/**
 * Retries a probe from `from` until `user` received it on both transports: the Redis streams adapter only
 * sees messages added after a node's first read, so the first ones after start-up can be missed.
 */
async function linked (from: TestServer, user: User): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const message = `probe-${i}`
    await publish(from, { type: 'system:maintenance', data: { message }, namespace: 'system', userIds: [user.name] })
    const got = (e: { type: string, data: any }): boolean => e.type === 'system:maintenance' && e.data.message === message
    if (user.sio.entries.some(got) && user.ws!.inbox.entries.some(got)) return
    await sleep(100)
    if (user.sio.entries.some(got) && user.ws!.inbox.entries.some(got)) return
  }
  throw new Error(`${user.name} never received a probe`)
}

t.test('two nodes on Redis: every event reaches its users on the other node, filtered the same way', async (t) => {
  const prefix = `test-commerce-${randomUUID().slice(0, 8)}`
  const a = await startServer({ config: pluginConfig(), redis: prefix })
  const b = await startServer({ config: pluginConfig(), redis: prefix })
  t.teardown(async () => {
    await Promise.all([a.close(), b.close()])
    await deleteRedisPrefix(prefix)
  })

  // Socket.IO and WebSocket on different nodes for some users, so every path crosses the cluster.
  const admin = await connectUser(a, { sub: 'admin-1', role: 'admin' }, { wsServer: b })
  const staff = await connectUser(b, { sub: 'staff-1', role: 'staff' })
  const c1 = await connectUser(b, { sub: 'CUST-1', role: 'customer' }, { wsServer: a })
  const c2 = await connectUser(b, { sub: 'CUST-2', role: 'customer' })
  const stranger = await connectUser(b, { sub: 'admin-9', role: 'admin', tenantId: 'other-shop' })
  await linked(a, staff)
  await linked(b, admin)
  await linked(a, c1)
  await linked(b, c1)
  const users = [admin, staff, c1, c2]
  const mark = users.map((u) => [u.sio.entries.length, u.ws!.inbox.entries.length] as const)

  const one = samples('CUST-1')
  const two = samples('CUST-2')
  await publish(a, { type: 'order:status_changed', data: one['order:status_changed'] })
  await publish(a, { type: 'payment:failed', data: one['payment:failed'] })
  await publish(a, { type: 'payment:received', data: two['payment:received'] })
  await publish(a, { type: 'customer:activity', data: one['customer:activity'] })
  await publish(a, { type: 'product:price_changed', data: one['product:price_changed'], roles: ['customer'], excludeUserIds: ['CUST-2'] })
  await publish(a, { type: 'inventory:updated', data: one['inventory:updated'], userIds: ['staff-1', 'CUST-1'] })
  await flush(a, users)
  await publish(b, { type: 'order:created', data: one['order:created'] })
  await flush(b, users)
  await flush(b, [stranger], 'other-shop')

  const expected: Record<string, string[]> = {
    'admin-1': ['customer:activity', 'order:created', 'order:status_changed', 'payment:failed', 'payment:received'],
    'staff-1': ['customer:activity', 'inventory:updated', 'order:created', 'order:status_changed'],
    'CUST-1': ['order:status_changed', 'payment:failed', 'product:price_changed'],
    'CUST-2': ['payment:received']
  }
  users.forEach((u, i) => {
    const sio = u.sio.entries.slice(mark[i]![0]).filter((e) => !e.type.startsWith('system:'))
    const ws = u.ws!.inbox.entries.slice(mark[i]![1]).filter((e) => !e.type.startsWith('system:'))
    t.same(sio.map((e) => e.type).sort(), expected[u.name], `${u.name} on Socket.IO`)
    t.same(ws.map((e) => e.type).sort(), expected[u.name], `${u.name} on WebSocket`)
    const sorted = (list: typeof sio): string[] => list.map((e) => JSON.stringify(e.envelope)).sort()
    t.strictSame(sorted(ws), sorted(sio), `${u.name}: identical envelopes on both transports and nodes`)
  })
  t.same(stranger.sio.events, [], 'the other tenant saw nothing on Socket.IO')
  t.same(stranger.ws!.inbox.events, [], 'nor on WebSocket')
})
