// The event catalog of presence follows the options: queries on the lists' namespaces, typing in the configured formats.
import t from 'tap'
import { Value } from 'typebox/value'
import { errorCatalog } from 'realtime-server'
import { events, options } from '../../../plugins/presence/index.js'
import { TypingAnyFormat, TypingContact, TypingConversation } from '../../../plugins/presence/events.js'

const catalogOf = (raw: object) => {
  const o = Value.Default(options, structuredClone(raw))
  Value.Assert(options, o)
  return events(o)
}

t.test('the defaults: user lists and conversation typing on /', async (t) => {
  const c = catalogOf({})
  t.same(Object.keys(c.client).sort(), ['presence:list', 'presence:status', 'typing:start', 'typing:stop'])
  t.equal(c.client['typing:start']!.payload, TypingConversation)
  t.same(Object.keys(c.server).sort(), ['typing:start', 'typing:stop', 'user:offline', 'user:online'])
  const known = new Set(errorCatalog().map((e) => e.code))
  for (const [name, e] of Object.entries(c.client)) for (const code of e.errors ?? []) t.ok(known.has(code), `${name}: ${code} is a catalog code`)
})

t.test('lists and typing entries of their own', async (t) => {
  const c = catalogOf({
    online: [{ namespace: '/admin', track: ['/shop'], format: 'customer', events: { online: 'customer:online', offline: 'customer:offline' } }],
    typing: [{ namespace: '/crm', format: 'contact' }]
  })
  t.same(c.client['presence:list']!.namespaces, ['/admin'])
  t.same(c.client['typing:start']!.namespaces, ['/crm'])
  t.equal(c.client['typing:start']!.payload, TypingContact)
  t.same(Object.keys(c.server).sort(), ['customer:offline', 'customer:online', 'typing:indicator'])
  t.same(c.server['typing:indicator']!.namespaces, ['/crm'])

  const none = catalogOf({ online: [], typing: [] })
  t.same(none, { client: {}, server: {} }, 'nothing configured, nothing in the catalog')

  const mixed = catalogOf({ typing: [{ namespace: '/', format: 'conversation' }, { namespace: '/crm', format: 'contact' }] })
  t.equal(mixed.client['typing:stop']!.payload, TypingAnyFormat, 'both formats: either payload')
  t.same(mixed.client['typing:stop']!.namespaces, ['/', '/crm'])
})
