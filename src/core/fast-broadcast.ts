import { EventEmitter } from 'node:events'
import type { Namespace, Server, Socket } from 'socket.io'

/**
 * A faster delivery of broadcasts to websocket clients, with the same bytes, order and semantics as
 * Socket.IO's own path.
 *
 * For every recipient of a broadcast, socket.io-adapter calls `socket.client.writeToEngine(packets, opts)`,
 * where `opts.wsPreEncodedFrame` already holds the WebSocket frame of the packet (header and payload, built
 * once per broadcast). Engine.IO then builds a packet object, emits `packetCreate`, queues the packet in its
 * write buffer, flushes it (emitting `flush` and `drain` on the socket and on the server), marks the
 * transport busy, and has `ws` write the two buffers with cork/writev and a callback, which marks the
 * transport writable again on the next tick. That is more than half of the server's user-space instructions
 * per delivered message.
 *
 * When Engine.IO would write the frame at once (the conditions below), this path writes ONE Buffer (header
 * and payload concatenated once per broadcast) to the connection's `net.Socket`, without a callback, and
 * leaves Engine.IO's state as its own write would: the transport is busy until the write is out (the next
 * tick when the kernel took it all, one tick callback for the whole broadcast; else the callback of an
 * empty write queued behind it), so that what is emitted to the socket meanwhile queues in Engine.IO's
 * write buffer and follows the frame, and volatile packets are dropped exactly when Socket.IO drops them.
 * A write error closes the transport as Engine.IO's callback would ('write error').
 *
 * It applies wherever a broadcast ends in `Adapter.prototype.broadcast`/`broadcastWithAck`: the in-memory
 * and session-aware adapters, and the local delivery of the Redis streams adapter, for broadcasts made on
 * this node and those received from other nodes. The adapter still calls `notifyOutgoingListeners` and
 * registers acks before the write; connection-state recovery offsets are inside the encoded packet.
 *
 * Conditions, per recipient; when one fails, Socket.IO's own path is taken:
 * - the packet has a pre-encoded frame (a single text packet: no binary attachments);
 * - the Engine.IO socket is open and not upgrading, its write buffer is empty, and nothing listens to its
 *   `packetCreate`, `flush` or `drain` events, nor to the Engine.IO server's `flush` or `drain`;
 * - its transport is websocket, writable (none of its own writes pending), without permessage-deflate
 *   (with `perMessageDeflate` on the server, nothing is installed);
 * - the `ws` socket is open and its sender idle (no frame queued behind a compression or a blob);
 * - the `net.Socket` is writable (not ending or destroyed).
 */

interface WsSender { _state: number, _queue: unknown[] }
interface NetSocketLike { writable: boolean, writableLength: number, errored: Error | null, write: (chunk: Buffer, cb?: (err?: Error | null) => void) => boolean }
interface WsLike { readyState: number, _sender: WsSender | undefined, _socket: NetSocketLike | undefined }
interface TransportLike {
  readonly name: string
  writable: boolean
  socket: WsLike | undefined
  emit: (event: string) => boolean
  onError: (msg: string, desc?: unknown) => void
  [kOnSent]?: (err?: Error | null) => void
}
interface EngineSocketLike {
  readyState: string
  upgrading: boolean
  writeBuffer: unknown[]
  transport: TransportLike
  _events: Record<string | symbol, unknown>
  server: { _events: Record<string | symbol, unknown> }
}
interface PacketOptions {
  wsPreEncodedFrame?: Buffer[]
  volatile?: boolean
  [kFrame]?: Buffer | null
}
type WriteToEngine = (encodedPackets: unknown, opts: PacketOptions) => void
interface ClientLike { conn: EngineSocketLike, writeToEngine: WriteToEngine }

const kFrame = Symbol('rt.fastBroadcast.frame')
const kOnSent = Symbol('rt.fastBroadcast.onSent')
const kInstalled = Symbol('rt.fastBroadcast.installed')
const WS_OPEN = 1
const EMPTY = Buffer.alloc(0)
const SENDER_IDLE = 0

/** Counters of the fast path, for tests and diagnostics. */
export interface FastBroadcastStats {
  /** Deliveries written by the fast path. */
  fast: number
  /** Deliveries of pre-encoded broadcasts that took Socket.IO's path (a condition above failed). */
  fallback: number
}

/** Transports written this tick by the fast path, with their Engine.IO sockets: [t0, conn0, t1, conn1, ...]. */
let settling: Array<TransportLike | EngineSocketLike> = []

