// The control routes on two nodes sharing Redis: a user's sockets on both are listed, moved and disconnected from either node; a node that does not answer makes the answer partial.
import t from 'tap'
import { join } from 'node:path'
import { io } from 'socket.io-client'
import { eventually, freePort, killRedisServer, record, signToken, spawnServer, startRedisServer, startServer, waitFor, type ClientSocket } from 'realtime-server/testing'
import { ACME_KEY, controlOptions, disconnection, nodeOf } from '../fixtures/control/desk.js'

t.test('two nodes: list, join, leave and disconnect a user whose sockets are on both', async (t) => {
  const one = await startServer({ ...controlOptions(), redis: true })
  t.teardown(() => one.close())
  const two = await startServer({ ...controlOptions(), redis: one.keyPrefix })
  t.teardown(() => two.close())
  const ann = { token: one.token({ sub: 'ann', tenantId: 'acme' }) }
  const annOne = await one.connect('/', ann)
  const annTwo = await two.connect('/', ann)
  const annTwoOps = await two.connect('/ops', ann)
  const bob = await one.connect('/', { token: one.token({ sub: 'bob', tenantId: 'acme' }) })

  const listed = await eventually('both nodes answer with ann\'s sockets', async () => {
    const { body } = await one.request('GET', '/api/control/sockets?userId=ann', { apiKey: ACME_KEY })
    return body.sockets?.length === 3 ? body : undefined
  })
  t.equal(listed.partial, false)
  t.same(listed.sockets.map((s: any) => [s.namespace, s.id, s.node]).sort(), [
    ['/', annOne.id, nodeOf(one)],
    ['/', annTwo.id, nodeOf(two)],
    ['/ops', annTwoOps.id, nodeOf(two)]
  ].sort(), 'each socket with the node it is connected to')
  t.not(nodeOf(one), nodeOf(two))

  // Moved from node two, published from node one: the room is joined on both nodes.
  const joined = await two.request('POST', '/api/control/users/join', { apiKey: ACME_KEY, body: { userId: 'ann', room: 'campaign:9' } })
  t.same(joined.body, { namespace: '/', room: 'campaign:9', template: 'campaign:{campaignId}', plugin: 'desk', sockets: 2, partial: false })
  const annOneSaw = record(annOne, 'campaign:update')
  const annTwoSaw = record(annTwo, 'campaign:update')
  const bobSaw = record(bob, 'campaign:update')
  const published = await one.request('POST', '/api/desk/publish', { apiKey: ACME_KEY, body: { rooms: ['campaign:9'], event: 'campaign:update', payload: { n: 1 } } })
  t.equal(published.body.recipients, 2, 'both of ann\'s sockets are in the room')
  await eventually('the event reaches ann on both nodes', () => annOneSaw.length === 1 && annTwoSaw.length === 1)

  const left = await one.request('POST', '/api/control/users/leave', { apiKey: ACME_KEY, body: { userId: 'ann', room: 'campaign:9' } })
  t.equal(left.body.sockets, 2)
  // Published from node two, then a sentinel to ann from node two: once ann has it on both nodes, the room's event would have arrived.
  const sentinels = [waitFor(annOne, 'sentinel'), waitFor(annTwo, 'sentinel')]
  await two.request('POST', '/api/desk/publish', { apiKey: ACME_KEY, body: { rooms: ['campaign:9'], event: 'campaign:update', payload: { n: 2 } } })
  await two.request('POST', '/api/desk/publish', { apiKey: ACME_KEY, body: { users: ['ann'], event: 'sentinel', payload: {} } })
  await Promise.all(sentinels)
  t.equal(annOneSaw.length + annTwoSaw.length, 2, 'after leaving, no node delivers the room\'s event to ann')
  t.same(bobSaw, [])

  // One socket, on the other node, by id.
  const twoOps = disconnection(annTwoOps)
  const bySocket = await one.request('POST', '/api/control/sockets/disconnect', { apiKey: ACME_KEY, body: { socketId: annTwoOps.id, reason: 'moved desks' } })
  t.same(bySocket.body, { disconnected: 1, namespace: '/ops', node: nodeOf(two) })
  await twoOps.done
  t.same(twoOps.seen, [['rt:disconnect', { reason: 'moved desks' }], ['disconnect', 'io server disconnect']])

  // The whole user, from node two: the socket on node one gets the reason first too.
  const first = disconnection(annOne)
  const second = disconnection(annTwo)
  const res = await two.request('POST', '/api/control/users/disconnect', { apiKey: ACME_KEY, body: { userId: 'ann', reason: 'password changed' } })
  t.same(res.body, { disconnected: 2, partial: false })
  await Promise.all([first.done, second.done])
  for (const { seen } of [first, second]) t.same(seen, [['rt:disconnect', { reason: 'password changed' }], ['disconnect', 'io server disconnect']], 'reason, then disconnection, on each node')
  t.ok(bob.connected, 'another user of the tenant stays')
  t.same((await one.request('GET', '/api/control/sockets?userId=ann', { apiKey: ACME_KEY })).body.sockets, [], 'nothing left on either node')
})

