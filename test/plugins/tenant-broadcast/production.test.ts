// developmentMode (test-event from any socket) and NODE_ENV=production do not go together: the server refuses to start, naming the key.
import t from 'tap'
import { spawnServer } from 'realtime-server/testing'

t.test('developmentMode with NODE_ENV=production stops start-up naming the key; without it the server starts', async (t) => {
  const refused = spawnServer({ plugins: { 'tenant-broadcast': { options: { developmentMode: true } } } }, { env: { NODE_ENV: 'production' } })
  await t.rejects(refused, /RT_BROADCAST_OPTIONS|plugins\.tenant-broadcast\.options\.developmentMode: must be false when NODE_ENV=production/)

  const ok = await spawnServer({ plugins: { 'tenant-broadcast': { options: { developmentMode: false } } } }, { env: { NODE_ENV: 'production' } })
  t.teardown(async () => { await ok.stop() })
  t.equal((await fetch(`${ok.url}/ready`)).status, 200, 'production without developmentMode starts')
})