/** Marks `t` writable again on the next tick: one tick callback for the whole broadcast, not one per socket. */
function settleOnNextTick (t: TransportLike, conn: EngineSocketLike): void {
  if (settling.length === 0) process.nextTick(settle)
  settling.push(t, conn)
}

function settle (): void {
  const list = settling
  settling = []
  for (let i = 0; i < list.length; i += 2) {
    const t = list[i] as TransportLike
    // A write that failed at once (EPIPE, ECONNRESET) errored the net.Socket: Engine.IO's write callback
    // would get that error, and close the transport as 'transport error'.
    const err = t.socket?._socket?.errored
    if (err !== undefined && err !== null) t.onError('write error', err.stack)
    else release(t, list[i + 1] as EngineSocketLike)
  }
}

/**
 * What the websocket transport's `_onSentLast` does once a write is out: writable again, and `ready` makes
 * the Engine.IO socket flush what was queued meanwhile (its only listener, a no-op when nothing was). Less
 * the `drain` event, which pairs with a `flush` this path did not do.
 */
function release (t: TransportLike, conn: EngineSocketLike): void {
  t.writable = true
  if (conn.writeBuffer.length !== 0) t.emit('ready')
}

/** The callback of a fast write that did not complete at once, one per transport. */
function onSentOf (t: TransportLike, conn: EngineSocketLike): (err?: Error | null) => void {
  let fn = t[kOnSent]
  if (fn === undefined) {
    fn = (err) => {
      if (err !== undefined && err !== null) t.onError('write error', err.stack)
      else release(t, conn)
    }
    t[kOnSent] = fn
  }
  return fn
}

/**
 * Installs the fast path on `io`, after its adapter is set (`io.adapter(...)` replaces the adapters):
 * every client connecting to a namespace of `io`, present or future, writes broadcasts this way, and the
 * namespaces' adapters pick recipients with `fastApply`. Returns its counters and `uninstall`, after
 * which everything takes Socket.IO's path again. Installs nothing when Engine.IO compresses websocket
 * frames (`perMessageDeflate`) or when it is already installed on `io`.
 */
export function installFastBroadcast (io: Server): { stats: FastBroadcastStats, uninstall: () => void } {
  const stats: FastBroadcastStats = { fast: 0, fallback: 0 }
  const engine = io.engine as unknown as { opts?: { perMessageDeflate?: unknown } } | undefined
  const own = io as unknown as Record<symbol, FastBroadcastStats | undefined>
  if (own[kInstalled] !== undefined || (engine?.opts?.perMessageDeflate ?? false) !== false) {
    return { stats, uninstall: () => {} }
  }
  let enabled = true

  function fastWriteToEngine (this: ClientLike, encodedPackets: unknown, opts: PacketOptions): void {
    const pre = opts.wsPreEncodedFrame
    if (pre !== undefined && enabled) {
      const conn = this.conn
      let frame = opts[kFrame]
      if (frame === undefined) {
        // Once per broadcast: the single Buffer written to every recipient (null: the Engine.IO server is observed).
        const e = conn.server._events
        frame = opts[kFrame] = e.flush === undefined && e.drain === undefined ? (pre.length === 1 ? pre[0]! : Buffer.concat(pre)) : null
      }
      const t = conn.transport
      if (frame !== null && t.writable && conn.writeBuffer.length === 0 && conn.readyState === 'open' && !conn.upgrading &&
          t.name === 'websocket') {
        const ws = t.socket
        const sender = ws?._sender
        const sock = ws?._socket
        if (ws !== undefined && sender !== undefined && sock !== undefined && ws.readyState === WS_OPEN &&
            sender._state === SENDER_IDLE && sender._queue.length === 0 && sock.writable &&
            unobserved(conn)) {
          // Busy until the write completes, as after Engine.IO's own write: what is emitted to this socket
          // meanwhile queues in Engine.IO's write buffer (and is flushed after this frame), volatile packets
          // are dropped.
          t.writable = false
          sock.write(frame)
          if (sock.writableLength === 0) {
            // The kernel took the whole frame (the common case): Engine.IO's write callback would run on
            // the next tick; one tick callback for the whole broadcast marks these transports writable again.
            settleOnNextTick(t, conn)
          } else {
            // It did not (a slow client): the callback of an empty write runs once everything before it is out.
            sock.write(EMPTY, onSentOf(t, conn))
          }
          stats.fast++
          return
        }
      }
      stats.fallback++
    }
    original.call(this, encodedPackets, opts)
  }

  let original: WriteToEngine
  const patch = (socket: Socket): void => {
    const client = socket.client as unknown as ClientLike
    if (client.writeToEngine === fastWriteToEngine) return
    original ??= Object.getPrototypeOf(client).writeToEngine as WriteToEngine
    client.writeToEngine = fastWriteToEngine
  }
  const patched = new Set<AdapterLike>()
  const watch = (nsp: Namespace): void => {
    nsp.on('connection', patch)
    for (const socket of nsp.sockets.values()) patch(socket)
    const adapter = nsp.adapter as unknown as AdapterLike
    const base = baseApplyOf(adapter)
    if (base !== undefined && adapter.apply === base) {
      adapter.apply = fastApply
      patched.add(adapter)
    }
  }
  for (const nsp of io._nsps.values()) watch(nsp)
  io.on('new_namespace', watch)
  own[kInstalled] = stats
  return {
    stats,
    uninstall: () => {
      enabled = false
      io.off('new_namespace', watch)
      for (const nsp of io._nsps.values()) nsp.off('connection', patch)
      for (const adapter of patched) if (adapter.apply === fastApply) delete (adapter as Partial<AdapterLike>).apply
      delete own[kInstalled]
    }
  }
}

