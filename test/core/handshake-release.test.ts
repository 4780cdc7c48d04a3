// The upgrade request is released after the Engine.IO handshake (src/core/patches/release-request.ts): what the
// product reads from the handshake must still be there, for the first namespace and for one joined later on the
// same connection (Socket.IO builds that one's handshake from what is left of the request).
import t from 'tap'
import { IncomingMessage } from 'node:http'
import { Manager, type Socket as ClientSocket } from 'socket.io-client'
import { definePlugin, Type } from 'realtime-server'
import { captureLogs, eventually, startServer, waitFor } from 'realtime-server/testing'
import { kCore, type Core } from '../../src/core/core.js'

const Anything = Type.Any()

/** What a handler can read of its socket's handshake, on `/` and on `/later`. */
const plugin = definePlugin({
  name: 'handshake-probe',
  options: Type.Object({}),
  events: { client: { 'handshake:read': Anything } },
  setup (app) {
    for (const name of ['/', '/later']) {
      app.realtime.namespace(name).handle('handshake:read', Anything, (ctx) => {
        const h = ctx.socket.handshake
        return {
          userId: ctx.user.userId,
          authorization: typeof h.headers.authorization === 'string' && h.headers.authorization.startsWith('Bearer '),
          custom: h.headers['x-custom'],
          address: h.address,
          url: h.url,
          query: { EIO: h.query.EIO, transport: h.query.transport, tag: h.query.tag },
          xdomain: h.xdomain,
          secure: h.secure
        }
      })
    }
  }
})

t.test('what the handshake gives is kept after the request is released', async (t) => {
  const logs = captureLogs()
  const server = await startServer({ config: { server: { logLevel: 'debug' } }, plugins: [{ plugin }], logStream: logs.stream })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'u1', tenantId: 'acme' })
  // Authenticated by the Authorization header only (no auth.token), through one connection for both namespaces.
  const manager = new Manager(server.url, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    extraHeaders: { authorization: `Bearer ${token}`, 'x-custom': 'kept' },
    query: { tag: 'q1' }
  })
  const sockets: ClientSocket[] = []
  t.teardown(() => { for (const s of sockets) s.disconnect(); manager.engine?.close() })
  const join = async (name: string): Promise<ClientSocket> => {
    const s = manager.socket(name)
    sockets.push(s)
    await waitFor(s, 'connect')
    return s
  }

  const first = await join('/')
  const read = async (s: ClientSocket): Promise<any> => await s.timeout(5000).emitWithAck('handshake:read', {})
  const expected = {
    userId: 'u1',
    authorization: true,
    custom: 'kept',
    query: { EIO: '4', transport: 'websocket', tag: 'q1' },
    xdomain: false,
    secure: false
  }
  const onFirst = await read(first)
  t.match(onFirst, expected, 'the first namespace reads headers, query and flags')
  t.match(onFirst.address, /127\.0\.0\.1$/, 'and the client address')
  t.match(onFirst.url, /^\/socket\.io\/\?/)

  // The request was released: the engine socket no longer holds the IncomingMessage.
  const io = (server.app as unknown as Record<symbol, Core>)[kCore]!.io
  const [conn] = Object.values((io.engine as any).clients) as any[]
  t.notOk(conn.request instanceof IncomingMessage, 'conn.request is no longer the IncomingMessage')
  t.equal(conn.request.headers['x-custom'], 'kept', 'its headers are kept')
  t.equal(conn.transport.socket.listeners('error').length, 1, 'the WebSocket keeps one error listener, the transport\'s')

  // A namespace joined after the release: authenticated by the header it builds its handshake from.
  const later = await join('/later')
  t.same(await read(later), onFirst, 'a namespace joined later reads the same handshake')

  await eventually('both connections are logged with the client address', () =>
    logs.find('socket connected').filter((l: any) => /127\.0\.0\.1$/.test(String(l.ip))).length === 2)
  t.same(logs.find('socket connected').map((l: any) => l.nsp).sort(), ['/', '/later'])
})

t.test('a connection that starts with polling still authenticates its namespaces by header', async (t) => {
  const server = await startServer({ plugins: [{ plugin }] })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'u2', tenantId: 'acme' })
  const manager = new Manager(server.url, { path: '/socket.io', reconnection: false, extraHeaders: { authorization: `Bearer ${token}` } })
  const a = manager.socket('/')
  t.teardown(() => { a.disconnect(); manager.engine?.close() })
  await waitFor(a, 'connect')
  const b = manager.socket('/later')
  t.teardown(() => { b.disconnect() })
  await waitFor(b, 'connect')
  const r = await b.timeout(5000).emitWithAck('handshake:read', {})
  t.match(r, { userId: 'u2', authorization: true })
})
