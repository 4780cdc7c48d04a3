// The two baselines the product is measured against, doing the same job as the product's publish path:
// Fastify serves POST <path> { type, payload, tenantId } behind x-api-key and the whole tenant receives
// (type, payload, { eventId, timestamp }); the answer is { eventId, recipients }. Clients authenticate
// with the same HS256 JWT (fast-jwt, as the product) and join the same rooms (tenant, user, role).
//   --impl=socketio : bare Socket.IO 4 (defaults, serveClient off), io.to(tenantRoom).emit(...);
//                     with --redis, the Redis streams adapter and a cluster-wide recipient count
//                     (serverSideEmit with ack), as the product does
//                     with --events, the events of bench/events-plugin (echo, sync, ping) for event-rate.js
//   --impl=ws-frame : raw `ws`; a broadcast encodes ONE WebSocket frame (the same bytes Socket.IO would
//                     send) and writes that Buffer to every socket of the room: the practical limit of
//                     Node. With --redis, plain Redis pub/sub to the other nodes (local count only)
// Run by the bench (bench/lib/servers.js) with bench/lib/probe.js preloaded; not meant for production.
import { createAdapter } from '@socket.io/redis-streams-adapter'
import { createVerifier } from 'fast-jwt'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { randomUUID } from 'node:crypto'
import { Server } from 'socket.io'
import { WebSocketServer } from 'ws'
import { list, parseArgs } from '../lib/cli.js'
import { API_KEY, JWT_SECRET } from '../lib/credentials.js'
import { textFrame } from '../lib/frame.js'

const args = parseArgs(process.argv.slice(2), {
  impl: 'socketio',
  port: 0,
  path: '/api/bench/events',
  rooms: 'tenant,user,role',
  redis: '',
  prefix: 'bench',
  events: false
})
const joinKinds = new Set(list(args.rooms))

const verifyJwt = createVerifier({ key: JWT_SECRET, algorithms: ['HS256'] })
const identityOf = (token) => {
  const c = verifyJwt(token)
  if (typeof c.sub !== 'string' || typeof c.tenantId !== 'string') throw new Error('missing claims')
  return { userId: c.sub, tenantId: c.tenantId, roles: typeof c.role === 'string' ? [c.role] : [] }
}
const tenantRoom = (t) => `t:${t}`
const roomsOf = (user) => {
  const rooms = []
  if (joinKinds.has('tenant')) rooms.push(tenantRoom(user.tenantId))
  if (joinKinds.has('user')) rooms.push(`t:${user.tenantId}:u:${user.userId}`)
  if (joinKinds.has('role')) for (const r of user.roles) rooms.push(`t:${user.tenantId}:r:${r}`)
  return rooms
}

const app = Fastify({ logger: false })
const redis = args.redis === '' ? undefined : new Redis(args.redis, { maxRetriesPerRequest: 3 })
const COUNT_TIMEOUT_MS = 1000 // the product's publish.countTimeoutMs default

/** (type, payload, tenantId) -> Promise<{ eventId, recipients }> */
let broadcast

