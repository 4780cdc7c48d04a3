// The websocket handshake's 101 answer and Engine.IO's open packet leave the server in one write
// (src/core/patches/corked-upgrade.ts), and every other answer of an upgrade is what it was: a refusal after the 101,
// a refusal before it, and the upgrade of a polling session.
import t from 'tap'
import net from 'node:net'
import { io as ioClient } from 'socket.io-client'
import { eventually, startServer, waitFor } from 'realtime-server/testing'
import { recordUpgradeWrites, upgradeRequest } from '../fixtures/raw-ws.js'

/** A raw upgrade request to the Socket.IO path; resolves with every byte the server sent, once it closed or `until` matched. */
async function upgrade (port: number, query: string, until?: RegExp): Promise<string> {
  return await new Promise((resolve, reject) => {
    let got = ''
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(upgradeRequest(query))
    })
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1')
      if (until?.test(got) === true) socket.destroy()
    })
    socket.on('close', () => { resolve(got) })
    socket.on('error', reject)
  })
}

t.test('the 101 answer and the open packet leave in one write, with the same bytes', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const writes = recordUpgradeWrites(server.app.server)
  const got = await upgrade(server.port, 'EIO=4&transport=websocket', /0\{"sid":"[^"]+".*\}/)
  t.match(got, /^HTTP\/1\.1 101 Switching Protocols\r\n/, 'the 101 answer comes first')
  const body = got.slice(got.indexOf('\r\n\r\n') + 4)
  t.equal(body.charCodeAt(0), 0x81, 'then one text frame')
  const open = JSON.parse(body.slice(2 + (body.charCodeAt(1) === 126 ? 2 : 0)).replace(/^0/, ''))
  t.type(open.sid, 'string', 'the open packet with its sid')
  t.same(open.upgrades, [], 'no further upgrade offered')
  t.type(open.pingInterval, 'number')
  const first = (writes[0] ?? []).join('')
  t.match(first, /^HTTP\/1\.1 101 /, 'the first write starts with the 101')
  t.match(first, /0\{"sid":"/, 'and carries the open packet')
})

t.test('a handshake refused after the 101 still gets its answer', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  // Engine.IO answers the 101 before it reads the protocol revision, then refuses EIO=3 and closes.
  const got = await upgrade(server.port, 'EIO=3&transport=websocket')
  t.match(got, /^HTTP\/1\.1 101 Switching Protocols\r\n[\s\S]*\r\n\r\nHTTP\/1\.1 400 Bad Request\r\n[\s\S]*Unsupported protocol version$/)
})

t.test('a refusal before the 101 is answered as before', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const got = await upgrade(server.port, 'EIO=4&transport=websocket&sid=unknown')
  t.match(got, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*Session ID unknown$/)
})

t.test('a polling session upgrades to websocket and keeps talking', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const token = server.token({ sub: 'u1', tenantId: 'acme' })
  const socket = ioClient(server.url, { path: '/socket.io', transports: ['polling', 'websocket'], reconnection: false, forceNew: true, auth: { token } })
  t.teardown(() => { socket.disconnect() })
  await waitFor(socket, 'connect')
  await eventually('the upgrade to websocket', () => socket.io.engine.transport.name === 'websocket')
  const answer = await socket.timeout(5000).emitWithAck('no-such-event', {}) as { error?: { code?: string } }
  t.equal(answer.error?.code, 'RT_ERR_UNKNOWN_EVENT', 'an event is answered over the upgraded transport')
})

t.test('many handshakes at once all connect', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const clients = Array.from({ length: 50 }, (_, i) => server.client('/', { token: server.token({ sub: `u${i}`, tenantId: 'acme' }) }))
  t.teardown(() => { for (const c of clients) c.disconnect() })
  await Promise.all(clients.map(async (c) => { await waitFor(c, 'connect') }))
  t.ok(clients.every((c) => c.connected), 'every client is connected')
})
