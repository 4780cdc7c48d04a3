import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type Server as HttpServer } from 'node:http'
import { createRequire } from 'node:module'
import net from 'node:net'
import { setImmediate as tick } from 'node:timers/promises'
import { Server, type ServerOptions, type Socket } from 'socket.io'
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client'
import { fastBroadcastStats, installFastBroadcast, messageFrame, testedVersions, type FastBroadcastOptions, type FastBroadcastStats } from '../../src/core/patches/fast-broadcast.js'
import { eventually, startServer, waitFor, type TestServer } from 'realtime-server/testing'
import { clientFrame, serverFrames, upgradeRequest } from '../fixtures/raw-ws.js'

// The fast path (src/core/patches/fast-broadcast.ts) must be invisible: every test runs the same scenario on a
// server with it and on one without it and compares what clients received, byte for byte where a raw
// client can see the bytes; the counters prove which path was taken.

interface Sio {
  io: Server
  http: HttpServer
  port: number
  stats: FastBroadcastStats | undefined
  /** Server-side sockets, in connection order. */
  sockets: Socket[]
}

async function sio (t: Test, fast: boolean, opts: Partial<ServerOptions> = {}, install: FastBroadcastOptions = {}): Promise<Sio> {
  const http = createServer()
  const io = new Server(http, { serveClient: false, pingInterval: 60000, pingTimeout: 60000, ...opts })
  const stats = fast ? installFastBroadcast(io, install).stats : undefined
  const sockets: Socket[] = []
  io.on('connection', (socket) => {
    sockets.push(socket)
    void socket.join(['all', `n${sockets.length}`])
  })
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  t.teardown(async () => { await new Promise((resolve) => { void io.close(resolve) }) })
  return { io, http, port: (http.address() as net.AddressInfo).port, stats, sockets }
}

async function both (t: Test, opts: Partial<ServerOptions> = {}): Promise<[Sio, Sio]> {
  return [await sio(t, true, opts), await sio(t, false, opts)]
}

/** Everything a websocket client receives, as raw TCP bytes: a minimal Engine.IO v4 / Socket.IO v5 client. */
class RawClient {
  readonly sock: net.Socket
  /** Raw bytes after the HTTP upgrade. */
  readonly bytes: Buffer[] = []
  /** Text frames (Engine.IO packets) and binary frames, in order. */
  readonly frames: Array<string | Buffer> = []
  readonly connected: Promise<void>
  #pending = Buffer.alloc(0)
  #upgraded = false
  #onConnect!: () => void
  #waiters: Array<() => void> = []

