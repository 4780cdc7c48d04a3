// The event catalog follows the options: one subscribe/unsubscribe pair per room kind, ping with the heartbeat,
// test-event with the configured languages when developmentMode is on, and the selected catalogs' server events.
import t from 'tap'
import { Value } from 'typebox/value'
import { crmTenantEvents, whatsappCrmEvents } from '../../../plugins/tenant-broadcast/catalogs/index.js'
import { events, RoomRef, TestEventDisabled } from '../../../plugins/tenant-broadcast/events.js'
import { options as schema, type TenantBroadcastOptions } from '../../../plugins/tenant-broadcast/schema.js'

const configure = (options: object): TenantBroadcastOptions => Value.Default(schema, structuredClone(options)) as TenantBroadcastOptions

t.test('the defaults: join-tenant, ping, a refused test-event; both catalogs and pong', async (t) => {
  const { client = {}, server = {} } = events(configure({}))
  t.same(Object.keys(client).sort(), ['join-tenant', 'ping', 'test-event'])
  t.equal((client['test-event'] as { payload: unknown }).payload, TestEventDisabled, 'without developmentMode test-event takes anything and refuses it')
  t.same((client['test-event'] as { errors: string[] }).errors, ['RT_BROADCAST_DEVELOPMENT_ONLY'])
  t.same(Object.keys(server).sort(), [...Object.keys(crmTenantEvents), ...Object.keys(whatsappCrmEvents), 'pong'].sort())
})

t.test('room kinds, languages, heartbeat, catalogs and custom events shape the catalog', async (t) => {
  const { client = {}, server = {} } = events(configure({
    rooms: [{ kind: 'campaign' }, { kind: 'contact' }],
    languages: ['fr'],
    developmentMode: true,
    heartbeat: false,
    catalogs: ['whatsapp-crm'],
    customEvents: { 'invoice:paid': { schema: { type: 'object' }, description: 'An invoice was paid.' } }
  }))
  t.same(Object.keys(client).sort(), ['join-tenant', 'subscribe:campaign', 'subscribe:contact', 'test-event', 'unsubscribe:campaign', 'unsubscribe:contact'])
  const subscribe = client['subscribe:campaign'] as { payload: unknown, ack: object }
  t.equal(subscribe.payload, RoomRef, 'the schema the handler validates with')
  t.ok(Value.Check(subscribe.ack as never, { ok: true, kind: 'campaign', id: 'c-1' }), 'the ack names its kind')
  t.notOk(Value.Check(subscribe.ack as never, { ok: true, kind: 'contact', id: 'c-1' }))
  const testEvent = (client['test-event'] as { payload: object }).payload
  t.ok(Value.Check(testEvent as never, { type: 'x', payload: {}, language: 'fr' }), 'test-event accepts the configured language')
  t.notOk(Value.Check(testEvent as never, { type: 'x', payload: {}, language: 'en' }), 'and only it')
  t.same(Object.keys(server).sort(), [...Object.keys(whatsappCrmEvents), 'invoice:paid'].sort(), 'no pong without the heartbeat')
  t.same(server['invoice:paid'], { payload: { description: 'An invoice was paid.', type: 'object' } })
})
