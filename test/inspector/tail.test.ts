// The live tail: nothing hooked into publishing while nobody watches; filters by tenant, namespace and event; tenant-bound keys.
import t from 'tap'
import { eventually } from 'realtime-server/testing'
import { ACME_KEY, adminRequest, coreOf, inspectorServer, openTail, ping } from '../fixtures/inspector/helpers.js'

const hooks = (server: Parameters<typeof coreOf>[0]): number[] => [...coreOf(server).registry.entries()].map((e: any) => e.onPublish.length)

t.test('publishing is hooked only while a tail is open', async (t) => {
  const server = await inspectorServer()
  t.teardown(() => server.close())
  const idle = hooks(server)
  const tail = await openTail(server)
  await tail.ready
  t.same(hooks(server), idle.map((n) => n + 1), 'one hook per namespace while watched')
  tail.close()
  await eventually('the hook is taken off', () => JSON.stringify(hooks(server)) === JSON.stringify(idle))
  t.same(hooks(server), idle, 'none once the last watcher left')
  const overview = await adminRequest(server, 'GET', '/inspector/api/overview')
  t.same(overview.body.nodes[0].tail, { watchers: 0, hooked: false })
})

t.test('the tail shows published events, filtered by tenant and event', async (t) => {
  const server = await inspectorServer()
  t.teardown(() => server.close())
  const all = await openTail(server)
  const acme = await openTail(server, 'tenantId=acme&event=probe:ping&namespace=/')
  await Promise.all([all.ready, acme.ready])
  await ping(server, 'globex', { n: 1 })
  await ping(server, 'acme', { n: 2 })
  await eventually('both events in the unfiltered tail', () => all.records.length === 2)
  await eventually('the acme event in the filtered tail', () => acme.records.length === 1)
  t.match(all.records.map((r) => r.tenantId), ['globex', 'acme'])
  t.match(acme.records[0], { tenantId: 'acme', event: 'probe:ping', namespace: '/', plugin: 'tenant-broadcast', node: coreOf(server).nodeId })
  t.same(JSON.parse(acme.records[0].payload), { n: 2 })
  all.close()
  acme.close()
})

t.test('a tenant-bound key tails its own tenant only, and may not ask for another', async (t) => {
  const server = await inspectorServer()
  t.teardown(() => server.close())
  t.match(await adminRequest(server, 'GET', '/inspector/api/tail?tenantId=globex', ACME_KEY), { status: 403, body: { code: 'RT_ERR_FORBIDDEN' } })
  const tail = await openTail(server, '', ACME_KEY)
  await tail.ready
  await ping(server, 'globex', { sentinel: false })
  await ping(server, 'acme', { n: 1 })
  await eventually('the acme event', () => tail.records.length > 0)
  t.same(tail.records.map((r) => r.tenantId), ['acme'], 'the globex event, published first, never came')
  tail.close()
})