  constructor (port: number) {
    this.connected = new Promise((resolve) => { this.#onConnect = resolve })
    this.sock = net.connect(port, '127.0.0.1', () => {
      this.sock.write(upgradeRequest())
    })
    this.sock.on('data', (chunk: Buffer) => { this.#data(chunk) })
    this.sock.on('error', () => {})
  }

  #data (chunk: Buffer): void {
    if (!this.#upgraded) {
      const head = Buffer.concat([this.#pending, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) { this.#pending = head; return }
      this.#upgraded = true
      this.#pending = Buffer.alloc(0)
      chunk = head.subarray(end + 4)
    }
    if (chunk.length === 0) return
    this.bytes.push(Buffer.from(chunk))
    const buf = Buffer.concat([this.#pending, chunk])
    const { frames, used } = serverFrames(buf)
    for (const { opcode, data } of frames) {
      if (opcode === 1) this.#text(data.toString())
      else if (opcode === 2) this.frames.push(Buffer.from(data))
    }
    this.#pending = Buffer.from(buf.subarray(used))
    for (const w of this.#waiters.splice(0)) w()
  }

  #text (s: string): void {
    this.frames.push(s)
    if (s.startsWith('0')) this.send('40')
    else if (s === '2') this.send('3')
    else if (s.startsWith('40')) this.#onConnect()
  }

  send (text: string): void {
    this.sock.write(clientFrame(text))
  }

  /** Frames after the open packet and the CONNECT ack (which carry random ids). */
  get after (): Array<string | Buffer> { return this.frames.slice(2) }

  async until (pred: (c: RawClient) => boolean, timeoutMs = 10000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!pred(this)) {
      if (Date.now() > deadline) throw new Error(`timed out; ${this.frames.length} frames`)
      await new Promise<void>((resolve) => { this.#waiters.push(resolve); setTimeout(resolve, 50) })
    }
  }

  close (): void { this.sock.destroy() }
}

/** The raw bytes a client received after its CONNECT ack. */
function bytesAfterConnect (c: RawClient): Buffer {
  const all = Buffer.concat(c.bytes)
  let off = 0
  for (let i = 0; i < 2; i++) off += 2 + (all[off + 1]! & 0x7f) // open and CONNECT ack are short frames
  return all.subarray(off)
}

async function raw (t: Test, s: Sio): Promise<RawClient> {
  const c = new RawClient(s.port)
  t.teardown(() => { c.close() })
  await c.connected
  await until(() => s.sockets.length > 0 && s.sockets.at(-1)!.rooms.has('all'))
  return c
}

async function until (pred: () => boolean, timeoutMs = 10000): Promise<void> {
  await eventually('condition', pred, { timeoutMs, intervalMs: 5 })
}

function client (t: Test, port: number, opts: Record<string, unknown> = {}): ClientSocket {
  const c = ioClient(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true, ...opts })
  t.teardown(() => { c.disconnect() })
  return c
}

/** The arguments of the next `event` of a socket.io-client socket. */
const next = async (c: ClientSocket, event: string): Promise<any[]> =>
  await new Promise((resolve) => { c.once(event, (...args: any[]) => { resolve(args) }) })

const events = (c: RawClient): string[] => c.after.filter((f): f is string => typeof f === 'string' && f.startsWith('42'))

t.test('the same bytes with the fast path on and off: frame sizes, unicode, rooms, except, acks, compress, local, volatile', async (t) => {
  const servers = await both(t)
  const clients = await Promise.all(servers.map(async (s) => [await raw(t, s), await raw(t, s)] as const))
  const script = async (s: Sio): Promise<void> => {
    const steps: Array<() => unknown> = [
      () => s.io.emit('small', 'a'),
      () => s.io.emit('medium', 'm'.repeat(200)), // 16-bit length
      () => s.io.emit('large', 'L'.repeat(70000)), // 64-bit length
      () => s.io.emit('unicode', 'héllo 🌍', { n: [1, 2.5, null, true] }),
      () => s.io.to('n1').emit('room', 1),
      () => s.io.except('n1').emit('except', 2),
      () => s.io.to(['all', 'n2']).emit('two rooms, once', 3),
      () => s.io.compress(false).emit('nocompress', 4),
      () => s.io.local.emit('local', 5),
      () => s.io.volatile.emit('volatile', 6),
      () => s.sockets[0]!.emit('direct', 7),
      () => s.sockets[0]!.broadcast.emit('broadcast from socket 1', 8),
      () => s.io.timeout(2000).emit('with ack', 9, () => {}),
      // In one tick: the first write leaves the transport busy until the next tick, so Socket.IO queues the
      // next packets and flushes them together, and drops the volatile one: the fast path must do the same.
      () => { s.io.emit('burst', 1); s.sockets[1]!.emit('burst direct', 2); s.io.volatile.emit('burst volatile', 3); s.io.emit('burst', 4) }
    ]
    const idle = (): boolean => s.sockets.every((x) => x.conn.transport.writable && (x.conn.transport as any).socket._socket.writableLength === 0)
    for (const step of steps) {
      step()
      await tick()
      await until(idle) // each step meets idle sockets, whatever the machine's load
    }
  }
  for (const s of servers) await script(s)
  for (const [a, b] of clients) await Promise.all([a, b].map(async (c) => { await c.until((x) => events(x).some((e) => e.includes('"burst",4'))) }))
  await new Promise((resolve) => setTimeout(resolve, 100)) // acks and anything late
  const [fast, plain] = clients
  for (const i of [0, 1]) {
    t.same(events(fast![i]!), events(plain![i]!), `client ${i + 1}: the same events`)
    t.ok(bytesAfterConnect(fast![i]!).equals(bytesAfterConnect(plain![i]!)), `client ${i + 1}: the same bytes`)
  }
  t.notOk(events(fast![0]!).some((e) => e.includes('burst volatile')), 'a volatile packet behind a busy transport is dropped, as by Socket.IO')
  t.ok(events(fast![0]!).some((e) => e.startsWith('42["volatile"')), 'a volatile packet to an idle socket is sent')
  t.ok(servers[0].stats!.fast >= 20, `fast path taken (${servers[0].stats!.fast} writes)`)
  t.ok(servers[0].stats!.fallback >= 2, 'busy transports fell back')
  t.same(fastBroadcastStats(servers[0].io), servers[0].stats)
  t.equal(fastBroadcastStats(servers[1].io), undefined)
})

t.test('messageFrame: the bytes ws frames for an Engine.IO message packet, at every length boundary', async (t) => {
  const { Sender } = createRequire(createRequire(import.meta.resolve('engine.io')).resolve('ws'))('ws') as { Sender: { frame: (data: Buffer, o: object) => Buffer[] } }
  const lone = '\ud800'
  for (const text of ['', 'a', 'x'.repeat(124), 'x'.repeat(125), 'x'.repeat(126), 'x'.repeat(65534), 'x'.repeat(65535), 'x'.repeat(70000), 'héllo 🌍', lone, `${lone}${'é'.repeat(40000)}`]) {
    const payload = Buffer.from(`4${text}`)
    const expected = Buffer.concat(Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }))
    t.ok(messageFrame(text).equals(expected), `${text.length} characters (${payload.length} bytes)`)
  }
})

t.test('packets for one socket (CONNECT, direct emits, acknowledgements): the same bytes on and off, written by the fast path', async (t) => {
  const servers = await both(t)
  for (const s of servers) {
    s.io.on('connection', (socket) => {
      socket.on('echo', (x: unknown, ack: (y: unknown) => void) => { ack(x) })
    })
  }
  // The first connection is the self-check's: the second's CONNECT is written by the fast path.
  const clients = await Promise.all(servers.map(async (s) => [await raw(t, s), await raw(t, s)] as const))
  const fastBefore = servers[0].stats!.unicast
  t.ok(fastBefore >= 1, `the second CONNECT went the fast way (${fastBefore})`)
  for (const [, c] of clients) t.match(c.frames[1], /^40\{"sid":"[\w-]+"\}$/, 'a CONNECT a client reads')
  const lone = '\udc00'
  const script = async (s: Sio, c: RawClient): Promise<void> => {
    const socket = s.sockets[1]!
    const steps: Array<() => unknown> = [
      () => socket.emit('small', 'a'),
      () => socket.emit('medium', 'm'.repeat(200)),
      () => socket.emit('large', 'L'.repeat(70000)),
      () => socket.emit('unicode', 'héllo 🌍', lone, { n: [1, 2.5, null, true] }),
      () => { c.send('421["echo","e1"]') }, // acknowledgements, answered by the server
      () => { c.send(`422["echo",${JSON.stringify('é'.repeat(30))}]`) },
      () => socket.emit('bin', Buffer.from([1, 2, 3])), // binary: Socket.IO's path
      () => socket.volatile.emit('volatile', 1),
      // In one tick: the first write leaves the transport busy; the rest queue behind it, the volatile one is dropped.
      () => { socket.emit('burst', 1); socket.volatile.emit('burst volatile', 2); socket.emit('burst', 3) }
    ]
    const idle = (): boolean => s.sockets.every((x) => x.conn.transport.writable && (x.conn.transport as any).socket._socket.writableLength === 0)
    for (const step of steps) {
      const before = c.frames.length
      step()
      await c.until((x) => x.frames.length > before)
      await until(idle)
    }
    await c.until((x) => events(x).some((e) => e.includes('"burst",3')))
  }
  for (let i = 0; i < 2; i++) await script(servers[i]!, clients[i]![1])
  const [fast, plain] = clients
  t.same(fast![1].after, plain![1].after, 'the same frames')
  t.ok(bytesAfterConnect(fast![1]).equals(bytesAfterConnect(plain![1])), 'the same bytes')
  t.same(fast![1].after.filter((f) => typeof f === 'string' && f.startsWith('43')), ['431["e1"]', `432[${JSON.stringify('é'.repeat(30))}]`], 'the acknowledgements')
  t.notOk(events(fast![1]).some((e) => e.includes('burst volatile')), 'a volatile packet behind a busy transport is dropped, as by Socket.IO')
  t.ok(fast![1].after.some((f) => Buffer.isBuffer(f)), 'the binary attachment arrived')
  t.ok(servers[0].stats!.unicast - fastBefore >= 7, `direct emits and acks written fast (${servers[0].stats!.unicast - fastBefore})`)
  t.equal(servers[0].stats!.disabled, null, 'still on')
  t.same(events(clients[0]![0]), [], 'nothing for the other socket')
})

t.test('the same recipients as Socket.IO when a broadcast re-enters: nested broadcasts, a socket re-added to the room', async (t) => {
  const servers = await both(t)
  const clients = await Promise.all(servers.map(async (s) => [await raw(t, s), await raw(t, s), await raw(t, s)] as const))
  for (const s of servers) {
    const [first, , third] = s.sockets
    third!.onAnyOutgoing((event: string) => {
      if (event !== 'outer') return
      // The first socket, already called back, leaves and joins again: the room's Set iteration meets it again.
      void first!.leave('all')
      void first!.join('all')
      s.io.to(['all', 'n3']).emit('inner', 1) // a broadcast from inside a broadcast
    })
    s.io.to(['all', 'n1', 'n2']).emit('outer', 1)
    await tick()
    s.io.to('all').emit('end')
    s.io.to(['all', 'n1']).except('n3').emit('end2')
  }
  for (const [, , c3] of clients) await c3.until((x) => events(x).some((e) => e.includes('end')))
  for (const c of clients.flat()) await c.until((x) => events(x).length >= 3 && x.after.length > 0)
  await new Promise((resolve) => setTimeout(resolve, 50))
  const [fast, plain] = clients
  for (const i of [0, 1, 2]) {
    t.same(events(fast![i]!), events(plain![i]!), `client ${i + 1}`)
  }
  t.same(events(fast![0]!), ['42["outer",1]', '42["inner",1]', '42["end"]', '42["end2"]'], 'the re-added socket gets "outer" once')
  t.same(events(fast![1]!), ['42["outer",1]', '42["inner",1]', '42["end"]', '42["end2"]'])
  t.same(events(fast![2]!), ['42["inner",1]', '42["outer",1]', '42["end"]'])
  const rooms = await Promise.all(servers.map(async (s) => (await s.io.in(['n1', 'all']).except('n2').fetchSockets()).map((x) => x.rooms.size)))
  t.same(rooms[0], rooms[1], 'fetchSockets picks the same sockets')
})

t.test('a write that fails at once closes the connection as Socket.IO does (transport error)', async (t) => {
  const servers = await both(t)
  const reasons: string[] = []
  for (const s of servers) {
    const c = await raw(t, s)
    const closed = new Promise<string>((resolve) => { s.sockets[0]!.once('disconnect', resolve) })
    ;(s.sockets[0]!.conn.transport as any).socket._socket._handle.readStop() // the server does not read the reset...
    c.sock.resetAndDestroy() // ...so that its next write fails at once (EPIPE or ECONNRESET)
    await new Promise((resolve) => setTimeout(resolve, 50))
    s.io.emit('x', 'y'.repeat(1000))
    reasons.push(await closed)
  }
  t.same(reasons, ['transport error', 'transport error'])
})

t.test('binary payloads take Socket.IO\'s path and arrive intact', async (t) => {
  const servers = await both(t)
  const clients = await Promise.all(servers.map(async (s) => await raw(t, s)))
  for (const s of servers) {
    s.io.emit('bin', Buffer.from([0, 1, 2, 255]), { nested: Buffer.from('xyz') })
    await tick()
    s.io.emit('text', 'after')
  }
  for (const c of clients) await c.until((x) => events(x).some((e) => e.includes('after')))
  t.same(clients[0]!.after.map(String), clients[1]!.after.map(String))
  t.ok(bytesAfterConnect(clients[0]!).equals(bytesAfterConnect(clients[1]!)), 'the same bytes')
  t.equal(clients[0]!.after.filter((f) => Buffer.isBuffer(f)).length, 2, 'two binary attachments')
  t.equal(servers[0].stats!.fast, 1, 'only the text packet took the fast path')

  const sc = client(t, servers[0].port)
  await next(sc, 'connect')
  const got = next(sc, 'bin')
  servers[0].io.emit('bin', Buffer.from([9, 8, 7]))
  const [buf] = await got as [Buffer]
  t.same([...buf], [9, 8, 7], 'socket.io-client decodes it')
})

t.test('order is kept when broadcasts interleave with direct emits, acks and pings', async (t) => {
  const servers = await both(t, { pingInterval: 20, pingTimeout: 10000 })
  const results: number[][] = []
  for (const s of servers) {
    const c = client(t, s.port)
    await next(c, 'connect')
    const seen: number[] = []
    c.onAny((e: string, n: number) => { if (e !== 'ask') seen.push(n) })
    c.on('ask', (n: number, ack: (x: number) => void) => { seen.push(n); ack(n) })
    const socket = s.sockets[0]!
    let n = 0
    for (let round = 0; round < 60; round++) {
      s.io.emit('b', ++n)
      socket.emit('d', ++n)
      s.io.to('all').emit('b', ++n)
      const acked = await socket.timeout(2000).emitWithAck('ask', ++n)
      t.equal(acked, n)
      s.io.emit('b', ++n)
      if (round % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 25)) // let pings through
      await tick()
    }
    await until(() => seen.length === n)
    results.push(seen)
    t.same(seen, Array.from({ length: n }, (_, i) => i + 1), 'every event, in order')
  }
  t.same(results[0], results[1])
  t.ok(servers[0].stats!.fast > 100)
})

t.test('a slow client: backpressure, big payloads, volatile packets', async (t) => {
  const servers = await both(t)
  const big = 'B'.repeat(256 * 1024)
  for (const s of servers) {
    const slow = await raw(t, s)
    slow.sock.pause() // stops reading: the server's socket buffer fills
    const socket = s.sockets[0]!
    const netSocket = (socket.conn.transport as any).socket._socket
    const expected: string[] = []
    let i = 0
    // Until the kernel stops taking the writes: then Engine.IO's transport stays busy until they are out.
    while (netSocket.writableLength === 0) {
      s.io.emit('big', i, big)
      expected.push(`big${i}`)
      i++
      await tick()
      if (i > 1000) throw new Error('the connection does not back up')
    }
    for (let k = 0; k < 5; k++) {
      s.io.volatile.emit('vol', k) // each in its own tick, behind a broadcast that is not out: dropped
      await tick()
    }
    for (let k = 0; k < 5; k++) {
      s.io.volatile.emit('vol', k)
      await tick()
      s.io.emit('big', i, big)
      expected.push(`big${i}`)
      socket.emit('direct', i)
      expected.push(`direct${i}`)
      i++
      await tick()
    }
    s.io.emit('last', 'x')
    expected.push('lastx')
    slow.sock.resume()
    await slow.until((c) => events(c).some((e) => e.startsWith('42["last"')), 30000)
    const ev = events(slow).map((e) => JSON.parse(e.slice(2)))
    t.same(ev.filter((a) => a[0] !== 'vol').map((a) => `${a[0] as string}${String(a[1])}`), expected, 'every non-volatile event, in emission order')
    t.ok(ev.every((a) => a[0] !== 'big' || a[2].length === big.length), 'big payloads intact')
    t.same(ev.filter((a) => a[0] === 'vol'), [], 'volatile packets behind a backed-up connection are dropped')
    const after = await raw(t, s)
    s.io.volatile.emit('vol', 'idle')
    await after.until((c) => events(c).length === 1)
    t.same(events(after), ['42["vol","idle"]'], 'and sent to an idle one')
  }
  t.ok(servers[0].stats!.fast >= 1 && servers[0].stats!.fallback > 0, `fast ${servers[0].stats!.fast}, fallback ${servers[0].stats!.fallback}`)
})

t.test('a byte-identical stream when the client is slow, with the same pacing', async (t) => {
  // The kernel decides when a write is partial, so the pacing is by the client's reads, not by timing.
  const servers = await both(t)
  const got: Buffer[] = []
  for (const s of servers) {
    const c = await raw(t, s)
    c.sock.pause()
    for (let i = 0; i < 20; i++) { s.io.emit('big', i, 'P'.repeat(100000 + i)); await tick() }
    s.io.emit('end')
    c.sock.resume()
    await c.until((x) => events(x).some((e) => e.startsWith('42["end"')), 30000)
    got.push(bytesAfterConnect(c))
  }
  t.ok(got[0]!.equals(got[1]!), 'the same bytes')
})

t.test('polling clients, and clients that upgrade from polling to websocket mid-stream', async (t) => {
  const servers = await both(t)
  const runs: Array<{ polling: number[], upgrading: number[], ws: number[] }> = []
  for (const s of servers) {
    let n = 0
    let stop = false
    const pump = (async () => {
      while (!stop) { s.io.emit('seq', ++n); await new Promise((resolve) => setTimeout(resolve, 1)) }
    })()
    const record = (c: ClientSocket): number[] => { const seen: number[] = []; c.on('seq', (i: number) => { seen.push(i) }); return seen }
    const ws = client(t, s.port)
    const wsSeen = record(ws)
    const polling = client(t, s.port, { transports: ['polling'] })
    const pollingSeen = record(polling)
    const upgrading = client(t, s.port, { transports: ['polling', 'websocket'] })
    const upgradingSeen = record(upgrading)
    let upgraded = false
    upgrading.io.engine.on('upgrade', () => { upgraded = true })
    await until(() => upgraded && upgradingSeen.length > 50 && pollingSeen.length > 50 && wsSeen.length > 50, 20000)
    stop = true
    await pump
    const last = n
    await until(() => [wsSeen, pollingSeen, upgradingSeen].every((seen) => seen.at(-1) === last), 10000)
    for (const [name, seen] of [['websocket', wsSeen], ['polling', pollingSeen], ['upgrading', upgradingSeen]] as const) {
      const first = seen[0]!
      t.same(seen, Array.from({ length: last - first + 1 }, (_, i) => first + i), `${name}: no gap, no duplicate, in order`)
    }
    t.equal(upgrading.io.engine.transport.name, 'websocket')
    runs.push({ polling: pollingSeen, upgrading: upgradingSeen, ws: wsSeen })
  }
  t.ok(servers[0].stats!.fast > 50 && servers[0].stats!.fallback > 50, `both paths used (fast ${servers[0].stats!.fast}, fallback ${servers[0].stats!.fallback})`)
})

t.test('connection-state recovery: missed events replayed with their offsets, then the fast path again', async (t) => {
  const servers = await both(t, { connectionStateRecovery: { maxDisconnectionDuration: 60000, skipMiddlewares: true } })
  const runs: Array<Array<[string, number]>> = []
  for (const s of servers) {
    const c = client(t, s.port, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 })
    await next(c, 'connect')
    const seen: Array<[string, number]> = []
    c.on('ev', (tag: string, i: number) => { seen.push([tag, i]) })
    for (let i = 1; i <= 5; i++) { s.io.emit('ev', 'before', i); await tick() }
    await until(() => seen.length === 5)
    const offsetBefore = (c as any)._lastOffset as string
    t.type(offsetBefore, 'string', 'the client has an offset')
    c.io.engine.close() // a network drop: the client reconnects and asks to recover
    await until(() => !c.connected && s.sockets[0]!.disconnected)
    for (let i = 1; i <= 5; i++) { s.io.emit('ev', 'missed', i); await tick() }
    await next(c, 'connect')
    t.equal(c.recovered, true, 'the session was recovered')
    for (let i = 1; i <= 5; i++) { s.io.emit('ev', 'after', i); await tick() }
    await until(() => seen.length === 15)
    t.same(seen, ['before', 'missed', 'after'].flatMap((tag) => [1, 2, 3, 4, 5].map((i) => [tag, i])), 'all, in order, once')
    const adapter = s.io.of('/').adapter as any
    t.equal((c as any)._lastOffset, adapter.packets.at(-1).id, 'the client\'s offset is the last packet\'s')
    runs.push(seen)
  }
  t.same(runs[0], runs[1])
  t.ok(servers[0].stats!.fast >= 10)
})

t.test('outgoing listeners, broadcast acks and Engine.IO observers', async (t) => {
  const [s] = await both(t)
  const c = client(t, s.port)
  await next(c, 'connect')
  const outgoing: unknown[] = []
  s.sockets[0]!.onAnyOutgoing((...args) => { outgoing.push(args) })
  c.on('q', (x: number, ack: (y: number) => void) => { ack(x * 2) })
  const responses = await s.io.timeout(2000).emitWithAck('q', 21)
  t.same(responses, [42], 'the broadcast ack is answered')
  t.same(outgoing, [['q', 21]], 'onAnyOutgoing saw the broadcast')
  const before = s.stats!.fast
  t.equal(before, 1)

  const created: unknown[] = []
  s.sockets[0]!.conn.on('packetCreate', (p) => { created.push(p.data) })
  const got = next(c, 'x')
  s.io.emit('x', 1)
  await got
  t.equal(s.stats!.fast, before, 'a packetCreate listener sends the socket down Socket.IO\'s path')
  t.same(created, ['2["x",1]'])
})

t.test('not installed with permessage-deflate; uninstall; installing twice', async (t) => {
  const http = createServer()
  const io = new Server(http, { perMessageDeflate: { threshold: 0 } })
  t.teardown(async () => { await new Promise((resolve) => { void io.close(resolve) }) })
  const warnings: string[] = []
  installFastBroadcast(io, { log: { warn: (_o, msg) => { warnings.push(msg) } } })
  t.same(fastBroadcastStats(io)?.disabled?.reason, 'permessage-deflate', 'permessage-deflate: off, and says why')
  t.same(warnings, [], 'a configuration choice: no warning')

  const s = await sio(t, true)
  const again = installFastBroadcast(s.io)
  t.not(again.stats, s.stats, 'a second install is a no-op')
  t.equal(fastBroadcastStats(s.io), s.stats)
  const c = await raw(t, s)
  s.io.emit('a', 1)
  await c.until((x) => events(x).length === 1)
  t.same([s.stats!.fast, again.stats.fast], [1, 0])

  const other = await sio(t, true)
  const oc = await raw(t, other)
  const { uninstall } = installFastBroadcast(other.io) // the first install's handle is other.stats' owner
  uninstall() // a no-op handle: the server keeps its fast path
  other.io.emit('b', 1)
  await oc.until((x) => events(x).length === 1)
  t.equal(other.stats!.fast, 1)
})

t.test('uninstall: every socket takes Socket.IO\'s path again', async (t) => {
  const http = createServer()
  const io = new Server(http, { serveClient: false })
  const installed = installFastBroadcast(io)
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  t.teardown(async () => { await new Promise((resolve) => { void io.close(resolve) }) })
  const c = client(t, (http.address() as net.AddressInfo).port)
  await next(c, 'connect')
  const seen: number[] = []
  c.on('x', (i: number) => { seen.push(i) })
  io.emit('x', 1)
  await until(() => seen.length === 1)
  installed.uninstall()
  t.equal(fastBroadcastStats(io), undefined)
  io.emit('x', 2)
  await until(() => seen.length === 2)
  t.same(seen, [1, 2])
  t.same(installed.stats, { fast: 1, unicast: 0, fallback: 0, checked: true, disabled: null }, 'the second went Socket.IO\'s way')
})

t.test('the product: fastBroadcast on and off deliver the same events; the option turns it off', async (t) => {
  const probe = { probe: { from: './test/fixtures/plugins/probe' } }
  const servers: TestServer[] = []
  for (const fastBroadcast of [true, false]) {
    const server = await startServer({ config: { plugins: probe, socketio: { fastBroadcast } } })
    t.teardown(() => server.close())
    servers.push(server)
  }
  const ioOf = (server: TestServer): Server => (server.app as any)[Symbol.for('realtime-server.core')].io
  t.ok(fastBroadcastStats(ioOf(servers[0]!)) !== undefined, 'on by default')
  t.equal(fastBroadcastStats(ioOf(servers[1]!)), undefined, 'socketio.fastBroadcast: false')
  const runs: unknown[][] = []
  for (const server of servers) {
    const a = await server.connect('/', { token: server.token({ sub: 'a', tenantId: 'T', role: 'staff' }) })
    const b = await server.connect('/', { token: server.token({ sub: 'b', tenantId: 'T' }) })
    const seen: unknown[] = []
    a.onAny((event: string, payload: unknown, meta: { eventId: string }) => { seen.push([event, payload, typeof meta.eventId]) })
    const last = waitFor(a, 'ev', { filter: (p) => p.i === 'last' })
    for (const body of [{}, { users: ['a'] }, { roles: ['staff'] }, { except: { users: ['b'] } }, { payload: { i: 'last', s: 'é'.repeat(300) } }]) {
      const res = await server.request('POST', '/api/probe/publish', { apiKey: true, body: { tenantId: 'T', event: 'ev', payload: { i: 1, s: 'x' }, ...body } })
      t.equal(res.status, 200)
    }
    await last
    runs.push(seen)
    t.ok(b.connected)
  }
  t.same(runs[0], runs[1])
  t.ok(fastBroadcastStats(ioOf(servers[0]!))!.fast >= 5)
})

t.test('two nodes on Redis: local delivery of remote broadcasts takes the fast path', async (t) => {
  const probe = { probe: { from: './test/fixtures/plugins/probe' } }
  const prefix = `test-fast-${randomUUID().slice(0, 8)}`
  const a = await startServer({ config: { plugins: probe }, redis: prefix })
  const b = await startServer({ config: { plugins: probe }, redis: prefix })
  t.teardown(async () => { await a.close(); await b.close() })
  const ioOf = (server: TestServer): Server => (server.app as any)[Symbol.for('realtime-server.core')].io
  const ca = await a.connect('/', { token: a.token({ sub: 'u1', tenantId: 'T' }) })
  const cb = await b.connect('/', { token: b.token({ sub: 'u2', tenantId: 'T' }) })
  const seen: Record<string, number[]> = { a: [], b: [] }
  ca.on('ev', (p: { i: number }) => { seen.a!.push(p.i) })
  cb.on('ev', (p: { i: number }) => { seen.b!.push(p.i) })
  const publish = async (from: TestServer, i: number): Promise<void> => {
    const res = await from.request('POST', '/api/probe/publish', { apiKey: true, body: { tenantId: 'T', event: 'ev', payload: { i } } })
    t.equal(res.status, 200)
  }
  // The first broadcasts after start-up may race the other node's first stream read: wait until one crosses.
  let i = 0
  while (seen.b!.length === 0 && i < 50) {
    await publish(a, ++i)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const firstB = seen.b![0]!
  for (let k = 0; k < 30; k++) await publish(a, ++i) // A's client locally, B's through the stream
  await until(() => seen.a!.at(-1) === i && seen.b!.at(-1) === i, 10000)
  for (let k = 0; k < 10; k++) await publish(b, ++i) // the other way round
  await until(() => seen.a!.at(-1) === i && seen.b!.at(-1) === i, 10000)
  t.same(seen.a, Array.from({ length: i }, (_, k) => k + 1), 'node A\'s client: all, in order')
  t.same(seen.b, Array.from({ length: i - firstB + 1 }, (_, k) => firstB + k), 'node B\'s client: all since the first, in order')
  t.ok(fastBroadcastStats(ioOf(a))!.fast >= 40, `node A: its own broadcasts and B's (${fastBroadcastStats(ioOf(a))!.fast})`)
  t.ok(fastBroadcastStats(ioOf(b))!.fast >= 40, `node B: A's broadcasts, received through Redis, and its own (${fastBroadcastStats(ioOf(b))!.fast})`)
})

// ---- Total or off: whatever the dependencies do, no packet is lost or sent twice, and nothing crashes ----

/**
 * Makes `key` of `obj` unreadable by the fast path (src/core/patches/fast-broadcast.ts reads undefined), as after a
 * rename in a new version of the package, while Engine.IO, ws and Node keep reading and writing it: the
 * state of a connection whose internals changed shape under the path, on a real connection. `throws`: the
 * read throws instead (a field become a getter that fails), to reach the reads made after the frame is written.
 */
function renameForFastPath (t: Test, obj: object, key: string, mode: 'gone' | 'throws' = 'gone'): void {
  let proto: object | null = obj
  let desc: PropertyDescriptor | undefined
  while (proto !== null && (desc = Object.getOwnPropertyDescriptor(proto, key)) === undefined) proto = Object.getPrototypeOf(proto)
  if (desc === undefined) throw new Error(`no ${key} to rename`)
  const own = proto === obj
  let value: unknown = desc.value
  Object.defineProperty(obj, key, {
    configurable: true,
    enumerable: desc.enumerable ?? true,
    get () {
      if (readByFastPath()) {
        if (mode === 'throws') throw new Error(`${key}: not readable here`)
        return undefined
      }
      return desc.get !== undefined ? desc.get.call(this) : value
    },
    set (v: unknown) { if (desc.set !== undefined) desc.set.call(this, v); else value = v }
  })
  t.teardown(() => {
    if (own) Object.defineProperty(obj, key, desc.get !== undefined ? desc : { ...desc, value })
    else delete (obj as Record<string, unknown>)[key]
  })
}

/** True when the property read comes from the fast path's module (the first frame outside this file). */
function readByFastPath (): boolean {
  const frames = new Error().stack!.split('\n').slice(1)
  const caller = frames.find((f) => !f.includes('fast-broadcast.test.'))
  return caller?.includes('fast-broadcast.') === true
}

/** A warning sink in place of the product's logger. */
function warnings (): { lines: string[], log: FastBroadcastOptions['log'] } {
  const lines: string[] = []
  return { lines, log: { warn: (_obj, msg) => { lines.push(msg) } } }
}

const idleAll = (s: Sio) => (): boolean => s.sockets.every((x) => {
  const tr = x.conn.transport as any
  return tr.writable === true && tr.socket._socket.writableLength === 0
})

/** Where each internal field the path reads lives, on a socket; what the path must do when it is gone. */
const fields: Array<{ name: string, of: (s: Sio, i: number) => object, key: string, on?: number, mode?: 'throws', expect: 'error' | 'fallback' | 'fast' }> = [
  { name: 'client.conn', of: (s, i) => s.sockets[i]!.client, key: 'conn', expect: 'error' },
  { name: 'conn.server (first recipient: the frame is built there)', of: (s, i) => s.sockets[i]!.conn, key: 'server', on: 0, expect: 'error' },
  { name: 'conn.server._events', of: (s, i) => (s.sockets[i]!.conn as any).server, key: '_events', expect: 'error' },
  { name: 'conn.transport', of: (s, i) => s.sockets[i]!.conn, key: 'transport', expect: 'error' },
  { name: 'conn.writeBuffer', of: (s, i) => s.sockets[i]!.conn, key: 'writeBuffer', expect: 'error' },
  { name: 'conn.readyState', of: (s, i) => s.sockets[i]!.conn, key: 'readyState', expect: 'fallback' },
  { name: 'conn.upgrading', of: (s, i) => s.sockets[i]!.conn, key: 'upgrading', expect: 'fallback' },
  { name: 'conn._events', of: (s, i) => s.sockets[i]!.conn, key: '_events', expect: 'error' },
  { name: 'transport.writable', of: (s, i) => s.sockets[i]!.conn.transport, key: 'writable', expect: 'fallback' },
  { name: 'transport.name', of: (s, i) => s.sockets[i]!.conn.transport, key: 'name', expect: 'fallback' },
  { name: 'transport.socket', of: (s, i) => s.sockets[i]!.conn.transport, key: 'socket', expect: 'fallback' },
  { name: 'transport.emit (releasing a busy transport)', of: (s, i) => s.sockets[i]!.conn.transport, key: 'emit', expect: 'error' },
  { name: 'ws.readyState', of: (s, i) => (s.sockets[i]!.conn.transport as any).socket, key: 'readyState', expect: 'fallback' },
  { name: 'ws._sender', of: (s, i) => (s.sockets[i]!.conn.transport as any).socket, key: '_sender', expect: 'fallback' },
  { name: 'ws._socket', of: (s, i) => (s.sockets[i]!.conn.transport as any).socket, key: '_socket', expect: 'fallback' },
  { name: 'sender._state', of: (s, i) => (s.sockets[i]!.conn.transport as any).socket._sender, key: '_state', expect: 'fallback' },
  { name: 'sender._queue', of: (s, i) => (s.sockets[i]!.conn.transport as any).socket._sender, key: '_queue', expect: 'error' },
  { name: 'net.Socket.writable', of: (s, i) => (s.sockets[i]!.conn.transport as any).socket._socket, key: 'writable', expect: 'fallback' },
  { name: 'net.Socket.write', of: (s, i) => (s.sockets[i]!.conn.transport as any).socket._socket, key: 'write', expect: 'error' },
  { name: 'net.Socket.writableLength (after the write: the slow branch is taken)', of: (s, i) => (s.sockets[i]!.conn.transport as any).socket._socket, key: 'writableLength', expect: 'fast' },
  { name: 'net.Socket.writableLength throwing (after the write: it must not be written again)', of: (s, i) => (s.sockets[i]!.conn.transport as any).socket._socket, key: 'writableLength', mode: 'throws', expect: 'error' },
  { name: 'net.Socket.errored', of: (s, i) => (s.sockets[i]!.conn.transport as any).socket._socket, key: 'errored', expect: 'fast' },
  { name: 'net.Socket.errored throwing (in the next tick\'s release)', of: (s, i) => (s.sockets[i]!.conn.transport as any).socket._socket, key: 'errored', mode: 'throws', expect: 'error' },
  { name: 'conn.writeBuffer throwing', of: (s, i) => s.sockets[i]!.conn, key: 'writeBuffer', mode: 'throws', expect: 'error' },
  { name: 'adapter.rooms', of: (s) => s.io.of('/').adapter, key: 'rooms', expect: 'error' },
  { name: 'adapter.nsp', of: (s) => s.io.of('/').adapter, key: 'nsp', expect: 'error' },
  { name: 'adapter.computeExceptSids', of: (s) => s.io.of('/').adapter, key: 'computeExceptSids', expect: 'error' }
]

t.test('a field the path reads renamed on the second of three connections: no packet lost, none twice', async (t) => {
  for (const field of fields) {
    await t.test(field.name, async (t) => {
      const w = warnings()
      const s = await sio(t, true, {}, { log: w.log })
      const clients = [await raw(t, s), await raw(t, s), await raw(t, s)]
      t.equal(s.stats!.checked, true, 'the shapes were checked on the first connection')
      renameForFastPath(t, field.of(s, field.on ?? 1), field.key, field.mode)
      const fastBefore = s.stats!.fast
      // Each step with the number of events each client has once it is delivered: a packet left queued
      // behind a transport nobody releases times out here.
      const steps: Array<[() => void, number[]]> = [
        [() => s.io.emit('e', 1), [1, 1, 1]],
        [() => s.io.to('all').emit('e', 2), [2, 2, 2]], // fastApply picks the recipients
        [() => { s.io.emit('e', 3); s.io.to('all').emit('e', 4) }, [4, 4, 4]], // the second meets busy transports: queued, then released
        [() => s.io.except('n3').emit('e', 5), [5, 5, 4]],
        [() => s.io.emit('e', 6), [6, 6, 5]]
      ]
      for (const [step, counts] of steps) {
        step()
        for (const [i, c] of clients.entries()) await c.until((x) => events(x).length >= counts[i]!)
        await until(idleAll(s))
      }
      s.io.emit('end')
      for (const c of clients) await c.until((x) => events(x).includes('42["end"]'))
      const expected = ['42["e",1]', '42["e",2]', '42["e",3]', '42["e",4]', '42["e",5]', '42["e",6]', '42["end"]']
      t.same(events(clients[0]!), expected, 'first client: every packet, once, in order')
      t.same(events(clients[1]!), expected, 'second client (the renamed field): every packet, once, in order')
      t.same(events(clients[2]!), expected.filter((e) => e !== '42["e",5]'), 'third client: every packet, once, in order')
      const stats = s.stats!
      if (field.expect === 'error') {
        t.equal(stats.disabled?.reason, 'error', 'the exception turned the path off')
        t.equal(w.lines.length, 1, 'one warning')
        t.match(w.lines[0], /fast broadcast off after an exception/)
        const fast = stats.fast
        s.io.emit('after')
        for (const c of clients) await c.until((x) => events(x).includes('42["after"]'))
        t.equal(stats.fast, fast, 'then Socket.IO\'s path for everything')
      } else {
        t.equal(stats.disabled, null, 'still on')
        t.same(w.lines, [], 'no warning')
        if (field.expect === 'fallback') t.ok(stats.fallback >= 5, `the renamed connection took Socket.IO's path (${stats.fallback} fallbacks)`)
        t.ok(stats.fast - fastBefore >= (field.expect === 'fast' ? 14 : 9), `the others (${field.expect === 'fast' ? 'and this one' : 'only'}) took the fast path (${stats.fast - fastBefore})`)
      }
    })
  }
})

t.test('a dependency at an untested version: off from the start, one warning naming it, Socket.IO\'s path', async (t) => {
  const w = warnings()
  const s = await sio(t, true, {}, { log: w.log, testedVersions: { ...testedVersions, 'engine.io': ['6.6.11', '6.6.13'] } })
  const clients = [await raw(t, s), await raw(t, s)]
  t.equal(s.stats!.disabled?.reason, 'version')
  t.equal(w.lines.length, 1, 'one warning line')
  t.match(w.lines[0], /engine\.io 6\.6\.12 \(used by socket\.io\) is not a tested version \(tested: 6\.6\.11, 6\.6\.13\)/, 'it names the package, the version found and the tested ones')
  t.notMatch(w.lines[0], /\bws\b|socket\.io-adapter/, 'and only the package that differs')
  t.equal(Object.hasOwn(s.sockets[0]!.client, 'writeToEngine'), false, 'nothing is patched')
  s.io.emit('a', 1)
  s.io.to('all').emit('b', 2)
  for (const c of clients) await c.until((x) => events(x).length === 2)
  for (const c of clients) t.same(events(c), ['42["a",1]', '42["b",2]'])
  t.same([s.stats!.fast, s.stats!.fallback], [0, 0])
  t.same(fastBroadcastStats(s.io), s.stats, 'the state is readable, with its reason')
  t.equal(w.lines.length, 1, 'still one warning after broadcasts')

  const ws = warnings()
  const other = await sio(t, true, {}, { log: ws.log, testedVersions: { ...testedVersions, ws: [] } })
  t.equal(other.stats!.disabled?.reason, 'version')
  t.equal(ws.lines.length, 1, 'one line for both copies of ws')
  t.match(ws.lines[0], /ws 8\.21\.3 \(used by engine\.io\).*ws 8\.21\.3 \(used by socket\.io-adapter\).*tested: none/)
})

t.test('the first-connection self-check: a wrong shape turns the path off before any fast write, with one warning', async (t) => {
  const shapes: Array<{ name: string, rename: (t: Test, conn: any, io: Server) => void, says: RegExp }> = [
    { name: 'Engine.IO socket', rename: (t, conn) => { renameForFastPath(t, conn, 'writeBuffer') }, says: /writeBuffer is not an array/ },
    { name: 'websocket transport', rename: (t, conn) => { renameForFastPath(t, conn.transport, 'writable') }, says: /writable is not a boolean/ },
    { name: 'ws sender', rename: (t, conn) => { renameForFastPath(t, conn.transport.socket._sender, '_queue') }, says: /_sender\._queue/ },
    { name: 'net.Socket', rename: (t, conn) => { renameForFastPath(t, conn.transport.socket._socket, 'writableLength') }, says: /net\.Socket: writable, writableLength/ },
    { name: 'adapter prototype', rename: (t, _conn, io) => { renameForFastPath(t, Object.getPrototypeOf(io.of('/').adapter), '_encode') }, says: /Adapter\.prototype\.apply, computeExceptSids or _encode/ }
  ]
  for (const shape of shapes) {
    await t.test(shape.name, async (t) => {
      const w = warnings()
      const http = createServer()
      const io = new Server(http, { serveClient: false })
      const stats = installFastBroadcast(io, { log: w.log }).stats
      let first = true
      io.engine.on('connection', (conn: unknown) => { if (first) { first = false; shape.rename(t, conn, io) } })
      const sockets: Socket[] = []
      io.on('connection', (socket) => { sockets.push(socket); void socket.join('all') })
      http.listen(0, '127.0.0.1')
      await once(http, 'listening')
      t.teardown(async () => { await new Promise((resolve) => { void io.close(resolve) }) })
      const s: Sio = { io, http, port: (http.address() as net.AddressInfo).port, stats, sockets }
      const c1 = await raw(t, s)
      t.equal(stats.checked, true)
      t.equal(stats.disabled?.reason, 'shape')
      t.equal(w.lines.length, 1, 'one warning line')
      t.match(w.lines[0], shape.says, 'naming what is wrong')
      const c2 = await raw(t, s)
      s.io.emit('a', 1)
      s.io.to('all').emit('b', 2)
      for (const c of [c1, c2]) await c.until((x) => events(x).length === 2)
      for (const c of [c1, c2]) t.same(events(c), ['42["a",1]', '42["b",2]'], 'delivered by Socket.IO')
      t.same([stats.fast, stats.fallback], [0, 0], 'no fast write, ever')
      t.equal(Object.hasOwn(sockets[0]!.client, 'writeToEngine') || Object.hasOwn(sockets[1]!.client, 'writeToEngine'), false, 'clients are left alone')
      t.equal(w.lines.length, 1)
    })
  }
})

t.test('the first websocket connection may come through an upgrade: checked then, not before', async (t) => {
  const s = await sio(t, true)
  const polling = client(t, s.port, { transports: ['polling'] })
  await next(polling, 'connect')
  const got = next(polling, 'a')
  s.io.emit('a', 1)
  await got
  t.equal(s.stats!.checked, false, 'a polling connection is not checked')
  const upgrading = client(t, s.port, { transports: ['polling', 'websocket'] })
  await new Promise<void>((resolve) => { upgrading.io.engine.once('upgrade', () => { resolve() }) })
  await until(() => s.stats!.checked)
  t.equal(s.stats!.disabled, null)
  const upgraded = s.sockets[1]!.conn.transport as any
  await until(() => upgraded.writable === true && upgraded.socket._socket.writableLength === 0)
  const both = Promise.all([next(polling, 'b'), next(upgrading, 'b')])
  s.io.emit('b', 2)
  t.same(await both, [[2], [2]])
  t.equal(s.stats!.fast, 1, 'the upgraded connection took the fast path')
})

t.test('a slow write that then fails: the transport closes as Engine.IO\'s write error, nothing else is affected', async (t) => {
  const servers = await both(t)
  const big = 'S'.repeat(64 * 1024)
  const reasons: string[] = []
  for (const s of servers) {
    const victim = await raw(t, s)
    const bystander = await raw(t, s)
    const socket = s.sockets[0]!
    const netSocket = (socket.conn.transport as any).socket._socket
    victim.sock.pause() // the client stops reading: the server's writes back up
    let i = 0
    // Broadcasts to idle transports until one is not taken by the kernel at once: its write is in flight.
    while (netSocket.writableLength === 0) {
      const fast = s.stats?.fast
      s.io.emit('big', i++, big)
      if (s.stats !== undefined) t.equal(s.stats.fast, fast! + 2, 'written by the fast path')
      await until(() => netSocket.writableLength > 0 || (socket.conn.transport.writable && bystander.frames.length >= 2 + i))
      if (i > 2000) throw new Error('the connection does not back up')
    }
    t.equal(socket.conn.transport.writable, false, 'the transport is busy until the write is out')
    const closed = new Promise<string>((resolve) => { socket.once('disconnect', resolve) })
    netSocket._handle.readStop() // the server learns of the reset from the pending write, not from a read
    victim.sock.resetAndDestroy()
    reasons.push(await closed)
    t.equal(socket.conn.readyState, 'closed')
    s.io.emit('after', 1)
    await bystander.until((x) => events(x).includes('42["after",1]'))
    t.equal(events(bystander).length, i + 1, 'the other client got every broadcast')
    if (s.stats !== undefined) {
      t.equal(s.stats.disabled, null, 'a write error is not a fault of the path: it stays on')
      t.equal(fastBroadcastStats(s.io), s.stats)
    }
  }
  t.same(reasons, ['transport error', 'transport error'], 'the same reason as Socket.IO\'s own write error')
})
