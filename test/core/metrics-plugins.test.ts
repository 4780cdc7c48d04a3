// realtime.metrics: the built-in plugins' families move with their traffic, and the API refuses names that would clash.
import t from 'tap'
import { definePlugin, Type } from 'realtime-server'
import { eventually, startServer } from 'realtime-server/testing'
import { METRICS_TOKEN, samplesOf, valueOf } from '../fixtures/metrics-scrape.js'

const TOKEN = METRICS_TOKEN
const at = '2025-01-01T10:00:00.000Z'

t.test('presence, chat-messages and sessions count what they do', async (t) => {
  const server = await startServer({
    config: { metrics: { token: TOKEN }, plugins: { presence: {}, 'chat-messages': {}, sessions: {} } }
  })
  t.teardown(async () => { await server.close() })
  const before = await samplesOf(server)
  t.equal(valueOf(before, 'rt_plugin_presence_online_users', { list: '/' }), 0)
  t.equal(valueOf(before, 'rt_plugin_sessions_active_sessions'), 0)

  // presence: one user with two tabs is one user online.
  const token = server.token({ sub: 'alice', tenantId: 'acme' })
  const tab1 = await server.connect('/', { token })
  await server.connect('/', { token })
  await server.connect('/', { token: server.token({ sub: 'bob', tenantId: 'acme' }) })
  await eventually('two users online', async () => valueOf(await samplesOf(server), 'rt_plugin_presence_online_users', { list: '/' }) === 2 || undefined)
  t.pass('rt_plugin_presence_online_users counts users, not sockets')

  // chat-messages: a send is stored (timed), its retry with the same tempId is a duplicate.
  t.notOk('error' in await server.emitWithAck(tab1, 'channel:join', { channelId: 'room' }), 'joined')
  const sent = await server.emitWithAck(tab1, 'message:send', { content: 'hello', channelId: 'room', tempId: 'tmp-1' })
  t.notOk('error' in sent, 'the message is stored')
  t.match(await server.emitWithAck(tab1, 'message:send', { content: 'hello', channelId: 'room', tempId: 'tmp-1' }), { duplicate: true })
  const chat = await samplesOf(server)
  t.equal(valueOf(chat, 'rt_plugin_chat_messages_store_seconds_count'), 1)
  t.equal(valueOf(chat, 'rt_plugin_chat_messages_duplicates_total'), 1)
  t.equal(valueOf(chat, 'rt_plugin_chat_messages_in_flight_refusals_total'), 0)

  // sessions: active while running, not once completed.
  const post = async (body: object): Promise<number> =>
    (await server.request('POST', '/api/sessions/status-changed', { apiKey: true, body: { tenantId: 'acme', ...body } })).status
  t.equal(await post({ sessionId: 's1', newStatus: 'running', updatedAt: at }), 200)
  t.equal(await post({ sessionId: 's2', newStatus: 'running', updatedAt: at }), 200)
  t.equal(valueOf(await samplesOf(server), 'rt_plugin_sessions_active_sessions'), 2)
  t.equal(await post({ sessionId: 's1', newStatus: 'completed', updatedAt: at }), 200)
  const sessions = await samplesOf(server)
  t.equal(valueOf(sessions, 'rt_plugin_sessions_active_sessions'), 1)
  t.equal(valueOf(sessions, 'rt_plugin_sessions_events_applied_total', { status: 'running' }), 2)
  t.equal(valueOf(sessions, 'rt_plugin_sessions_events_applied_total', { status: 'completed' }), 1)
})

t.test('the API names metrics after the plugin and refuses what would clash or explode', async (t) => {
  const declared: Record<string, unknown> = {}
  const plugin = definePlugin({
    name: 'my-plugin',
    options: Type.Object({}),
    setup (app) {
      const m = app.realtime.metrics
      const hits = m.counter('hits_total', { help: 'Hits.' })
      hits.inc()
      hits.inc(2)
      m.counter('by_kind_total', { help: 'By kind.', labels: ['kind'] }).child('a').inc()
      m.gauge('level', { help: 'Level.' }).set(7)
      m.histogram('wait_seconds', { help: 'Wait.' }).observe(0.01)
      for (const [what, fn] of Object.entries({
        noTotal: () => m.counter('hits', { help: 'x' }),
        badName: () => m.gauge('Bad-Name', { help: 'x' }),
        twice: () => m.gauge('level', { help: 'x' }),
        labelledInc: () => { m.counter('labelled_total', { help: 'x', labels: ['k'] }).inc() }
      })) {
        try { fn(); declared[what] = 'accepted' } catch (err) { declared[what] = (err as { code: string }).code }
      }
    }
  })
  const server = await startServer({ config: { metrics: { token: TOKEN } }, plugins: [{ plugin }] })
  t.teardown(async () => { await server.close() })
  t.same(declared, { noTotal: 'RT_ERR_PLUGIN_INVALID', badName: 'RT_ERR_PLUGIN_INVALID', twice: 'RT_ERR_PLUGIN_INVALID', labelledInc: 'RT_ERR_PLUGIN_INVALID' })
  const samples = await samplesOf(server)
  t.equal(valueOf(samples, 'rt_plugin_my_plugin_hits_total'), 3)
  t.equal(valueOf(samples, 'rt_plugin_my_plugin_by_kind_total', { kind: 'a' }), 1)
  t.equal(valueOf(samples, 'rt_plugin_my_plugin_level'), 7)
  t.equal(valueOf(samples, 'rt_plugin_my_plugin_wait_seconds_count'), 1)
})
