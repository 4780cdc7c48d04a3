// The event catalog of chat-messages follows the options, and names only codes of the error catalog.
import t from 'tap'
import { Value } from 'typebox/value'
import { errorCatalog } from 'realtime-server'
import plugin, { events, options } from '../../../plugins/chat-messages/index.js'

const catalogOf = (raw: object) => {
  const o = Value.Default(options, structuredClone(raw))
  Value.Assert(options, o)
  return events(o)
}

const channelEvents = ['channel:history', 'channel:join', 'channel:leave', 'message:read', 'message:send', 'reaction:add', 'reaction:remove']
const conversationEvents = ['conversation:join', 'conversation:leave']

t.test('client events are those of the enabled parts, on the configured namespace', async (t) => {
  t.ok(plugin.definition.name === 'chat-messages')
  t.same(Object.keys(catalogOf({}).client).sort(), [...channelEvents, ...conversationEvents].sort())
  t.same(Object.keys(catalogOf({ conversations: { enabled: false } }).client).sort(), channelEvents)
  const builder = catalogOf({ namespace: '/messages', channels: { enabled: false } })
  t.same(Object.keys(builder.client).sort(), conversationEvents)
  t.same(Object.keys(builder.server).sort(), ['conversation:joined', 'error', 'message:received', 'message:status'])
  for (const e of [...Object.values(builder.client), ...Object.values(builder.server)]) t.same(e.namespaces, ['/messages'])
})

t.test('every error code an event may answer is in the error catalog, and every event has an ack schema', async (t) => {
  const known = new Set(errorCatalog().map((e) => e.code))
  for (const [name, e] of Object.entries(catalogOf({}).client)) {
    t.ok(e.ack !== undefined, `${name} has an ack schema`)
    for (const code of e.errors ?? []) t.ok(known.has(code), `${name}: ${code} is a catalog code`)
  }
})
