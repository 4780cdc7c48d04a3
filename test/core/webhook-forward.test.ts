// Client events a plugin marks `forward: true` reach the webhook endpoints once handled, and only then.
import t from 'tap'
import { defineError, definePlugin, Type } from 'realtime-server'
import { eventually, startServer } from 'realtime-server/testing'
import { receiver, SECRET, verify } from '../fixtures/webhook-receiver.js'

const Note = Type.Object({ orderId: Type.String({ minLength: 1, maxLength: 64 }), text: Type.String({ maxLength: 200 }) })
const Refused = defineError('RT_ORDERS_REFUSED', 'Refused: %s', 409, 'Do not send "refuse".')
const orders = definePlugin({
  name: 'orders',
  options: Type.Object({}),
  events: { client: { 'order:note': { payload: Note, forward: true, errors: ['RT_ORDERS_REFUSED'] }, 'order:ping': Note } },
  setup (app) {
    app.realtime.namespace('/orders')
      .handle('order:note', Note, (_ctx, note) => {
        if (note.text === 'refuse') throw new Refused(note.orderId)
        return { noted: note.orderId }
      })
      .handle('order:ping', Note, () => undefined)
  }
})

t.test('a forwardable event is queued once handled; failed, invalid and unmarked events are not', async (t) => {
  const hook = await receiver(t)
  const server = await startServer({
    config: { webhooks: { endpoints: [{ name: 'backend', url: hook.url, secret: SECRET, events: ['client.order:note', 'client.order:ping'] }], concurrency: 1 } },
    plugins: [{ plugin: orders }]
  })
  t.teardown(async () => { await server.close() })
  const socket = await server.connect('/orders', { token: server.token({ sub: 'alice', tenantId: 'acme' }) })

  t.same(await server.emitWithAck(socket, 'order:note', { orderId: 'o1', text: 'refuse' }), { error: { code: 'RT_ORDERS_REFUSED', message: 'Refused: o1' } })
  t.match(await server.emitWithAck(socket, 'order:note', { orderId: '', text: 'x' }), { error: { code: 'RT_ERR_VALIDATION' } })
  t.same(await server.emitWithAck(socket, 'order:ping', { orderId: 'o1', text: 'ping' }), { ok: true })
  t.same(await server.emitWithAck(socket, 'order:note', { orderId: 'o1', text: 'call me' }), { noted: 'o1' }, 'the handler\'s ack')

  await eventually('forwarded', () => hook.got.length >= 1 ? true : undefined)
  // The last event sent was the forwardable one: with one attempt at a time in queue order, nothing else came first.
  t.equal(hook.got.length, 1, 'only the handled, marked event')
  t.ok(verify(hook.got[0]!))
  t.match(JSON.parse(hook.got[0]!.body), {
    type: 'client.order:note',
    tenantId: 'acme',
    data: { plugin: 'orders', namespace: '/orders', event: 'order:note', userId: 'alice', socketId: socket.id, payload: { orderId: 'o1', text: 'call me' } }
  })
})