t.test('a node that does not answer in time makes the answer partial', async (t) => {
  const one = await startServer({ ...controlOptions({ publish: { countTimeoutMs: 300 } }), redis: true })
  t.teardown(() => one.close())
  // The third node is a process of its own, so that it can be paused (SIGSTOP): it stays a member of the cluster, silent.
  const other = await spawnServer({ plugins: { probe: { from: join(process.cwd(), 'test/fixtures/plugins/probe') } }, shutdown: { drainDelayMs: 0 } }, { redisPrefix: one.keyPrefix! })
  const sockets: ClientSocket[] = []
  t.teardown(async () => {
    for (const s of sockets) s.disconnect()
    other.child.kill('SIGCONT')
    await other.stop()
  })
  const annOne = await one.connect('/', { token: one.token({ sub: 'ann', tenantId: 'acme' }) })
  const annOther = io(other.url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: signToken({ sub: 'ann', tenantId: 'acme' }) } })
  sockets.push(annOther)
  await waitFor(annOther, 'connect')
  await eventually('the other node answers', async () => {
    const { body } = await one.request('GET', '/api/control/sockets?userId=ann', { apiKey: ACME_KEY })
    return body.sockets?.length === 2 && body.partial === false
  })

  other.child.kill('SIGSTOP')
  const { body } = await one.request('GET', '/api/control/sockets?userId=ann', { apiKey: ACME_KEY })
  t.equal(body.partial, true, 'the paused node did not answer')
  t.same(body.sockets.map((s: any) => s.id), [annOne.id], 'this node\'s sockets are still listed')
  const moved = await one.request('POST', '/api/control/users/join', { apiKey: ACME_KEY, body: { userId: 'ann', room: 'campaign:1' } })
  t.match(moved.body, { sockets: 1, partial: true })
  const gone = disconnection(annOne)
  const res = await one.request('POST', '/api/control/users/disconnect', { apiKey: ACME_KEY, body: { userId: 'ann', reason: 'bye' } })
  t.same(res.body, { disconnected: 1, partial: true })
  await gone.done
  t.same(gone.seen[0], ['rt:disconnect', { reason: 'bye' }])
  const missing = await one.request('POST', '/api/control/sockets/disconnect', { apiKey: ACME_KEY, body: { socketId: annOther.id } })
  t.equal(missing.status, 404)
  t.match(missing.body.message, /some node did not answer in time/)
})

t.test('while Redis is unreachable, commands are refused with RT_ERR_NOT_READY; they work again once it is back', async (t) => {
  const port = await freePort()
  let redis = await startRedisServer(port)
  const server = await startServer({ ...controlOptions({ redis: { url: `redis://127.0.0.1:${port}`, keyPrefix: 'control-outage' } }) })
  t.teardown(async () => {
    await server.close()
    await killRedisServer(redis)
  })
  const ann = await server.connect('/', { token: server.token({ sub: 'ann', tenantId: 'acme' }) })
  await killRedisServer(redis)
  const refused = await eventually('a command is refused', async () => {
    const res = await server.request('POST', '/api/control/users/disconnect', { apiKey: ACME_KEY, body: { userId: 'ann', reason: 'x' } })
    return res.status === 503 ? res : undefined
  })
  t.equal(refused.body.code, 'RT_ERR_NOT_READY')
  t.equal((await server.request('POST', '/api/control/users/join', { apiKey: ACME_KEY, body: { userId: 'ann', room: 'campaign:1' } })).body.code, 'RT_ERR_NOT_READY')
  t.ok(ann.connected, 'nothing was done: the other nodes would not have been told')

  redis = await startRedisServer(port)
  const gone = disconnection(ann)
  const res = await eventually('commands work again', async () => {
    const r = await server.request('POST', '/api/control/users/disconnect', { apiKey: ACME_KEY, body: { userId: 'ann', reason: 'back' } })
    return r.status === 200 ? r : undefined
  }, { timeoutMs: 30_000 })
  t.equal(res.body.disconnected, 1)
  await gone.done
  t.same(gone.seen[0], ['rt:disconnect', { reason: 'back' }])
})
