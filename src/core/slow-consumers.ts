// Slow consumers: a per-connection bound on the bytes waiting to be written to a client; a client over it is disconnected ('slow').
import type { FastifyBaseLogger } from 'fastify'
import type { Namespace, Server, Socket } from 'socket.io'

/**
 * A client that stops reading (a frozen tab, a phone in a tunnel, a hostile client) makes the server hold
 * everything sent to it: Engine.IO queues packets in the connection's write buffer while a write is pending,
 * and the connection (`net.Socket`) holds what the kernel did not take. Without a bound, one such client in a
 * busy room grows the server's memory by every event of that room.
 *
 * The bound (`socketio.maxBufferedBytes`) counts, per Engine.IO connection, the bytes waiting to be written:
 * - the packets queued in Engine.IO's write buffer (websocket while a write is pending; polling until the
 *   client's next poll), counted as they are queued (a running sum, reset when Engine.IO flushes the buffer
 *   and replaces its array: no walk over the queue);
 * - on websocket, `ws.bufferedAmount` (the `net.Socket`'s write queue and what `ws` holds behind compression).
 *
 * A message is written when nothing is waiting, or when it keeps the total within the bound; otherwise the
 * client is a slow consumer: the message is dropped, the client is disconnected and one warn line names it
 * (`reason: 'slow'`, the Engine.IO id, the Socket.IO socket ids and namespaces, user and tenant, the bytes
 * waiting). So the bytes held for one client never exceed the bound, or one message when a single message
 * is larger. The kernel's socket buffers are not counted (bounded by the system's `tcp_wmem`).
 *
 * Every message to a client passes here: Socket.IO writes each packet with `conn.write` (emits, acks, and
 * broadcasts on Socket.IO's own path), which this module replaces on every connection by one shared function
 * (no closure per connection); the fast broadcast path (patches/fast-broadcast.ts), which writes frames to
 * the `net.Socket` itself, checks the same bound with `overflow` below.
 *
 * Disconnection: the websocket's `net.Socket` is destroyed (`ws.terminate()`: what it held is freed at once; a
 * close frame would wait behind the data the client does not read), and the Engine.IO connection is closed
 * with its buffer discarded (`conn.close(true)`). Server-side, Socket.IO's `disconnect` reason (and the
 * plugins' disconnect hooks) say `forced close`. The client cannot be told why: it is not reading. When it
 * reads again it gets what the kernel had taken, then the end of the connection without a close frame:
 * socket.io-client reports `transport close` and reconnects (with connection state recovery on, it gets the
 * missed events back from the recovery buffer if it returns in time). A polling client gets `400` (unknown
 * session id) on its next poll, and reconnects the same way.
 *
 * Polling: the packets waiting for the next poll are counted. A poll's response holds at most what the
 * buffer held (within the bound, plus one message); Node's HTTP server stops reading further requests on a
 * connection whose responses are not read, so a client cannot stack responses on one connection.
 */

/** What the fast broadcast path needs to respect the bound (the shape `installFastBroadcast` takes). */
export interface SlowConsumerBound {
  /** The bound in bytes; 0: none. */
  readonly maxBufferedBytes: number
  /** Called instead of a write that the bound refuses: disconnects the client (once), logging why. */
  overflow: (conn: object, bufferedBytes: number, nextBytes: number) => void
}

/** Counters of one server's guard (tests, diagnostics). */
export interface SlowConsumerStats {
  /** Clients disconnected as slow consumers. */
  disconnected: number
  /** Messages dropped because their client was over the bound (the one that tipped it, and any sent before the close). */
  dropped: number
}

export interface SlowConsumerOptions {
  /** Bytes that may wait to be written to one client; 0 installs nothing. */
  maxBufferedBytes: number
  log: Pick<FastifyBaseLogger, 'warn'>
}

interface WsLike { readonly bufferedAmount: number, terminate: () => void }
interface TransportLike { readonly name: string, socket?: WsLike }
interface ClientLike { sockets?: Map<string, Socket> }
type Write = (data: unknown, options?: PacketOptions, callback?: unknown) => unknown
interface PacketOptions { wsPreEncodedFrame?: Buffer[] }

