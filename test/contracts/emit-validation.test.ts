// Development-mode emit validation: an undeclared server event or a payload failing its catalog schema fails loudly (RT_ERR_CONTRACT, logged with plugin, event and field); off, nothing is checked.
import t from 'tap'
import { Writable } from 'node:stream'
import { definePlugin, Type } from 'realtime-server'
import { startServer, waitFor } from 'realtime-server/testing'

const Done = Type.Object({ n: Type.Integer() })
const Order = Type.Object({ event: Type.String(), payload: Type.Unknown() })

/** Emits (to the socket) or publishes (to the tenant) whatever the client asks, so the test can break the contract. */
const emitter = definePlugin({
  name: 'emitter',
  options: Type.Object({}),
  events: {
    client: { emit: { payload: Order }, publish: { payload: Order } },
    server: { 'thing:done': { payload: Done, description: 'Something was done.' } }
  },
  setup (app) {
    const ns = app.realtime.namespace('/')
    ns.handle('emit', Order, (ctx, { event, payload }) => { ctx.emit(event, payload) })
    ns.handle('publish', Order, async (ctx, { event, payload }) => { await ns.publish({ tenantId: ctx.user.tenantId, event, payload }) })
    app.realtime.trigger('/publish', { body: Order, tenant: true }, async (request) =>
      await ns.publish({ tenantId: request.tenantId, event: request.body.event, payload: request.body.payload }))
  }
})

t.test('outside production every emitted event is checked against the catalog', async (t) => {
  const lines: string[] = []
  const logStream = new Writable({ write (chunk, _e, cb) { lines.push(chunk.toString()); cb() } })
  const server = await startServer({ plugins: [{ plugin: emitter }], config: { server: { logLevel: 'error' } }, logStream })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })

  const good = waitFor(socket, 'thing:done')
  t.same(await server.emitWithAck(socket, 'emit', { event: 'thing:done', payload: { n: 1 } }), { ok: true })
  t.same((await good)[0], { n: 1 })

  const undeclared = await server.emitWithAck(socket, 'emit', { event: 'thing:undone', payload: { n: 1 } })
  t.equal(undeclared.error.code, 'RT_ERR_CONTRACT')
  t.match(undeclared.error.message, /ctx\.emit\) emitted "thing:undone" on \/, which no events catalog of that namespace declares/)

  const wrongField = await server.emitWithAck(socket, 'publish', { event: 'thing:done', payload: { n: 'one' } })
  t.equal(wrongField.error.code, 'RT_ERR_CONTRACT')
  t.match(wrongField.error.message, /plugin "emitter" emitted "thing:done" on \/ with a payload that fails the schema of emitter: n: must be integer/)

  const rest = await server.request('POST', '/api/emitter/publish', { apiKey: true, body: { tenantId: 'acme', event: 'thing:done', payload: {} } })
  t.equal(rest.status, 500)
  t.equal(rest.body.code, 'RT_ERR_CONTRACT')
  t.match(rest.body.message, /n: is required|n: must/)

  const logged = lines.map((l) => JSON.parse(l)).filter((l) => /contract broken/.test(l.msg))
  t.ok(logged.some((l) => l.plugin === 'plugin "emitter"' && l.event === 'thing:done' && l.field === 'n'), 'logged with plugin, event and field')
  t.ok(logged.some((l) => l.event === 'thing:undone'))
})

t.test('contracts.validateEmits: false checks nothing', async (t) => {
  const server = await startServer({ plugins: [{ plugin: emitter }], config: { contracts: { validateEmits: false } } })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const got = waitFor(socket, 'thing:undone')
  t.same(await server.emitWithAck(socket, 'emit', { event: 'thing:undone', payload: { n: 'x' } }), { ok: true })
  t.same((await got)[0], { n: 'x' })
})

t.test('the default is on outside production and off in production; the config key wins', async (t) => {
  const { validatesEmits } = await import('../../src/core/contracts/emit-validation.js')
  const config = (validateEmits?: boolean): any => ({ contracts: validateEmits === undefined ? {} : { validateEmits } })
  t.equal(validatesEmits(config(), false), true)
  t.equal(validatesEmits(config(), true), false)
  t.equal(validatesEmits(config(true), true), true)
  t.equal(validatesEmits(config(false), false), false)
})