interface AdapterLike {
  nsp: { sockets: Map<string, object> }
  rooms: Map<string, Set<string>>
  computeExceptSids: (except: Set<string> | undefined) => Set<string>
  apply: (opts: { rooms: Set<string>, except?: Set<string> }, callback: (socket: any) => void) => void
}

const kStamp = Symbol('rt.fastBroadcast.stamp')
let lastStamp = 0
let applying = false

/**
 * The in-memory adapter's `apply` (which every adapter of socket.io-adapter inherits: it picks the
 * recipients of a broadcast), when the adapter does not override it; undefined otherwise.
 */
function baseApplyOf (adapter: AdapterLike): AdapterLike['apply'] | undefined {
  let proto = Object.getPrototypeOf(adapter) as Record<string, unknown> | null
  while (proto !== null && Object.getPrototypeOf(proto) !== EventEmitter.prototype) proto = Object.getPrototypeOf(proto) as Record<string, unknown> | null
  if (proto === null || typeof proto.apply !== 'function' || typeof proto.computeExceptSids !== 'function' || typeof proto._encode !== 'function') return undefined
  return proto.apply as AdapterLike['apply']
}

/**
 * `Adapter.prototype.apply` for room broadcasts, with the same recipients in the same order: it marks the
 * sockets it has called back with a number of this call instead of adding their ids to a new Set, which
 * costs about a tenth of the instructions per delivered message. Broadcasts to everyone (no rooms) and
 * calls made from inside a callback (which must not re-mark sockets of the outer call) use the original.
 */
function fastApply (this: AdapterLike, opts: { rooms: Set<string>, except?: Set<string> }, callback: (socket: any) => void): void {
  const rooms = opts.rooms
  if (rooms.size === 0 || applying) {
    (Object.getPrototypeOf(this) as AdapterLike).apply.call(this, opts, callback)
    return
  }
  const except = this.computeExceptSids(opts.except)
  const sockets = this.nsp.sockets
  const stamp = ++lastStamp
  applying = true
  try {
    for (const room of rooms) {
      const ids = this.rooms.get(room)
      if (ids === undefined) continue
      for (const id of ids) {
        if (except.size !== 0 && except.has(id)) continue
        const socket = sockets.get(id) as Record<symbol, number> | undefined
        if (socket !== undefined && socket[kStamp] !== stamp) {
          callback(socket)
          socket[kStamp] = stamp
        }
      }
    }
  } finally {
    applying = false
  }
}

/** The counters of the fast path installed on `io`; undefined when it is not installed. */
export function fastBroadcastStats (io: Server): FastBroadcastStats | undefined {
  return (io as unknown as Record<symbol, FastBroadcastStats | undefined>)[kInstalled]
}

/** No listener on the Engine.IO socket's events this path does not emit (`packetCreate`, `flush`, `drain`). */
function unobserved (conn: EngineSocketLike): boolean {
  const e = conn._events
  return e.packetCreate === undefined && e.flush === undefined && e.drain === undefined
}
