import t from 'tap'
import { startServer, waitFor } from 'realtime-server/testing'

const boot = async (options: Record<string, unknown>) => await startServer({ config: { plugins: { presence: { options } } } })

t.test('defaults: the WhatsApp builder gateway protocol on `/` — user:online/offline and conversation typing', async (t) => {
  const server = await boot({})
  t.teardown(() => server.close())
  const bob = await server.connect('/', { token: server.token({ sub: 'bob', tenantId: 'acme' }) })
  const online = waitFor(bob, 'user:online')
  const alice = await server.connect('/', { token: server.token({ sub: 'alice', tenantId: 'acme' }) })
  t.same((await online)[0], { userId: 'alice' })
  t.match(await server.emitWithAck(alice, 'typing:start', { conversationId: 'c1' }), { error: { code: 'RT_PRESENCE_NOT_IN_ROOM', message: 'Not in room conversation:c1' } })
  t.match(await server.emitWithAck(alice, 'presence:list'), { count: 2 })
})

t.test('bad options stop the server with the reason', async (t) => {
  await t.rejects(boot({ online: [{ namespace: '/a' }, { namespace: '/a' }] }), { code: 'RT_PRESENCE_CONFIG', message: /two online lists on namespace \/a/ })
  await t.rejects(boot({ typing: [{ namespace: '/a' }, { namespace: '/a', format: 'contact' }] }), { code: 'RT_PRESENCE_CONFIG', message: /two typing entries on namespace \/a/ })
  await t.rejects(boot({ typing: [{ format: 'conversation', room: 'contact:{contactId}' }] }), { code: 'RT_PRESENCE_CONFIG', message: /names \{contactId\}, but conversation payloads have \{conversationId\}/ })
  await t.rejects(boot({ nodeTimeoutMs: 10 }), { code: 'RT_ERR_CONFIG', message: /plugins\.presence\.options\.nodeTimeoutMs/ })
  await t.rejects(boot({ online: [{ format: 'guest' }] }), { code: 'RT_ERR_CONFIG', message: /plugins\.presence\.options\.online\.0\.format: must be one of: user, customer/ })
})