const kState = Symbol('rt.slowConsumers.state')
const kInstalled = Symbol('rt.slowConsumers.installed')

/**
 * What the bound keeps per connection, in one object under one symbol: each property added to Engine.IO's
 * socket after its constructor changes its hidden class, which costs every access to it.
 */
class ConnState {
  /** Bytes of the packets seen queued in `queuedIn`, Engine.IO's write buffer array of the moment (replaced on each flush). */
  queued = 0
  queuedIn: unknown[] | null = null
  /** Found slow, being closed: what is sent to it is dropped. */
  slow = false
  /** The Socket.IO client, once a namespace connection completed (for the log line). */
  client: ClientLike | undefined = undefined
  readonly guard: Guard
  constructor (guard: Guard) { this.guard = guard }
}

interface EngineSocketLike {
  readonly id: string
  readyState: string
  writeBuffer: unknown[]
  transport: TransportLike
  write: Write
  close: (discard?: boolean) => void
  [kState]?: ConnState
}

class Guard implements SlowConsumerBound {
  readonly stats: SlowConsumerStats = { disconnected: 0, dropped: 0 }
  readonly maxBufferedBytes: number
  /** Engine.IO's own `Socket.prototype.write`, read on the first connection. */
  engineWrite: Write | undefined
  readonly #log: SlowConsumerOptions['log']

  constructor (max: number, log: SlowConsumerOptions['log']) {
    this.maxBufferedBytes = max
    this.#log = log
  }

  readonly overflow = (c: object, bufferedBytes: number, nextBytes: number): void => {
    this.stats.dropped++
    const conn = c as EngineSocketLike
    const state = conn[kState]
    if (state !== undefined) {
      if (state.slow) return
      state.slow = true
    }
    this.stats.disconnected++
    let transport = 'unknown'
    const sockets: Array<{ id: string, nsp: string, userId?: string, tenantId?: string }> = []
    try {
      transport = conn.transport.name
      for (const s of state?.client?.sockets?.values() ?? []) {
        const user = (s.data as { user?: { userId?: string, tenantId?: string } } | undefined)?.user
        sockets.push({ id: s.id, nsp: s.nsp.name, userId: user?.userId, tenantId: user?.tenantId })
      }
    } catch {} // the log line names what it can
    const first = sockets[0]
    this.#log.warn({
      reason: 'slow',
      sid: conn.id,
      socketId: first?.id,
      userId: first?.userId,
      tenantId: first?.tenantId,
      sockets,
      transport,
      bufferedBytes,
      nextBytes,
      maxBufferedBytes: this.maxBufferedBytes
    }, `slow consumer disconnected: ${bufferedBytes} bytes waiting to be written to it, and ${nextBytes} more would exceed socketio.maxBufferedBytes (${this.maxBufferedBytes})`)
    // After the current broadcast (it may be iterating this socket's rooms); until then, writes are dropped.
    process.nextTick(closeSlow, conn, this.#log)
  }
}

function closeSlow (conn: EngineSocketLike, log: SlowConsumerOptions['log']): void {
  try {
    const t = conn.transport
    // Frees what the connection holds now; a close frame would wait behind the data the client does not read.
    if (t.name === 'websocket') t.socket?.terminate()
    conn.close(true)
  } catch (err) {
    log.warn({ err, sid: conn.id }, 'closing a slow consumer failed')
  }
}

/**
 * Bytes waiting to be written to an Engine.IO connection, as the bound counts them: the packets queued
 * in its write buffer (those written while the guard was installed) and, on websocket, `ws.bufferedAmount`.
 */
export function bufferedBytes (conn: object): number {
  const c = conn as EngineSocketLike
  return waitingOn(c, c[kState])
}

function waitingOn (c: EngineSocketLike, state: ConnState | undefined): number {
  const wb = c.writeBuffer
  let n = wb.length !== 0 && state !== undefined && state.queuedIn === wb ? state.queued : 0
  const t = c.transport
  if (t.name === 'websocket') {
    const ws = t.socket
    if (ws !== undefined) n += ws.bufferedAmount
  }
  return n
}

