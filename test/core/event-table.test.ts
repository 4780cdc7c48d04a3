// Client events found in one table per namespace (patches/event-table.ts): what a plugin's own socket listeners and middlewares see is unchanged.
import t from 'tap'
import { definePlugin, Type } from 'realtime-server'
import { record, startServer, waitFor } from 'realtime-server/testing'

t.test('a namespace table runs the handlers as per-socket listeners did, around what plugins add to the socket', async (t) => {
  const seen: Array<[string, unknown]> = []
  const counts: Array<Record<string, number>> = []
  const plugin = definePlugin({
    name: 'order',
    options: Type.Object({}),
    events: { client: { 'order:echo': Type.Any() } },
    setup (app) {
      const ns = app.realtime.namespace('/')
      ns.handle('order:echo', Type.Any(), (_ctx, data) => {
        seen.push(['handler', data])
        return { got: data }
      })
      ns.onConnection((ctx) => {
        const s = ctx.socket
        // A plugin's own middleware, own listener of a handled event, own event and `error` listener.
        s.use(([event, data], next) => { if (event === 'order:echo' && data === 'blocked') next(new Error('blocked')); else next() })
        s.on('order:echo', (data: unknown) => { seen.push(['own', data]) })
        s.on('order:own', (data: unknown, ack: (v: unknown) => void) => { seen.push(['own-event', data]); ack('own-ok') })
        s.on('error', (err: Error) => { seen.push(['error', err.message]) })
        counts.push({ echo: s.listenerCount('order:echo'), refresh: s.listenerCount('auth:refresh'), any: s.listenersAny().length })
      })
    }
  })
  const server = await startServer({ plugins: [{ plugin }] })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const errors = record(socket, 'error')

  t.same(await server.emitWithAck(socket, 'order:echo', 1), { got: 1 }, 'the handler answers in the ack')
  t.same(seen, [['handler', 1], ['own', 1]], 'the handler runs first, then the plugin\'s own listener of the event, with the same payload')

  seen.length = 0
  socket.emit('order:echo', 'blocked')
  t.same(await server.emitWithAck(socket, 'order:own', 2), 'own-ok', 'an event only a plugin\'s own listener handles is its own, not unknown')
  t.same(seen, [['error', 'blocked'], ['own-event', 2]], 'a middleware\'s refusal stops the handler (the socket\'s `error` listener gets it), in order')

  const unknown = await server.emitWithAck(socket, 'order:nothing')
  t.equal(unknown.error.code, 'RT_ERR_UNKNOWN_EVENT', 'an event nothing handles is answered as before')
  t.same(errors, [], 'no error event reached the client')
  t.same(counts, [{ echo: 1, refresh: 0, any: 0 }], 'the socket holds no listener of its own for the handled events, and no catch-all')
})

t.test('a handler does not run for an event whose socket disconnected before its turn', async (t) => {
  let calls = 0
  const plugin = definePlugin({
    name: 'late',
    options: Type.Object({}),
    events: { client: { 'late:count': Type.Any() } },
    setup (app) {
      const ns = app.realtime.namespace('/')
      ns.handle('late:count', Type.Any(), () => { calls++ })
      // Disconnects the socket while its event waits for the next tick.
      ns.onConnection((ctx) => {
        ctx.socket.use(([event], next) => {
          if (event === 'late:count') ctx.socket.disconnect(true)
          next()
        })
      })
    }
  })
  const server = await startServer({ plugins: [{ plugin }] })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const gone = waitFor(socket, 'disconnect')
  socket.emit('late:count', {})
  t.equal((await gone)[0], 'io server disconnect')
  t.equal(calls, 0, 'the handler of an event received before the disconnect did not run after it')
})
