// The event catalog follows the options: one subscribe/unsubscribe pair per room kind, ping with the heartbeat,
// test-event with the configured languages when developmentMode is on, and the selected catalogs' server events;
// and it tells the truth about acks and payloads. (That every handled event is declared, the core checks at start-up.)
import t from 'tap'
import { clientEvent, compile, serverEvent, type TSchema } from 'realtime-server'
import { startServer, waitFor } from 'realtime-server/testing'
import { Value } from 'typebox/value'
import { crmTenantEvents, whatsappCrmEvents } from '../../../plugins/tenant-broadcast/catalogs/index.js'
import { events, RoomRef, TestEventDisabled } from '../../../plugins/tenant-broadcast/events.js'
import { options as schema, type TenantBroadcastOptions } from '../../../plugins/tenant-broadcast/schema.js'

const configure = (options: object): TenantBroadcastOptions => Value.Default(schema, structuredClone(options)) as TenantBroadcastOptions

t.test('the defaults: join-tenant, ping, a refused test-event; both catalogs and pong', async (t) => {
  const { client = {}, server = {} } = events(configure({}))
  t.same(Object.keys(client).sort(), ['join-tenant', 'ping', 'test-event'])
  t.equal(clientEvent(client['test-event']!).payload, TestEventDisabled, 'without developmentMode test-event takes anything and refuses it')
  t.same(clientEvent(client['test-event']!).errors, ['RT_BROADCAST_DEVELOPMENT_ONLY'])
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
  const subscribe = clientEvent(client['subscribe:campaign']!)
  t.equal(subscribe.payload, RoomRef, 'the schema the handler validates with')
  t.ok(Value.Check(subscribe.ack!, { ok: true, kind: 'campaign', id: 'c-1' }), 'the ack names its kind')
  t.notOk(Value.Check(subscribe.ack!, { ok: true, kind: 'contact', id: 'c-1' }))
  const testEvent = clientEvent(client['test-event']!).payload
  t.ok(Value.Check(testEvent, { type: 'x', payload: {}, language: 'fr' }), 'test-event accepts the configured language')
  t.notOk(Value.Check(testEvent, { type: 'x', payload: {}, language: 'en' }), 'and only it')
  t.same(Object.keys(server).sort(), [...Object.keys(whatsappCrmEvents), 'invoice:paid'].sort(), 'no pong without the heartbeat')
  t.same(server['invoice:paid'], { payload: { description: 'An invoice was paid.', type: 'object' } })
})

t.test('what a client really gets matches the catalog of its server: acks, pong, a published event', async (t) => {
  const options = { rooms: [{ kind: 'campaign' }], developmentMode: true, catalogs: ['whatsapp-crm'] }
  const server = await startServer({ config: { plugins: { 'tenant-broadcast': { options } } } })
  t.teardown(() => server.close())
  const { client = {}, server: emitted = {} } = events(configure(options))
  const ack = (event: string): TSchema => clientEvent(client[event]!).ack!
  const payload = (event: string): TSchema => serverEvent(emitted[event]!).payload
  const problem = (schema: TSchema, value: unknown): string | undefined => {
    const p = compile(schema).problems(value)[0]
    return p === undefined ? undefined : `${p.field}: ${p.message}`
  }
  const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })

  t.equal(problem(ack('join-tenant'), await server.emitWithAck(socket, 'join-tenant', { tenantId: 'acme' })), undefined, 'join-tenant')
  t.equal(problem(ack('subscribe:campaign'), await server.emitWithAck(socket, 'subscribe:campaign', 'c-1')), undefined, 'subscribe:campaign')
  t.not(problem(ack('subscribe:campaign'), { ok: true, kind: 'contact', id: 'c-1' }), undefined, 'the check can fail: another kind')
  const pong = waitFor(socket, 'pong')
  t.equal(problem(ack('ping'), await server.emitWithAck(socket, 'ping')), undefined, 'ping')
  t.equal(problem(payload('pong'), (await pong)[0]), undefined, 'pong')
  const arrived = waitFor(socket, 'campaign:paused')
  const published = await server.emitWithAck(socket, 'test-event', { type: 'campaign:paused', payload: { campaignId: 'c-1', timestamp: '2025-11-05T10:00:00Z' } })
  t.equal(published.recipients, 1)
  t.equal(problem(ack('test-event'), published), undefined, 'test-event')
  t.equal(problem(payload('campaign:paused'), (await arrived)[0]), undefined, 'the published event')
  t.equal(problem(ack('unsubscribe:campaign'), await server.emitWithAck(socket, 'unsubscribe:campaign', { id: 'c-1' })), undefined, 'unsubscribe:campaign')
})