/** The bytes one packet adds on the wire: its pre-encoded frame when the adapter built one, else its data. */
function packetBytes (data: unknown, options: PacketOptions | undefined): number {
  const pre = options?.wsPreEncodedFrame
  if (pre !== undefined) {
    let n = 0
    for (let i = 0; i < pre.length; i++) n += pre[i]!.length
    return n
  }
  if (typeof data === 'string') return Buffer.byteLength(data) + 1
  return (data as { byteLength?: number }).byteLength ?? 0
}

/**
 * Engine.IO's `Socket.prototype.write` under the bound; `this` is the Engine.IO connection (one function for
 * all). An idle connection (nothing waiting, the packet written at once) costs two reads; the packet's size is
 * computed only when something waits or it is queued.
 */
function guardedWrite (this: EngineSocketLike, data: unknown, options?: PacketOptions, callback?: unknown): unknown {
  const state = this[kState]!
  const guard = state.guard
  if (state.slow) {
    guard.stats.dropped++
    return this
  }
  const waiting = waitingOn(this, state)
  let size = -1
  if (waiting !== 0) {
    size = packetBytes(data, options)
    if (waiting + size > guard.maxBufferedBytes) {
      guard.overflow(this, waiting, size)
      return this
    }
  }
  guard.engineWrite!.call(this, data, options, callback)
  // Still in the write buffer (the transport is busy, or polling waits for the client's next poll): counted.
  const wb = this.writeBuffer
  if (wb.length !== 0) {
    if (size < 0) size = packetBytes(data, options)
    if (state.queuedIn === wb) state.queued += size
    else {
      state.queuedIn = wb
      state.queued = size
    }
  }
  return this
}

/**
 * Installs the bound on every Engine.IO connection of `io`, present and future (a no-op with
 * `maxBufferedBytes: 0`, or on an `io` that has it). Returns the bound to give the fast broadcast path, or
 * undefined when there is none.
 *
 * @example
 * const bound = installSlowConsumerGuard(io, { maxBufferedBytes: config.socketio.maxBufferedBytes, log: app.log })
 * installFastBroadcast(io, { log: app.log, bound })
 */
export function installSlowConsumerGuard (io: Server, options: SlowConsumerOptions): SlowConsumerBound | undefined {
  const own = io as unknown as Record<symbol, Guard | undefined>
  if (options.maxBufferedBytes <= 0) return undefined
  if (own[kInstalled] !== undefined) return own[kInstalled]
  const guard = new Guard(options.maxBufferedBytes, options.log)
  own[kInstalled] = guard
  let warned = false
  const guardConnection = (c: object): void => {
    const conn = c as EngineSocketLike
    const write = Object.getPrototypeOf(conn)?.write as Write | undefined
    if (typeof write !== 'function' || !Array.isArray(conn.writeBuffer) || typeof conn.close !== 'function' || typeof conn.transport?.name !== 'string') {
      if (!warned) options.log.warn({ sid: conn.id }, 'slow consumer bound off for connections of an unexpected shape (engine.io: write, writeBuffer, close, transport)')
      warned = true
      return
    }
    guard.engineWrite ??= write
    conn[kState] = new ConnState(guard)
    conn.write = guardedWrite
  }
  // Which Socket.IO client a connection belongs to, for the log line: set once per namespace connection.
  const tag = (socket: Socket): void => {
    const state = (socket.conn as unknown as EngineSocketLike)[kState]
    if (state?.guard === guard) state.client = socket.client as unknown as ClientLike
  }
  const watch = (nsp: Namespace): void => {
    nsp.on('connection', tag)
  }
  io.engine.on('connection', guardConnection)
  for (const nsp of io._nsps.values()) watch(nsp)
  io.on('new_namespace', watch)
  return guard
}

/** The counters of the guard installed on `io`; undefined when there is none. */
export function slowConsumerStats (io: Server): SlowConsumerStats | undefined {
  return (io as unknown as Record<symbol, Guard | undefined>)[kInstalled]?.stats
}
