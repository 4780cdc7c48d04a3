// A minimal server for bench/profile/broadcast-cost.js: N clients in one room, one broadcast per IPC
// message, nothing else (no HTTP trigger, no JWT), so that the per-recipient broadcast path is all
// that is measured. Variants (--impl):
//   sio       bare Socket.IO 4 (defaults), io.to(room).emit(type, payload, meta)
//   sio-jwt   bare Socket.IO with the connect-rate baseline's JWT check (fast-jwt HS256) and rooms (tenant, user, role)
//   sio-fast  the same with the product's fast broadcast path installed (dist/src/core/patches/fast-broadcast.js:
//             run `npm run build` first)
//   ws-frame  raw `ws`, one pre-encoded frame Buffer written to every net.Socket (the limit)
//   product   the product itself (in-process, through the public API of dist/), publishing with a plugin's publish();
//             --fast=0 turns socketio.fastBroadcast off, --bound=<bytes> sets socketio.maxBufferedBytes (0: no bound),
//             --metrics=0 sets metrics.enabled false, --metrics=np metrics.processMetrics false, --plugin=<name> loads a
//             built-in plugin too (tenant-broadcast: the benches' endpoint)
// IPC: { cmd: 'broadcast', seq } -> one broadcast; { cmd: 'stats' } -> process.cpuUsage(); { cmd: 'exit' }.
// pingInterval is 10 minutes so that no heartbeat falls in a measurement window (valgrind is slow).
import { randomUUID } from 'node:crypto'
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from '../lib/cli.js'
import { textFrame } from '../lib/frame.js'

const args = parseArgs(process.argv.slice(2), { impl: 'sio', port: 0, fast: '1', rooms: '3', bound: '', metrics: '1', plugin: '' })
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const ROOM = 't:bench'
const PING = { pingInterval: 600000, pingTimeout: 600000 }
const payloadOf = (seq) => ({
  t: seq,
  seq,
  type: 'order.updated',
  data: { orderId: 'ord_8f3a2b1c9d7e', status: 'shipped', amount: 12999, currency: 'EUR', carrier: 'DHL', updatedAt: '2024-05-01T12:34:56.789Z', by: 'user_42' }
})

let broadcast
let server
let close = async () => {}
let count = () => 0
let sid = 0

if (args.impl === 'sio' || args.impl === 'sio-fast' || args.impl === 'sio-jwt') {
  const { Server } = await import('socket.io')
  server = http.createServer()
  const io = new Server(server, { serveClient: false, ...PING })
  if (args.impl === 'sio-jwt') {
    // The connect-rate baseline's check (bench/servers/baseline.js): fast-jwt HS256, identity on socket.data, rooms from it.
    const { createVerifier } = await import('fast-jwt')
    const { JWT_SECRET } = await import('../lib/credentials.js')
    const verify = createVerifier({ key: JWT_SECRET, algorithms: ['HS256'] })
    io.of('/').use((socket, next) => {
      try {
        const c = verify(socket.handshake.auth?.token)
        if (typeof c.sub !== 'string' || typeof c.tenantId !== 'string') throw new Error('missing claims')
        socket.data.user = { userId: c.sub, tenantId: c.tenantId, roles: typeof c.role === 'string' ? [c.role] : [] }
        next()
      } catch {
        next(new Error('unauthorized'))
      }
    })
  }
  if (args.impl === 'sio-fast') {
    const { installFastBroadcast } = await import(path.join(repo, 'dist', 'src', 'core', 'patches', 'fast-broadcast.js'))
    installFastBroadcast(io)
  }
  const nsp = io.of('/')
  nsp.on('connection', (socket) => {
    const i = sid++
    const u = socket.data.user
    const rooms = u !== undefined
      ? [`t:${u.tenantId}`, `t:${u.tenantId}:u:${u.userId}`, ...u.roles.map((r) => `t:${u.tenantId}:r:${r}`)]
      : [ROOM, `${ROOM}:u:${i}`, `${ROOM}:r:viewer`].slice(0, Number(args.rooms))
    socket.join(rooms)
  })
  broadcast = (seq) => { nsp.to(ROOM).emit('order.updated', payloadOf(seq), { eventId: randomUUID(), timestamp: Date.now() }) }
  count = () => nsp.sockets.size
} else if (args.impl === 'ws-frame') {
  const { WebSocketServer } = await import('ws')
  server = http.createServer()
  const wss = new WebSocketServer({ server })
  const set = new Set()
  wss.on('connection', (ws) => {
    set.add(ws)
    ws.on('close', () => set.delete(ws))
    ws.on('error', () => {})
  })
  broadcast = (seq) => {
    const meta = { eventId: randomUUID(), timestamp: Date.now() }
    const frame = textFrame(`42[${JSON.stringify('order.updated')},${JSON.stringify(payloadOf(seq))},${JSON.stringify(meta)}]`)
    for (const ws of set) ws._socket.write(frame)
  }
  count = () => set.size
} else if (args.impl === 'product') {
  // The product in-process through its public API (dist/: `npm run build` first): a plugin's
  // `namespace('/').publish()`, without count, so that no REST trigger is measured.
  const { definePlugin, Type } = await import('realtime-server')
  const { startServer } = await import('realtime-server/testing')
  const { JWT_SECRET, TENANT } = await import('../lib/credentials.js')
  let ns
  let connected = 0
  const plugin = definePlugin({
    name: 'profile',
    options: Type.Object({}),
    setup (app) {
      ns = app.realtime.namespace('/')
      ns.onConnection(() => { connected++ }).onDisconnect(() => { connected-- })
    }
  })
  const product = await startServer({
    config: {
      server: { logLevel: 'warn' },
      metrics: { enabled: String(args.metrics) !== '0', processMetrics: String(args.metrics) !== 'np' },
      // As in production (the plugin here declares no catalog; the check is development-mode only).
      contracts: { validateEmits: false },
      auth: { jwt: { secret: JWT_SECRET } },
      socketio: { ...PING, fastBroadcast: String(args.fast) !== '0', ...(String(args.bound) === '' ? {} : { maxBufferedBytes: Number(args.bound) }) },
      // --plugin=tenant-broadcast: a built-in plugin loaded as well (its handlers and hooks on '/'), as the benches run it.
      ...(args.plugin === '' ? {} : { plugins: { [args.plugin]: {} } })
    },
    plugins: [{ plugin }]
  })
  server = product.app.server
  broadcast = (seq) => { void ns.publish({ tenantId: TENANT, event: 'order.updated', payload: payloadOf(seq) }) }
  count = () => connected
  close = async () => { await product.close() }
} else {
  throw new Error(`unknown --impl=${args.impl}`)
}

if (!server.listening) await new Promise((resolve) => server.listen(Number(args.port), '127.0.0.1', resolve))
process.on('message', (m) => {
  if (m.cmd === 'broadcast') broadcast(m.seq)
  else if (m.cmd === 'stats') process.send({ cmd: 'stats', cpu: process.cpuUsage(), sockets: count() })
  else if (m.cmd === 'exit') void close().finally(() => process.exit(0))
})
process.on('disconnect', () => process.exit(0))
process.send({ cmd: 'ready', port: server.address().port })
