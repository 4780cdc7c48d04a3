// Client events nothing handles: answered with RT_ERR_UNKNOWN_EVENT when the client awaits an ack, never left hanging.
import t from 'tap'
import { Writable } from 'node:stream'
import { record, startServer, waitFor } from 'realtime-server/testing'

t.test('an unhandled event with an ack is answered naming the event and its handled family', async (t) => {
  const lines: string[] = []
  const logStream = new Writable({ write (chunk, _e, cb) { lines.push(chunk.toString()); cb() } })
  const server = await startServer({ config: { plugins: { probe: { from: './test/fixtures/plugins/probe' } }, server: { logLevel: 'info', logRepeatMs: 0 } }, logStream })
  t.teardown(() => server.close())
  const socket = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const errors = record(socket, 'error')

  const typo = await server.emitWithAck(socket, 'probe:whoamI', {})
  t.same(typo.error.code, 'RT_ERR_UNKNOWN_EVENT')
  t.equal(typo.error.field, 'event')
  t.match(typo.error.message, /^Unknown event "probe:whoamI" on namespace \/ \(handled: probe:async-throw, .*probe:join, .*probe:whoami\)$/)

  const stranger = await server.emitWithAck(socket, 'dance', 1, 2)
  t.same(stranger, { error: { code: 'RT_ERR_UNKNOWN_EVENT', message: 'Unknown event "dance" on namespace /', field: 'event' } })
  const huge = await server.emitWithAck(socket, 'x'.repeat(100_000))
  t.equal(huge.error.code, 'RT_ERR_UNKNOWN_EVENT')
  t.ok(huge.error.message.length < 300, `a huge event name is not echoed whole (${huge.error.message.length} chars)`)
  const family = await server.emitWithAck(socket, 'orders:list')
  t.same(family.error.message, 'Unknown event "orders:list" on namespace / (no orders:* event is handled here)')

  // Without an ack: a typo within a handled family gets an `error` event; anything else is only logged.
  const error = waitFor(socket, 'error')
  socket.emit('dance')
  socket.emit('probe:whoamI', {})
  t.match((await error)[0], { code: 'RT_ERR_UNKNOWN_EVENT', event: 'probe:whoamI', field: 'event' })
  t.same(await server.emitWithAck(socket, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: [] }, 'handled events are untouched')
  t.same(errors.map((e) => e.args[0].event), ['probe:whoamI'], 'the unrelated event got no error event')
  t.ok(lines.some((l) => l.includes('"event":"dance"') && l.includes('"code":"RT_ERR_UNKNOWN_EVENT"') && l.includes('nothing handles')), 'it was logged at info with its code')
  t.ok(socket.connected, 'the socket stays connected')
})
