// Two nodes sharing Redis: either node's inspector shows both nodes' sockets, disconnects a user on the other, and tails its events.
import t from 'tap'
import { eventually, startServer, waitFor } from 'realtime-server/testing'
import { ADMIN_KEY, adminRequest, inspectorConfig, openTail, ping } from '../fixtures/inspector/helpers.js'

t.test('the inspector of one node sees and acts on the whole cluster', async (t) => {
  const one = await startServer({ redis: true, config: inspectorConfig() })
  t.teardown(() => one.close())
  const two = await startServer({ redis: one.keyPrefix, config: inspectorConfig() })
  t.teardown(() => two.close())
  const ann = await one.connect('/', { token: one.token({ sub: 'ann', tenantId: 'acme' }) })
  const bob = await two.connect('/', { token: two.token({ sub: 'bob', tenantId: 'acme' }) })

  const overview = await eventually('both nodes answer', async () => {
    const { body } = await adminRequest(one, 'GET', '/inspector/api/overview')
    return body.nodes.length === 2 ? body : undefined
  })
  t.equal(overview.partial, false)
  t.same(overview.namespaces.find((n: any) => n.name === '/').tenants, { acme: 2 }, 'connections of both nodes')

  const { body } = await adminRequest(one, 'GET', '/inspector/api/sockets?tenantId=acme')
  t.same(body.sockets.map((s: any) => [s.userId, s.id]), [['ann', ann.id], ['bob', bob.id]], 'sockets of both nodes')
  t.not(body.sockets[0].node, body.sockets[1].node, 'each with its node')

  const tail = await openTail(one)
  await tail.ready
  await eventually('node two forwards its publishes', async () => {
    const { body } = await adminRequest(two, 'GET', '/inspector/api/overview')
    return body.nodes.find((n: any) => n.nodeId === body.thisNode).tail.hooked === true
  })
  await ping(two, 'acme', { from: 'two' })
  await eventually('the event published on node two in node one\'s tail', () => tail.records.length === 1)
  t.match(tail.records[0], { tenantId: 'acme', event: 'probe:ping', node: body.sockets[1].node })
  tail.close()

  const gone = waitFor(bob as any, 'disconnect')
  t.same((await adminRequest(one, 'POST', '/inspector/api/disconnect', ADMIN_KEY, { tenantId: 'acme', userId: 'bob' })).body, { disconnected: 1 })
  t.equal((await gone)[0], 'io server disconnect', 'the user on the other node is disconnected')
  t.ok(ann.connected)
  const gone2 = waitFor(ann as any, 'disconnect')
  t.same((await adminRequest(two, 'POST', '/inspector/api/disconnect', ADMIN_KEY, { socketId: ann.id })).body, { disconnected: 1 })
  await gone2
  await eventually('node two stops forwarding once nobody watches', async () => {
    const { body } = await adminRequest(two, 'GET', '/inspector/api/overview')
    return body.nodes.find((n: any) => n.nodeId === body.thisNode).tail.hooked === false
  })
})