if (args.impl === 'socketio') {
  const io = new Server(app.server, { serveClient: false })
  if (redis !== undefined) {
    io.adapter(createAdapter(redis, {
      streamName: `${args.prefix}:sio:stream`,
      channelPrefix: `${args.prefix}:sio`,
      sessionKeyPrefix: `${args.prefix}:sio:session:`
    }))
  }
  const nsp = io.of('/')
  nsp.use((socket, next) => {
    try {
      socket.data.user = identityOf(socket.handshake.auth?.token)
      next()
    } catch {
      next(new Error('unauthorized'))
    }
  })
  nsp.on('connection', (socket) => { socket.join(roomsOf(socket.data.user)) })
  if (args.events) {
    // The events of bench/events-plugin, as a Socket.IO app writes them (event-rate.js): `echo` does nothing and
    // answers an acknowledgement with { ok: true } (as the product's dispatch does), `sync` and `ping` answer with an event.
    nsp.on('connection', (socket) => {
      socket.on('echo', (_data, ack) => { if (typeof ack === 'function') ack({ ok: true }) })
      socket.on('sync', (data) => { socket.emit('synced', data) })
      socket.on('ping', (data) => { socket.emit('pong', data) })
    })
  }
  const localCount = (room) => nsp.adapter.rooms.get(room)?.size ?? 0
  nsp.on('bench:count', (room, ack) => { ack(localCount(room)) })
  // Counts on the other nodes, as the product does: { n, partial } (partial: a node did not answer in time).
  const clusterCount = (room) => new Promise((resolve) => {
    const timer = setTimeout(() => { resolve({ n: 0, partial: true }) }, COUNT_TIMEOUT_MS)
    nsp.serverSideEmit('bench:count', room, (err, responses) => {
      clearTimeout(timer)
      resolve({ n: (responses ?? []).reduce((a, b) => a + b, 0), partial: Boolean(err) })
    })
  })
  broadcast = async (type, payload, tenantId) => {
    const meta = { eventId: randomUUID(), timestamp: Date.now() }
    const room = tenantRoom(tenantId)
    nsp.to(room).emit(type, payload, meta)
    const recipients = localCount(room)
    if (redis === undefined) return { eventId: meta.eventId, recipients }
    const others = await clusterCount(room)
    return others.partial
      ? { eventId: meta.eventId, recipients: recipients + others.n, partial: true }
      : { eventId: meta.eventId, recipients: recipients + others.n }
  }
} else if (args.impl === 'ws-frame') {
  const wss = new WebSocketServer({ noServer: true }) // defaults: perMessageDeflate off
  const rooms = new Map()
  app.server.on('upgrade', (req, socket, head) => {
    let user
    try {
      if (!req.url.startsWith('/ws?')) throw new Error('not found')
      user = identityOf(new URL(req.url, 'http://x').searchParams.get('token'))
    } catch {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const mine = roomsOf(user)
      for (const r of mine) {
        let set = rooms.get(r)
        if (set === undefined) rooms.set(r, (set = new Set()))
        set.add(ws)
      }
      ws.on('close', () => {
        for (const r of mine) {
          const set = rooms.get(r)
          set.delete(ws)
          if (set.size === 0) rooms.delete(r)
        }
      })
      ws.on('error', () => {})
    })
  })
  const writeFrame = (room, text) => {
    const set = rooms.get(room)
    if (set === undefined) return 0
    const frame = textFrame(text)
    for (const ws of set) ws._socket.write(frame)
    return set.size
  }
  let pub
  const nodeId = randomUUID()
  const channel = `${args.prefix}:ws`
  if (redis !== undefined) {
    pub = redis
    const sub = redis.duplicate()
    await sub.subscribe(channel)
    sub.on('message', (_ch, message) => {
      const sp1 = message.indexOf(' ')
      const nl = message.indexOf('\n', sp1)
      if (message.slice(0, sp1) === nodeId) return
      writeFrame(message.slice(sp1 + 1, nl), message.slice(nl + 1))
    })
  }
  broadcast = async (type, payload, tenantId) => {
    const meta = { eventId: randomUUID(), timestamp: Date.now() }
    const room = tenantRoom(tenantId)
    // The same text Socket.IO would put in the frame: 42["type",payload,meta]
    const text = `42[${JSON.stringify(type)},${JSON.stringify(payload)},${JSON.stringify(meta)}]`
    const recipients = writeFrame(room, text)
    if (pub !== undefined) pub.publish(channel, `${nodeId} ${room}\n${text}`)
    return { eventId: meta.eventId, recipients }
  }
} else {
  throw new Error(`unknown --impl=${args.impl}`)
}

app.get('/ready', async (_req, reply) => {
  if (redis !== undefined && redis.status !== 'ready') return await reply.code(503).send({ status: 'unavailable' })
  return { status: 'ready' }
})

app.post(args.path, {
  schema: {
    body: {
      type: 'object',
      required: ['type', 'payload'],
      additionalProperties: false,
      properties: { type: { type: 'string', minLength: 1, maxLength: 200 }, payload: {}, tenantId: { type: 'string', minLength: 1 } }
    }
  }
}, async (req, reply) => {
  if (req.headers['x-api-key'] !== API_KEY) return await reply.code(401).send({ code: 'RT_ERR_UNAUTHORIZED' })
  const { type, payload, tenantId } = req.body
  if (tenantId === undefined) return await reply.code(400).send({ code: 'RT_ERR_VALIDATION', field: 'tenantId' })
  return await broadcast(type, payload, tenantId)
})

// Default backlog, as the product's main.ts
await app.listen({ host: '127.0.0.1', port: args.port })
