// Every connection's transport, Engine.IO socket and decoder are heard by functions shared by all connections
// (src/core/patches/shared-listeners.ts): the same events reach the same places, the listeners go when the connection
// goes, and a Socket.IO server the core did not make keeps the library's own per-connection functions.
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from 'socket.io'
import * as engineIo from 'engine.io'
import { io as ioClient, Manager } from 'socket.io-client'
import { eventually, startServer, waitFor, type TestServer } from 'realtime-server/testing'
import { kCore, type Core } from '../../src/core/core.js'
import { installSharedListeners } from '../../src/core/patches/shared-listeners.js'

const coreIo = (server: TestServer): Core['io'] => (server.app as unknown as Record<symbol, Core>)[kCore]!.io
const engineSockets = (io: Server): any[] => Object.values((io.engine as any).clients)
const EVENTS = ['error', 'ready', 'packet', 'drain', 'close']

t.test('installed on the versions in use, before any server of the core exists', async (t) => {
  // The first call in this process checks the library's sources against the shapes the patch was written for.
  const io = new Server(http.createServer())
  t.same(installSharedListeners(io), { transport: true, client: true, websocket: true }, 'engine.io\'s setTransport and websocket transport, socket.io\'s Client.setup/destroy are the expected ones')
  await io.close()
})

t.test('two connections share their listeners, and events, acknowledgements and server bursts arrive', async (t) => {
  const server = await startServer({ config: { plugins: { probe: { from: './test/fixtures/plugins/probe' } } } })
  t.teardown(() => server.close())
  const a = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const b = await server.connect('/', { token: server.token({ sub: 'u2', tenantId: 'acme' }) })
  const io = coreIo(server)
  const [c1, c2] = engineSockets(io)
  t.equal(engineSockets(io).length, 2)
  for (const event of EVENTS) {
    t.equal(c1.transport.listenerCount(event), 1, `one '${event}' listener on the transport`)
    t.equal(c1.transport.listeners(event)[0], c2.transport.listeners(event)[0], `the transports' '${event}' listener is one function`)
  }
  t.ok(c1.transport instanceof (engineIo.transports as any).websocket, 'the transport is Engine.IO\'s websocket transport')
  t.equal(c1.transport.name, 'websocket')
  for (const event of ['message', 'close', 'error']) {
    t.equal(c1.transport.socket.listenerCount(event), 1, `one '${event}' listener on ws's WebSocket`)
    t.equal(c1.transport.socket.rawListeners(event)[0], c2.transport.socket.rawListeners(event)[0], `the WebSockets' '${event}' listener is one function`)
  }
  t.equal(c1.rawListeners('close')[0], c2.rawListeners('close')[0], 'the Engine.IO server\'s own \'close\' listener is shared, and still first')
  t.equal(c1.rawListeners('close')[0].name, 'onConnForget')
  t.equal(c1.transport.listenerCount('headers'), 0, 'no \'headers\' listener on a websocket transport (only polling emits it)')
  const [s1, s2] = [...io.of('/').sockets.values()]
  for (const event of ['data', 'error', 'close']) {
    t.equal(c1.listeners(event).filter((l: unknown) => c2.listeners(event).includes(l)).length >= 1, true, `the Engine.IO sockets share the client's '${event}' listener`)
  }
  const d1 = (s1!.client as any).decoder
  const d2 = (s2!.client as any).decoder
  t.equal(d1._callbacks.$decoded[0], d2._callbacks.$decoded[0], 'the decoders share their listener')
  t.notOk(Object.hasOwn(s1!.client, 'ondata'), 'the client holds no bound copies of its methods')

  t.same(await server.emitWithAck(a, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: [] }, 'a client event is decoded and acknowledged')
  t.same(await server.emitWithAck(b, 'probe:whoami', {}), { userId: 'u2', tenantId: 'acme', roles: [] }, 'each connection answers for itself')

  // Many packets written in one turn: the first is sent, the rest wait for the transport's `drain` and `ready`.
  const got: number[] = []
  a.on('burst', (i: number) => got.push(i))
  for (let i = 0; i < 200; i++) s1!.emit('burst', i)
  await eventually('every packet of the burst arrived', () => got.length === 200)
  t.same(got, Array.from({ length: 200 }, (_, i) => i), 'in order')
})

t.test('a closed connection leaves no listener behind, whichever side closes it', async (t) => {
  const server = await startServer()
  t.teardown(() => server.close())
  const io = coreIo(server)

  // The client goes away: the transport's `close`.
  const a = await server.connect('/', { token: server.token({ sub: 'u1', tenantId: 'acme' }) })
  const [conn] = engineSockets(io)
  const [socket] = [...io.of('/').sockets.values()]
  const decoder = (socket!.client as any).decoder
  const transport = conn.transport
  const reason = new Promise<string>((resolve) => { socket!.once('disconnect', resolve) })
  ;(a.io.engine as any).close()
  t.equal(await reason, 'transport close', 'the server socket hears the transport close')
  for (const event of ['packet', 'drain', 'ready', 'close']) t.equal(transport.listenerCount(event), 0, `no '${event}' listener left on the transport`)
  t.equal(conn.listenerCount('data'), 0, 'no \'data\' listener left on the Engine.IO socket')
  t.notOk(conn.listeners('close').some((l: Function) => l.name === 'onConnClose'), 'nor the client\'s \'close\' listener')
  t.equal(decoder._callbacks?.$decoded?.length ?? 0, 0, 'none on the decoder')
  t.notOk(transport.socket.rawListeners('close').some((l: Function) => l.name === 'onWsClose'), 'the transport heard ws\'s \'close\' once')
  t.equal(io.engine.clientsCount, 0, 'the Engine.IO server forgot the connection')
  t.same(Object.keys((io.engine as any).clients), [])

  // The server closes it.
  const b = await server.connect('/', { token: server.token({ sub: 'u2', tenantId: 'acme' }) })
  const [conn2] = engineSockets(io)
  const gone = waitFor(b, 'disconnect')
  conn2.close()
  t.equal((await gone)[0], 'transport close', 'the client sees the connection close')
  t.equal(conn2.listenerCount('data'), 0, 'the client stopped listening')
})

