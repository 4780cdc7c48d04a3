import t, { type Test } from 'tap'
import net from 'node:net'
import { Writable } from 'node:stream'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { setImmediate as tick } from 'node:timers/promises'
import { Server } from 'socket.io'
import { kCore, type Core } from '../../src/core/core.js'
import { installFastBroadcast } from '../../src/core/patches/fast-broadcast.js'
import { slowConsumerStats } from '../../src/core/slow-consumers.js'
import { eventually, startServer, type ClientSocket, type TestServer } from 'realtime-server/testing'
import { clientFrame, serverFrames, upgradeRequest } from '../fixtures/raw-ws.js'

// Slow consumers (src/core/slow-consumers.ts): clients that stop reading are disconnected once more than
// socketio.maxBufferedBytes wait to be written to them, while the clients that read get every event, and the
// bytes the server holds for a paused client never exceed the bound plus one frame, measured here on the
// server's own Engine.IO connections (independently of the guard's running count).

const BOUND = 256 * 1024
const EVENTS = 10_000
const BATCH = 50
const PAYLOAD = { blob: 'x'.repeat(1000) }
const TENANT = 'slow-t'

/**
 * A websocket client on raw TCP that completes the Engine.IO and Socket.IO handshakes, joins a room, then can
 * stop reading (`pause()` on its net.Socket: the kernel buffers fill, then the server's).
 */
class PausedClient {
  readonly sock: net.Socket
  events = 0
  closeFrame = false
  ended = false
  readonly closed: Promise<void>
  /** Resolves on the Socket.IO CONNECT ack of `/`. */
  readonly connected: Promise<string>
  #pending = Buffer.alloc(0)
  #upgraded = false
  #waiters: Array<{ test: (text: string) => boolean, resolve: (text: string) => void }> = []

