import t from 'tap'
import { record, startServer, waitFor } from 'realtime-server/testing'

const plugin = (options: object): object => ({ plugins: { 'tenant-broadcast': { options } } })

t.test('custom events with a JSON Schema extend the server without code', async (t) => {
  const server = await startServer({
    config: plugin({
      catalogs: [],
      customEvents: {
        'invoice:paid': {
          description: 'An invoice was paid.',
          schema: {
            type: 'object',
            required: ['invoiceId', 'amount', 'currency'],
            properties: { invoiceId: { type: 'string', minLength: 1 }, amount: { type: 'number', exclusiveMinimum: 0 }, currency: { enum: ['EUR', 'USD'] } }
          }
        }
      }
    })
  })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const payload = { invoiceId: 'inv-1', amount: 12.5, currency: 'EUR' }
  const arrived = waitFor(socket, 'invoice:paid')
  const ok = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'invoice:paid', payload, tenantId: 'acme' } })
  t.same([ok.status, ok.body.recipients], [200, 1])
  t.same((await arrived)[0], payload)

  const bad = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'invoice:paid', payload: { ...payload, amount: 0 }, tenantId: 'acme' } })
  t.same([bad.status, bad.body.field], [400, 'payload.amount'])
  const currency = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'invoice:paid', payload: { ...payload, currency: 'GBP' }, tenantId: 'acme' } })
  t.same([currency.status, currency.body.message], [400, 'Invalid payload: payload.currency: must be one of: EUR, USD'])
  const catalog = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'contact_deleted', payload: { contactId: 'c', tenantId: 'acme' }, tenantId: 'acme' } })
  t.equal(catalog.status, 400, 'no catalog selected')

  const list = await server.request('GET', '/api/tenant-broadcast/events', { apiKey: true })
  t.same(Object.keys(list.body.events), ['invoice:paid'])
  t.equal(list.body.events['invoice:paid'].catalog, 'custom')
  t.equal(list.body.events['invoice:paid'].schema.description, 'An invoice was paid.')
})

t.test('bad options stop the server with the reason', async (t) => {
  const refuses = async (options: object, message: RegExp, name: string): Promise<void> => {
    await t.rejects(startServer({ config: plugin(options) }), { message }, name)
  }
  await refuses({ customEvents: { contact_deleted: { schema: { type: 'object' } } } }, /customEvents\.contact_deleted: "contact_deleted" is already an event of the catalog crm-tenant-events/, 'a custom event may not replace a catalog event')
  await refuses({ customEvents: { disconnect: { schema: {} } } }, /customEvents\.disconnect: "disconnect" is a reserved event name/, 'reserved names')
  await refuses({ customEvents: { 'bad name!': { schema: {} } } }, /customEvents\.bad name!: an event name has 1 to 100 letters/, 'event names are checked')
  await refuses({ customEvents: { 'x:y': { schema: { type: 'object', properties: { a: { type: 'string', pattern: '[' } } } } } }, /customEvents\.x:y\.schema: not a usable JSON Schema \(Invalid regular expression/, 'a schema that does not compile')
  await refuses({ rooms: [{ kind: 'campaign' }, { kind: 'campaign', access: { mode: 'tenant' } }] }, /rooms: the kind "campaign" is declared twice/, 'a kind declared twice')
  await refuses({ rooms: [{ kind: 'Campaign Rooms' }] }, /plugins\.tenant-broadcast\.options\.rooms\.0\.kind/, 'kind names are checked')
  await refuses({ rooms: [{ kind: 'c', access: { mode: 'claim' } }] }, /plugins\.tenant-broadcast\.options\.rooms\.0\.access/, 'access policies are checked')
  await refuses({ catalogs: ['seed-999'] }, /plugins\.tenant-broadcast\.options\.catalogs\.0/, 'unknown catalogs')
  await refuses({ custom: true }, /plugins\.tenant-broadcast\.options\.custom: is not an allowed property/, 'unknown options')
})

t.test('another namespace; the payload tenant check can be turned off', async (t) => {
  const server = await startServer({ config: plugin({ namespace: '/crm', checkPayloadTenant: false }) })
  t.teardown(() => server.close())
  const crm = await server.connect('/crm', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const main = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const mainSaw = record(main)
  const payload = { contactId: 'c', tenantId: 'legacy-id' }
  const arrived = waitFor(crm, 'contact_deleted')
  const res = await server.request('POST', '/api/tenant-broadcast/events', { apiKey: true, body: { type: 'contact_deleted', payload, tenantId: 'acme' } })
  t.same([res.status, res.body.recipients], [200, 1], 'a payload labelled with another tenant id is accepted when the check is off')
  t.same((await arrived)[0], payload)
  t.same(await server.emitWithAck(crm, 'join-tenant', { tenantId: 'acme' }), { ok: true, tenantId: 'acme' }, 'the handlers live on /crm')
  t.same(mainSaw, [], 'nothing was published on /')
})