t.test('a transport error and a parse error close the connection with their reasons', async (t) => {
  const server = await startServer({ config: { socketio: { maxHttpBufferSize: 1024 } } })
  t.teardown(() => server.close())
  const io = coreIo(server)
  const token = server.token({ sub: 'u1', tenantId: 'acme' })

  const a = await server.connect('/', { token })
  const [socket] = [...io.of('/').sockets.values()]
  const reason = new Promise<string>((resolve) => { socket!.once('disconnect', resolve) })
  a.emit('too-large', 'x'.repeat(4096))
  t.equal(await reason, 'transport error', 'a frame over the limit is the transport\'s error')

  const b = await server.connect('/', { token })
  const [socket2] = [...io.of('/').sockets.values()]
  const reason2 = new Promise<string>((resolve) => { socket2!.once('disconnect', resolve) })
  ;(b.io.engine as any).transport.ws.send('not an engine.io packet')
  t.equal(await reason2, 'parse error', 'an undecodable packet closes with a parse error')
})

t.test('a connection upgraded from polling moves its listeners to the new transport', async (t) => {
  const server = await startServer({ config: { plugins: { probe: { from: './test/fixtures/plugins/probe' } } } })
  t.teardown(() => server.close())
  const token = server.token({ sub: 'u1', tenantId: 'acme' })
  const io = coreIo(server)
  const initial: string[] = []
  io.engine.on('initial_headers', (_headers: unknown, req: { _query: { transport: string } }) => { initial.push(req._query.transport) })
  const manager = new Manager(server.url, { path: '/socket.io', reconnection: false, auth: { token } } as any)
  const socket = manager.socket('/', { auth: { token } })
  t.teardown(() => { socket.disconnect(); manager.engine?.close() })
  await waitFor(socket, 'connect')
  const [conn] = engineSockets(io)
  const polling = conn.transport
  t.equal(polling.name, 'polling')
  await eventually('the server side upgraded', () => conn.transport.name === 'websocket' && conn.upgrading === false)
  for (const event of ['packet', 'drain', 'ready', 'close']) {
    t.equal(polling.listeners(event).some((l: Function) => l.name.startsWith('onTransport')), false, `the polling transport's '${event}' listener is gone`)
    t.equal(conn.transport.listenerCount(event), 1, `the websocket transport has its '${event}' listener`)
  }
  t.same(await server.emitWithAck(socket as any, 'probe:whoami', {}), { userId: 'u1', tenantId: 'acme', roles: [] }, 'packets reach the socket over the new transport')
  t.same(initial, ['polling'], 'the polling handshake\'s headers went out through its transport\'s \'headers\' listener, once')
  const direct = await server.connect('/', { token })
  await eventually('a direct websocket handshake has its initial headers too', () => initial.length === 2)
  t.same(initial, ['polling', 'websocket'])
  direct.disconnect()
})

t.test('a connection that joins no namespace is closed after connectTimeout', async (t) => {
  const server = await startServer({ config: { socketio: { connectTimeout: 1000 } } })
  t.teardown(() => server.close())
  const manager = new Manager(server.url, { path: '/socket.io', reconnection: false, transports: ['websocket'], autoConnect: false } as any)
  t.teardown(() => manager.engine?.close())
  const closed = new Promise<string>((resolve) => {
    manager.open(() => { manager.engine.once('close', (reason: string) => { resolve(reason) }) })
  })
  t.equal(await closed, 'transport close', 'the server closed the idle connection')
  t.equal(engineSockets(coreIo(server)).length, 0, 'and forgot it')
})

t.test('a Socket.IO server the core did not make keeps its own per-connection listeners', async (t) => {
  // A core server in the same process has installed the patch.
  const core = await startServer()
  t.teardown(() => core.close())
  const httpServer = http.createServer()
  const io = new Server(httpServer)
  io.on('connection', (s) => { s.on('echo', (v: unknown, ack: (v: unknown) => void) => { ack(v) }) })
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await io.close() })
  const client = ioClient(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`, { transports: ['websocket'], reconnection: false, forceNew: true })
  t.teardown(() => client.disconnect())
  await waitFor(client as any, 'connect')
  const [conn] = engineSockets(io)
  const [socket] = [...io.of('/').sockets.values()]
  t.ok(Object.hasOwn(socket!.client, 'ondata'), 'its client binds its methods, as Socket.IO does')
  t.notOk(conn.transport.listeners('packet')[0].name.startsWith('onTransport'), 'its transport has Engine.IO\'s own listener')
  t.ok(conn.transport.socket.listeners('error').some((l: Function) => l.name === 'bound onError'), 'its WebSocket has Engine.IO\'s own listener')
  t.equal(conn.rawListeners('close')[0].listener?.name, '', 'its Engine.IO server\'s own \'close\' listener')
  t.equal(await client.timeout(5000).emitWithAck('echo', 42), 42, 'and it works')
})