  constructor (port: number, token: string) {
    this.sock = net.connect(port, '127.0.0.1', () => {
      this.sock.write(upgradeRequest())
    })
    this.closed = new Promise((resolve) => { this.sock.once('close', () => { this.ended = true; resolve() }) })
    this.sock.on('data', (chunk: Buffer) => { this.#data(chunk) })
    this.sock.on('error', () => {})
    void this.next((p) => p.startsWith('0{')).then(() => { this.sock.write(clientFrame('40' + JSON.stringify({ token }))) })
    this.connected = this.next((p) => p.startsWith('40{'))
    this.next((p) => p === '2').then(() => { this.sock.write(clientFrame('3')) }, () => {})
  }

  /** The next Engine.IO packet (text frame) that passes `test`. */
  async next (test: (text: string) => boolean): Promise<string> {
    return await new Promise((resolve) => { this.#waiters.push({ test, resolve }) })
  }

  async joinRoom (room: string): Promise<void> {
    await this.connected
    const ack = this.next((p) => p.startsWith('430'))
    this.sock.write(clientFrame(`420${JSON.stringify(['probe:join', { room }])}`))
    await ack
  }

  #data (chunk: Buffer): void {
    let buf = Buffer.concat([this.#pending, chunk])
    if (!this.#upgraded) {
      const end = buf.indexOf('\r\n\r\n')
      if (end < 0) { this.#pending = buf; return }
      this.#upgraded = true
      buf = buf.subarray(end + 4)
    }
    const { frames, used } = serverFrames(buf)
    for (const { opcode, data } of frames) {
      if (opcode === 8) this.closeFrame = true
      if (opcode !== 1) continue
      const text = data.toString()
      if (text.startsWith('42')) this.events++
      const i = this.#waiters.findIndex((w) => w.test(text))
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(text)
    }
    this.#pending = buf.subarray(used)
  }
}

/** A polling client on raw HTTP: handshakes, connects to `/`, joins a room, then never polls again. */
async function pausedPolling (server: TestServer, token: string): Promise<string> {
  const base = `${server.url}/socket.io/?EIO=4&transport=polling`
  const open = await (await fetch(base)).text()
  const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid
  const url = `${base}&sid=${sid}`
  const post = async (body: string): Promise<void> => { await (await fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/plain' } })).text() }
  /** Polls until a packet passes `test` (packets are separated by \x1e). */
  const poll = async (test: (p: string) => boolean): Promise<void> => {
    for (;;) {
      const packets = (await (await fetch(url)).text()).split('\x1e')
      if (packets.some(test)) return
    }
  }
  await post('40' + JSON.stringify({ token }))
  await poll((p) => p.startsWith('40{'))
  await post(`420${JSON.stringify(['probe:join', { room: 'r' }])}`)
  await poll((p) => p.startsWith('430'))
  return sid
}

interface EngineConn {
  readyState: string
  writeBuffer: Array<{ data?: string | Buffer, options?: { wsPreEncodedFrame?: Buffer[] } }>
  transport: { name: string, socket?: { bufferedAmount: number } }
}

/** What the server holds for a connection, read from Engine.IO's own objects: its write buffer and the websocket's. */
function held (conn: EngineConn): number {
  let n = 0
  for (const p of conn.writeBuffer) {
    const pre = p.options?.wsPreEncodedFrame
    n += pre !== undefined ? pre.reduce((a, b) => a + b.length, 0) : p.data === undefined ? 1 : Buffer.byteLength(p.data) + 1
  }
  if (conn.transport.name === 'websocket') n += conn.transport.socket?.bufferedAmount ?? 0
  return n
}

async function scenario (t: Test, fastBroadcast: boolean): Promise<void> {
  const lines: string[] = []
  const logStream = new Writable({ write (chunk, _e, cb) { lines.push(chunk.toString()); cb() } })
  const server = await startServer({
    config: { socketio: { maxBufferedBytes: BOUND, fastBroadcast, pingInterval: 120000, pingTimeout: 120000 }, server: { logLevel: 'warn' }, plugins: { probe: { from: './test/fixtures/plugins/probe' } } },
    logStream
  })
  t.teardown(() => server.close())
  const core = (server.app as unknown as Record<symbol, Core>)[kCore]!
  const io = core.io
  const token = (sub: string): string => server.token({ sub, tenantId: TENANT })

  // Readers: two websocket clients and one polling client, all reading.
  const readers: Array<{ name: string, socket: ClientSocket, got: number }> = []
  for (const [name, transports] of [['ws-1', ['websocket']], ['ws-2', ['websocket']], ['polling', ['polling']]] as const) {
    const socket = await server.connect('/', { token: token(`reader-${name}`), transports: [...transports] })
    await server.emitWithAck(socket, 'probe:join', { room: 'r' })
    const r = { name, socket, got: 0 }
    socket.on('ev', () => { r.got++ })
    readers.push(r)
  }
  // Paused: three raw websocket clients and one polling client that never polls again.
  const paused = [0, 1, 2].map((i) => new PausedClient(server.port, token(`paused-${i}`)))
  t.teardown(() => { for (const c of paused) c.sock.destroy() })
  await Promise.all(paused.map(async (c) => { await c.joinRoom('r') }))
  for (const c of paused) c.sock.pause()
  const pollingSid = await pausedPolling(server, token('paused-polling'))

  // The Engine.IO connections of the paused clients, found by their users.
  const pausedConns = new Map<string, EngineConn>()
  for (const s of io.of('/').sockets.values()) {
    if (s.data.user.userId.startsWith('paused-')) pausedConns.set(s.data.user.userId, s.conn as unknown as EngineConn)
  }
  t.equal(pausedConns.size, 4, 'four paused clients connected')
  t.equal((io.engine as unknown as { clients: Record<string, EngineConn> }).clients[pollingSid], pausedConns.get('paused-polling'), 'the polling client is the raw one')

  let frame = 0
  let worst = 0
  let sent = 0
  while (sent < EVENTS) {
    for (let i = 0; i < BATCH && sent < EVENTS; i++) {
      void core.publisher.publish({ tenantId: TENANT, rooms: ['r'], event: 'ev', payload: PAYLOAD, meta: false })
      sent++
      for (const conn of pausedConns.values()) {
        if (conn.readyState !== 'open') continue
        const n = held(conn)
        worst = Math.max(worst, n)
        // One frame: the largest packet seen queued for a paused client.
        for (const p of conn.writeBuffer) {
          const pre = p.options?.wsPreEncodedFrame
          if (pre !== undefined) frame = Math.max(frame, pre.reduce((a, b) => a + b.length, 0))
        }
      }
    }
    const target = sent
    await eventually(`readers got ${target} events`, () => readers.every((r) => r.got === target), { intervalMs: 1 })
  }

  for (const r of readers) t.equal(r.got, EVENTS, `reader ${r.name} got every event`)
  for (const r of readers) t.ok(r.socket.connected, `reader ${r.name} is still connected`)
  await eventually('every paused client disconnected', () => [...pausedConns.values()].every((c) => c.readyState === 'closed'))
  t.ok(frame > 1000, `a frame is about ${frame} bytes`)
  t.ok(worst <= BOUND + frame, `the server never held more than the bound plus one frame for a paused client (${worst} <= ${BOUND} + ${frame})`)
  t.ok(worst > 0, 'the paused clients had bytes waiting')
  t.same(slowConsumerStats(io)?.disconnected, 4, 'four slow consumers counted')
  t.equal([...io.of('/').sockets.values()].filter((s) => s.data.user.userId.startsWith('paused-')).length, 0, 'no socket of a paused client is left')

  // The warn line names the reason, the socket, the user and the tenant.
  const slow = lines.map((l) => JSON.parse(l) as Record<string, any>).filter((l) => l.reason === 'slow')
  t.same(slow.map((l) => l.userId).sort(), ['paused-0', 'paused-1', 'paused-2', 'paused-polling'], 'one line per slow consumer, with its user')
  for (const l of slow) {
    t.equal(l.level, 40, 'at warn')
    t.equal(l.tenantId, TENANT)
    t.match(l.socketId, /.+/, 'with its socket id')
    t.equal(l.maxBufferedBytes, BOUND)
    t.ok(l.bufferedBytes > 0 && l.bufferedBytes <= BOUND, 'with the bytes that were waiting')
  }
  t.same(slow.map((l) => l.transport).sort(), ['polling', 'websocket', 'websocket', 'websocket'])

  // What a paused websocket client sees once it reads again: what the kernel had taken, then the end of the
  // connection without a close frame (socket.io-client reports `transport close`).
  for (const c of paused) c.sock.resume()
  await Promise.all(paused.map(async (c) => { await c.closed }))
  for (const c of paused) {
    t.ok(c.events < EVENTS, `a paused client got only part of the events (${c.events})`)
    t.notOk(c.closeFrame, 'and no close frame: the connection ended')
  }
  // The polling client's session is gone: its next poll is refused.
  const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${pollingSid}`)
  t.equal(res.status, 400, 'the polling session is unknown')
  await res.text()
}

t.test('slow consumers are disconnected, readers get every event, memory stays bounded (fast broadcast on)', async (t) => {
  await scenario(t, true)
})

t.test('the same on Socket.IO\'s own write path (fast broadcast off)', async (t) => {
  await scenario(t, false)
})

t.test('maxBufferedBytes: 4 MiB by default, 0 installs no bound', async (t) => {
  const defaults = await startServer({ config: { plugins: { probe: { from: './test/fixtures/plugins/probe' } } } })
  t.teardown(() => defaults.close())
  t.equal(defaults.config.socketio.maxBufferedBytes, 4 * 1024 * 1024)
  t.ok(slowConsumerStats((defaults.app as unknown as Record<symbol, Core>)[kCore]!.io), 'the bound is on by default')
  const off = await startServer({ config: { socketio: { maxBufferedBytes: 0 }, plugins: { probe: { from: './test/fixtures/plugins/probe' } } } })
  t.teardown(() => off.close())
  t.equal(slowConsumerStats((off.app as unknown as Record<symbol, Core>)[kCore]!.io), undefined, 'no bound')
})

t.test('the fast broadcast path checks the bound before its own write', async (t) => {
  // The fast path writes only to idle connections, whose net.Socket has normally written everything; here bytes
  // are piled on a paused client's net.Socket behind Engine.IO's back, so that the fast path meets them.
  const http = createServer()
  const io = new Server(http, { serveClient: false, pingInterval: 120000, pingTimeout: 120000 })
  const calls: Array<{ conn: object, waiting: number, next: number }> = []
  const { stats } = installFastBroadcast(io, { bound: { maxBufferedBytes: 4096, overflow: (conn, waiting, next) => { calls.push({ conn, waiting, next }) } } })
  io.on('connection', (socket) => { void socket.join('r') })
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  t.teardown(async () => { await new Promise((resolve) => { void io.close(resolve) }) })
  const client = new PausedClient((http.address() as net.AddressInfo).port, 'none')
  t.teardown(() => { client.sock.destroy() })
  await client.connected
  const socket = [...io.of('/').sockets.values()][0]!

  io.to('r').emit('ev', 'first')
  t.equal(stats.fast, 1, 'an idle connection is written by the fast path')
  t.same(calls, [], 'within the bound')
  await client.next((p) => p.startsWith('42'))
  await tick()

  client.sock.pause()
  const raw = (socket.conn as unknown as { transport: { socket: { _socket: net.Socket } } }).transport.socket._socket
  const noop = Buffer.concat([Buffer.from([0x81, 126, 0xea, 0x60]), Buffer.from('6'.padEnd(60000, ' '))]) // Engine.IO noop frames
  while (raw.writableLength === 0) raw.write(noop)
  const waiting = raw.writableLength
  io.to('r').emit('ev', 'second')
  t.equal(stats.fast, 1, 'not written')
  t.equal(calls.length, 1, 'the bound was told')
  t.equal(calls[0]?.conn, socket.conn, 'about this connection')
  t.equal(calls[0]?.waiting, waiting, 'with the bytes waiting on its net.Socket')
  t.ok((calls[0]?.next ?? 0) > 10, 'and the size of the frame')
})
