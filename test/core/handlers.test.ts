import t from 'tap'
import { Writable } from 'node:stream'
import { startServer, waitFor } from 'realtime-server/testing'

t.test('validated handlers, failures answered, the process keeps running', async (t) => {
  const lines: string[] = []
  const logStream = new Writable({ write (chunk, _e, cb) { lines.push(chunk.toString()); cb() } })
  const server = await startServer({ config: { plugins: { probe: { from: './test/fixtures/plugins/probe' } }, server: { logLevel: 'info' } }, logStream })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'u1', tenantId: 'acme' })
  const socket = await server.connect('/', { token })

  t.test('invalid payloads get an ack naming the field', async (t) => {
    const cases: Array<[unknown, string, string]> = [
      [{}, 'name', 'Invalid payload: name: is required'],
      [{ name: 5 }, 'name', 'Invalid payload: name: must be string'],
      [{ name: '' }, 'name', 'Invalid payload: name: must not have fewer than 1 characters'],
      [{ name: 'a', level: 'mid' }, 'level', 'Invalid payload: level: must be one of: low, high'],
      [{ name: 'a', nested: { id: 1.5 } }, 'nested.id', 'Invalid payload: nested.id: must be integer'],
      [{ name: 'a', extra: true }, 'extra', 'Invalid payload: extra: is not an allowed property'],
      ['just a string', 'payload', 'Invalid payload: payload: must be object'],
      [null, 'payload', 'Invalid payload: payload: must be object']
    ]
    for (const [payload, field, message] of cases) {
      t.same(await server.emitWithAck(socket, 'probe:strict', payload), { error: { code: 'RT_ERR_VALIDATION', message, field } }, JSON.stringify(payload))
    }
    t.same(await server.emitWithAck(socket, 'probe:strict', { name: 'a', level: 'low' }), { accepted: true })
  })

  t.test('without an ack callback the error arrives as an `error` event', async (t) => {
    const error = waitFor(socket, 'error')
    socket.emit('probe:strict', { name: 7 })
    const [body] = await error
    t.match(body, { code: 'RT_ERR_VALIDATION', message: 'Invalid payload: name: must be string', field: 'name', event: 'probe:strict' })
    t.match(body.timestamp, /^\d{4}-/)
  })

  t.test('a throwing handler is masked for the client and logged for the operator', async (t) => {
    for (const event of ['probe:throw', 'probe:async-throw']) {
      const res = await server.emitWithAck(socket, event, {})
      t.same(res, { error: { code: 'RT_ERR_INTERNAL', message: 'Internal server error' } }, 'no message or stack leaks')
    }
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'handler of "probe:throw" failed')
    t.equal(logged.length, 1)
    t.match(logged[0].err.message, 'secret internal detail')
    t.equal(logged[0].plugin, 'probe')
    const noAck = waitFor(socket, 'error')
    socket.emit('probe:throw', {})
    t.same((await noAck)[0].code, 'RT_ERR_INTERNAL')
  })

  t.test('catalog errors thrown by a plugin reach the client as they are', async (t) => {
    t.same(await server.emitWithAck(socket, 'probe:teapot', {}), { error: { code: 'RT_PROBE_TEAPOT', message: 'I am a teapot: no coffee' } })
  })

  t.test('after all that, the server still serves', async (t) => {
    t.equal(socket.connected, true)
    const fresh = await server.connect('/', { token })
    t.same(await server.emitWithAck(fresh, 'probe:join', { room: 'r1' }), { rooms: ['r1'] })
    t.equal((await server.request('GET', '/health')).status, 200)
  })

  t.test('unknown events are ignored, as Socket.IO does', async (t) => {
    socket.emit('no:such:event', { a: 1 })
    t.same(await server.emitWithAck(socket, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: [] })
  })
})
