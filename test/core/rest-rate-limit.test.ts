import t from 'tap'
import { startServer, TEST_API_KEY } from 'realtime-server/testing'
t.test('smoke', async (t) => {
  const server = await startServer({ config: { plugins: { probe: { from: './test/fixtures/plugins/probe' } }, rateLimit: { ip: { max: 3 }, principal: { max: 4 } } } })
  t.teardown(() => server.close())
  for (let i = 0; i < 6; i++) {
    const res = await fetch(server.url + '/api/probe/publish', { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'bad-key-0123456789abcdef' }, body: '{}' })
    t.comment(res.status, JSON.stringify([...res.headers]), await res.text())
  }
  for (let i = 0; i < 6; i++) {
    const res = await fetch(server.url + '/api/probe/publish', { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY }, body: JSON.stringify({ tenantId: 'a', event: 'x', payload: 1 }) })
    t.comment(res.status, JSON.stringify([...res.headers]), await res.text())
  }
  t.pass()
})
