// Patch of Socket.IO's broadcast write path (socket.io 4.8.4, engine.io 6.6.12): one encoded frame per broadcast.
import { EventEmitter } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Socket as NetSocket } from 'node:net'
import { join } from 'node:path'
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
 * Packets for one socket (an acknowledgement, an emit to one socket, the namespace's CONNECT answer) take the
 * same path under the same conditions: Socket.IO encodes them to one string when they carry no binary
 * attachment, and the path frames it as `ws` would frame Engine.IO's message packet (`messageFrame`: `4` and
 * the string in one final, unmasked text frame) instead of Engine.IO's packet, buffer, flush and `ws`'s send.
 * The client is patched in a namespace middleware, so that the CONNECT answer is written this way too.
 *
 * It applies wherever a broadcast ends in `Adapter.prototype.broadcast`/`broadcastWithAck`: the in-memory
 * and session-aware adapters, and the local delivery of the Redis streams adapter, for broadcasts made on
 * this node and those received from other nodes. The adapter still calls `notifyOutgoingListeners` and
 * registers acks before the write; connection-state recovery offsets are inside the encoded packet.
 *
 * Conditions, per recipient; when one fails, Socket.IO's own path is taken:
 * - the packet has a pre-encoded frame, or is a packet for this socket alone encoded to one string (a single
 *   text packet either way: no binary attachments);
 * - the Engine.IO socket is open and not upgrading, its write buffer is empty, and nothing listens to its
 *   `packetCreate`, `flush` or `drain` events, nor to the Engine.IO server's `flush` or `drain`;
 * - its transport is websocket, writable (none of its own writes pending), without permessage-deflate
 *   (with `perMessageDeflate` on the server, the path stays off);
 * - the `ws` socket is open and its sender idle (no frame queued behind a compression or a blob);
 * - the `net.Socket` is writable (not ending or destroyed).
 *
 * With a slow-consumer bound (`options.bound`, src/core/slow-consumers.ts), a recipient that meets these
 * conditions but whose `net.Socket` already holds unwritten bytes, and would hold more than the bound with
 * this frame, is not written: the bound's `overflow` disconnects it. One read of `writableLength` per
 * recipient, which the path reads after its write anyway. The recipients that fail a condition because a
 * write is pending (a slow client's usual state) take Socket.IO's path, where the bound checks `conn.write`.
 *
 * It reads private fields of other packages, so it is total or it is off:
 * - Written and tested for socket.io 4.8.4 (whose `Client.prototype.writeToEngine` it replaces per client),
 *   engine.io 6.6.12, ws 8.21.3 (the copy engine.io uses for connections, and the one socket.io-adapter
 *   builds frames with) and socket.io-adapter 2.5.8 (`testedVersions`; package.json pins them). At install,
 *   the versions actually resolved (socket.io from here, the others from the package that loads them) are
 *   read once from their package.json; any other version leaves the path off, with one warning.
 * - On the first websocket connection, the fields and types it reads are checked on the real objects (the
 *   Engine.IO socket, its transport, the `ws` socket, its sender, the `net.Socket`, the namespace's adapter);
 *   a wrong shape turns the path off, with one warning, before any fast write.
 * - Every read is strict (a missing field fails its condition) or inside a try: an exception falls back to
 *   Socket.IO's write for that recipient and, the path being then off, for the rest of the broadcast. A
 *   write is never made twice: the catch knows whether the frame was written. The path then stays off for
 *   this server (in the product, the process) with one warning: an exception means a shape the checks did
 *   not foresee, which every later message would meet again (a throw per recipient and a flood of logs),
 *   while Socket.IO's path is always right. Callbacks that run later (the tick that marks transports
 *   writable, a slow write's callback) are guarded the same way, so nothing it does can crash the process.
 */

const kFrame = Symbol('rt.fastBroadcast.frame')
const kOnSent = Symbol('rt.fastBroadcast.onSent')

interface WsSender { _state: number, _queue: unknown[] }
interface NetSocketLike { writable: boolean, writableLength: number, errored: Error | null, write: (chunk: Buffer, cb?: (err?: Error | null) => void) => boolean }
interface WsLike { readyState: number, _sender: WsSender | undefined, _socket: NetSocketLike | undefined }
interface TransportLike {
  readonly name: string
  writable: boolean
  socket: WsLike | undefined
  emit: (event: string) => boolean
  onError: (msg: string, desc?: unknown) => void
  listenerCount: (event: string) => number
  [kOnSent]?: (err?: Error | null) => void
}
interface EngineSocketLike {
  readyState: string
  upgrading: boolean
  writeBuffer: unknown[]
  transport: TransportLike
  _events: Record<string | symbol, unknown>
  server: { _events: Record<string | symbol, unknown> }
  once: (event: string, fn: () => void) => unknown
  flush: () => void
}
interface PacketOptions {
  wsPreEncodedFrame?: Buffer[]
  volatile?: boolean
  [kFrame]?: Buffer | null
}
type WriteToEngine = (encodedPackets: unknown, opts: PacketOptions) => void
interface ClientLike { conn: EngineSocketLike, writeToEngine: WriteToEngine }

const kInstalled = Symbol('rt.fastBroadcast.installed')
const kOwner = Symbol('rt.fastBroadcast.owner')
const WS_OPEN = 1
const EMPTY = Buffer.alloc(0)
const SENDER_IDLE = 0

/**
 * The exact versions the path was written and tested for, per package (ws: both copies it depends on).
 * Another version leaves it off; add one here only after `test/core/fast-broadcast*.test.ts` pass with it.
 */
export const testedVersions: Readonly<Record<DependencyName, readonly string[]>> = Object.freeze({
  'socket.io': Object.freeze(['4.8.4']),
  'engine.io': Object.freeze(['6.6.12']),
  ws: Object.freeze(['8.21.3']),
  'socket.io-adapter': Object.freeze(['2.5.8'])
})

type DependencyName = 'socket.io' | 'engine.io' | 'ws' | 'socket.io-adapter'

/** Why the fast path is off: a config choice, a dependency version, a shape seen on a connection, an exception. */
export type FastBroadcastOffReason = 'permessage-deflate' | 'version' | 'shape' | 'error'

/** Counters and state of the fast path on one server (for tests, diagnostics and metrics). */
export interface FastBroadcastStats {
  /** Broadcast deliveries written by the fast path. */
  fast: number
  /**
   * Packets for one socket (acknowledgements, emits to one socket, the namespace's CONNECT) written by the
   * fast path; those that take Socket.IO's path are not counted.
   */
  unicast: number
  /** Deliveries of pre-encoded broadcasts that took Socket.IO's path while the fast path was on (a condition failed, or an exception). */
  fallback: number
  /** True once the shapes were confirmed on a first websocket connection (no fast write happens before). */
  checked: boolean
  /** Null while the path is on (or waiting for its first websocket connection); why it is off otherwise. */
  disabled: { reason: FastBroadcastOffReason, message: string } | null
}

/** Where the fast path logs the one line that says it turned off (pino's `warn(obj, msg)`). */
export interface FastBroadcastLog { warn: (obj: object, msg: string) => void }

/**
 * A bound on the bytes buffered per connection (src/core/slow-consumers.ts): a recipient whose connection
 * holds bytes not yet written, and would hold more than `maxBufferedBytes` with the frame, is not written;
 * `overflow` is called instead (it disconnects the client).
 */
export interface FastBroadcastBound {
  readonly maxBufferedBytes: number
  overflow: (conn: object, bufferedBytes: number, nextBytes: number) => void
}

export interface FastBroadcastOptions {
  /** Receives the one warning when the path turns off. Default: `process.emitWarning`. */
  log?: FastBroadcastLog
  /** The slow-consumer bound to respect (the same as on Socket.IO's path); none by default. */
  bound?: FastBroadcastBound
  /** @internal For tests: the versions to accept instead of `testedVersions`. */
  testedVersions?: Readonly<Record<string, readonly string[]>>
}

const processWarning: FastBroadcastLog = { warn: (_obj, msg) => { process.emitWarning(msg) } }

/**
 * Installs the fast path on `io`, after its adapter is set (`io.adapter(...)` replaces the adapters):
 * every client connecting to a namespace of `io`, present or future, writes broadcasts this way, and the
 * namespaces' adapters pick recipients with `fastApply`. Returns its counters and `uninstall`, after
 * which everything takes Socket.IO's path again. Stays off (with `stats.disabled` saying why) when Engine.IO
 * compresses websocket frames (`perMessageDeflate`) or a dependency is not at a tested version; a second
 * install on the same `io` is a no-op.
 *
 * @example
 * const { stats } = installFastBroadcast(io, { log: app.log })
 */
export function installFastBroadcast (io: Server, options: FastBroadcastOptions = {}): { stats: FastBroadcastStats, uninstall: () => void } {
  const stats: FastBroadcastStats = { fast: 0, unicast: 0, fallback: 0, checked: false, disabled: null }
  const noop = { stats, uninstall: () => {} }
  const own = io as unknown as Record<symbol, FastBroadcastStats | undefined>
  if (own[kInstalled] !== undefined) return noop
  own[kInstalled] = stats
  const log = options.log ?? processWarning
  const engine = io.engine as unknown as { opts?: { perMessageDeflate?: unknown } } | undefined
  if ((engine?.opts?.perMessageDeflate ?? false) !== false) {
    // A configuration choice, not a fault: no warning.
    stats.disabled = { reason: 'permessage-deflate', message: 'Engine.IO compresses websocket frames (perMessageDeflate)' }
    return noop
  }
  const deps = dependencies()
  const wrong = versionProblems(deps, options.testedVersions ?? testedVersions)
  if (wrong.length > 0) {
    const message = `fast broadcast off: ${wrong.map((w) => `${w.package} ${w.found} (${w.usedBy}) is not a tested version (tested: ${w.tested.length === 0 ? 'none' : w.tested.join(', ')})`).join('; ')}; Socket.IO's own write path is used`
    stats.disabled = { reason: 'version', message }
    log.warn({ versions: wrong }, message)
    return noop
  }
  const modules = deps.modules!
  const bound = options.bound
  const maxBuffered = bound?.maxBufferedBytes ?? 0

  /** False until the shapes are checked on a first websocket connection, and again once off. */
  let enabled = false
  let off = false

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
      try {
        // A write that failed at once (EPIPE, ECONNRESET) errored the net.Socket: Engine.IO's write callback
        // would get that error, and close the transport as 'transport error'.
        const err = t.socket?._socket?.errored
        if (err !== undefined && err !== null) t.onError('write error', err.stack)
        else release(t, list[i + 1] as EngineSocketLike)
      } catch (err) {
        recover(t, list[i + 1] as EngineSocketLike, err)
      }
    }
  }

  /** The callback of a fast write that did not complete at once, one per transport. */
  function onSentOf (t: TransportLike, conn: EngineSocketLike): (err?: Error | null) => void {
    let fn = t[kOnSent]
    if (fn === undefined) {
      fn = (err) => {
        try {
          if (err !== undefined && err !== null) t.onError('write error', err.stack)
          else release(t, conn)
        } catch (thrown) {
          recover(t, conn, thrown)
        }
      }
      t[kOnSent] = fn
    }
    return fn
  }

  /**
   * After an exception in a later callback: the path turns off, and the transport is released as
   * Engine.IO's own callback would (a flush of what queued meanwhile is a no-op when nothing did, or when
   * the socket is closed), so that the connection is not left busy for ever.
   */
  function recover (t: TransportLike, conn: EngineSocketLike, err: unknown): void {
    turnOff('error', err)
    try {
      t.writable = true
      t.emit('ready')
    } catch {
      try { conn.flush() } catch {} // what 'ready' would have done; logged once by turnOff
    }
  }

  function fastWriteToEngine (this: ClientLike, encodedPackets: unknown, opts: PacketOptions): void {
    if (enabled) {
      const pre = opts.wsPreEncodedFrame
      if (pre !== undefined) {
        const written = writeFrame(this, pre, opts)
        if (written === true) stats.fast++
        else if (written === false) stats.fallback++
        if (written !== false) return
      } else {
        // A packet for this socket alone (an acknowledgement, an emit to one socket, the namespace's CONNECT):
        // Socket.IO's encoder gives one string when the packet has no binary attachment.
        const text = Array.isArray(encodedPackets) ? (encodedPackets.length === 1 ? encodedPackets[0] : undefined) : encodedPackets
        if (typeof text === 'string') {
          const written = writeFrame(this, text, opts)
          if (written === true) stats.unicast++
          if (written !== false) return
        }
      }
    }
    original.call(this, encodedPackets, opts)
  }

  /**
   * Writes one WebSocket frame to the client's connection when Engine.IO would write it at once: `pre`, a
   * broadcast's pre-encoded frame (one Buffer per broadcast, kept in `opts`), or `text`, a packet Socket.IO
   * encoded for this client alone (framed here, as `ws` would frame Engine.IO's message packet). True when
   * written (an exception after the write included: it is not written twice); false when Socket.IO's path
   * must write it; null when the slow-consumer bound dropped it.
   */
  function writeFrame (client: ClientLike, frameOf: Buffer[] | string, opts: PacketOptions): boolean | null {
    // What a throw leaves done: 0 nothing, 1 the transport marked busy, 2 the frame written.
    let stage = 0
    let t: TransportLike | undefined
    let conn: EngineSocketLike | undefined
    let sock: NetSocketLike | undefined
    try {
      conn = client.conn
      // A broadcast's Buffer is made once per broadcast (null: the Engine.IO server is observed); a packet for one
      // socket is framed only once the conditions below hold.
      let frame: Buffer | undefined
      if (typeof frameOf === 'string') {
        if (serverObserved(conn)) return false
      } else {
        let made = opts[kFrame]
        if (made === undefined) made = opts[kFrame] = serverObserved(conn) ? null : frameOf.length === 1 ? frameOf[0]! : Buffer.concat(frameOf)
        if (made === null) return false
        frame = made
      }
      t = conn.transport
      if (t.writable !== true || conn.writeBuffer.length !== 0 || conn.readyState !== 'open' || conn.upgrading !== false ||
          t.name !== 'websocket') return false
      const ws = t.socket
      const sender = ws?._sender
      sock = ws?._socket
      if (ws === undefined || sender === undefined || sock === undefined || ws.readyState !== WS_OPEN ||
          sender._state !== SENDER_IDLE || sender._queue.length !== 0 || sock.writable !== true || !unobserved(conn)) return false
      frame ??= messageFrame(frameOf as string)
      if (maxBuffered !== 0) {
        // The slow-consumer bound: here the write buffer is empty and the sender idle, so what waits is
        // the net.Socket's queue (0 but for a slow client); a frame is always written on an empty one.
        const waiting = sock.writableLength
        if (waiting !== 0 && waiting + frame.length > maxBuffered) {
          bound!.overflow(conn, waiting, frame.length)
          return null
        }
      }
      // Busy until the write completes, as after Engine.IO's own write: what is emitted to this socket
      // meanwhile queues in Engine.IO's write buffer (and is flushed after this frame), volatile packets
      // are dropped.
      t.writable = false
      stage = 1
      sock.write(frame)
      stage = 2
      if (sock.writableLength === 0) {
        // The kernel took the whole frame (the common case): Engine.IO's write callback would run on
        // the next tick; one tick callback for the whole broadcast marks these transports writable again.
        settleOnNextTick(t, conn)
      } else {
        // It did not (a slow client): the callback of an empty write runs once everything before it is out.
        sock.write(EMPTY, onSentOf(t, conn))
      }
      return true
    } catch (err) {
      turnOff('error', err)
      if (stage === 2) {
        // The frame is out: writing it again would deliver it twice. Release the transport once it is written.
        try { sock!.write(EMPTY, onSentOf(t!, conn!)) } catch { settleOnNextTick(t!, conn!) }
        return true
      }
      if (stage === 1) {
        try { t!.writable = true } catch {} // as it was: Socket.IO's write below must not find it busy
      }
      return false
    }
  }

  let original: WriteToEngine
  const patchClient = (socket: Socket): void => {
    const client = socket.client as unknown as ClientLike
    if (client.writeToEngine === fastWriteToEngine) return
    original ??= Object.getPrototypeOf(client).writeToEngine as WriteToEngine
    client.writeToEngine = fastWriteToEngine
  }
  /**
   * The client is patched in a namespace middleware, before Socket.IO answers the namespace's CONNECT (which
   * then takes the fast path too), and checked at its `connection` until the first websocket connection has
   * been: the check reads the socket in its rooms. Where middlewares may be skipped (connection-state recovery
   * with `skipMiddlewares`), every `connection` patches too.
   */
  const early = (socket: Socket, next: (err?: Error) => void): void => {
    if (!off) patchClient(socket)
    next()
  }
  const patch = (socket: Socket): void => {
    patchClient(socket)
    if (!stats.checked) checkOnWebsocket(socket)
  }
  const recovery = (io as unknown as { opts?: { connectionStateRecovery?: { skipMiddlewares?: boolean } } }).opts?.connectionStateRecovery
  const middlewaresSkipped = recovery !== undefined && recovery.skipMiddlewares !== false
  const watching = (): boolean => middlewaresSkipped || !stats.checked

  /** The self-check, on the first connection that is (or upgrades to) websocket: nothing is written fast before. */
  const checkOnWebsocket = (socket: Socket): void => {
    const conn = socket.conn as unknown as EngineSocketLike
    const run = (): void => {
      if (stats.checked || off) return
      stats.checked = true
      const problem = shapeProblem(socket, modules)
      if (problem === undefined) enabled = true
      else turnOff('shape', problem)
      // Checked: the namespace middleware patches every client from now on.
      if (!watching()) for (const nsp of io._nsps.values()) nsp.off('connection', patch)
    }
    try {
      if (conn.transport.name === 'websocket') run()
      else conn.once('upgrade', run)
    } catch (err) {
      turnOff('shape', `the Engine.IO socket's transport or once() threw ${(err as Error).message}`)
    }
  }

  const patched = new Set<AdapterLike>()
  const watch = (nsp: Namespace): void => {
    nsp.use(early)
    if (watching()) nsp.on('connection', patch)
    for (const socket of nsp.sockets.values()) patch(socket)
    const adapter = nsp.adapter as unknown as AdapterLike
    const base = baseApplyOf(adapter)
    if (base !== undefined && adapter.apply === base) {
      adapter.apply = fastApply
      adapter[kOwner] = (err: unknown) => { turnOff('error', err) }
      patched.add(adapter)
    }
  }

  /** Everything takes Socket.IO's path again: no new client is patched, patched ones and adapters are restored. */
  function detach (): void {
    enabled = false
    off = true
    io.off('new_namespace', watch)
    for (const nsp of io._nsps.values()) {
      nsp.off('connection', patch)
      for (const socket of nsp.sockets.values()) {
        const client = socket.client as unknown as Partial<ClientLike>
        if (client.writeToEngine === fastWriteToEngine) delete client.writeToEngine
      }
    }
    for (const adapter of patched) {
      if (adapter.apply === fastApply) delete (adapter as Partial<AdapterLike>).apply
      delete adapter[kOwner]
    }
    patched.clear()
  }

  /** Turns the path off for this server, with one warning line; later calls (and after uninstall) do nothing. */
  function turnOff (reason: 'shape' | 'error', cause: unknown): void {
    if (off) return
    detach()
    const message = reason === 'shape'
      ? `fast broadcast off: unexpected shape on the first websocket connection: ${String(cause)}; Socket.IO's own write path is used`
      : `fast broadcast off after an exception (${cause instanceof Error ? cause.message : String(cause)}); Socket.IO's own write path is used from now on`
    stats.disabled = { reason, message }
    log.warn(reason === 'error' ? { err: cause } : { shape: String(cause) }, message)
  }

  for (const nsp of io._nsps.values()) watch(nsp)
  io.on('new_namespace', watch)
  return {
    stats,
    uninstall: () => {
      if (!off) detach()
      delete own[kInstalled]
    }
  }
}

interface AdapterLike {
  nsp: { sockets: Map<string, object> }
  rooms: Map<string, Set<string>>
  computeExceptSids: (except: Set<string> | undefined) => Set<string>
  apply: (opts: { rooms: Set<string>, except?: Set<string> }, callback: (socket: any) => void) => void
  [kOwner]?: (err: unknown) => void
}

const kStamp = Symbol('rt.fastBroadcast.stamp')
let lastStamp = 0
let applying = false

/**
 * The in-memory adapter's `apply` (which every adapter of socket.io-adapter inherits: it picks the
 * recipients of a broadcast), when the adapter does not override it; undefined otherwise.
 */
function baseApplyOf (adapter: AdapterLike): AdapterLike['apply'] | undefined {
  const proto = baseAdapterPrototype(adapter)
  if (proto === null || typeof proto.apply !== 'function' || typeof proto.computeExceptSids !== 'function' || typeof proto._encode !== 'function') return undefined
  return proto.apply as AdapterLike['apply']
}

/** The prototype of socket.io-adapter's `Adapter` that `adapter` descends from (the last before EventEmitter's). */
function baseAdapterPrototype (adapter: object): Record<string, unknown> | null {
  let proto = Object.getPrototypeOf(adapter) as Record<string, unknown> | null
  while (proto !== null && Object.getPrototypeOf(proto) !== EventEmitter.prototype) proto = Object.getPrototypeOf(proto) as Record<string, unknown> | null
  return proto
}

/**
 * `Adapter.prototype.apply` for room broadcasts, with the same recipients in the same order: it marks the
 * sockets it has called back with a number of this call instead of adding their ids to a new Set, which
 * costs about a tenth of the instructions per delivered message. Broadcasts to everyone (no rooms) and
 * calls made from inside a callback (which must not re-mark sockets of the outer call) use the original.
 * The adapter's fields are read, and their types checked, once per broadcast before any recipient is called
 * back: a surprise there turns the path off and the original picks the recipients.
 */
function fastApply (this: AdapterLike, opts: { rooms: Set<string>, except?: Set<string> }, callback: (socket: any) => void): void {
  let rooms: Set<string> | undefined, except: Set<string>, sockets: Map<string, object>, roomMap: Map<string, Set<string>>
  try {
    rooms = opts.rooms
    if (rooms.size === 0 || applying) {
      rooms = undefined
    } else {
      except = this.computeExceptSids(opts.except)
      sockets = this.nsp.sockets
      roomMap = this.rooms
      if (!(except instanceof Set) || !(sockets instanceof Map) || !(roomMap instanceof Map)) throw new TypeError('the adapter\'s rooms, except set or namespace sockets are not a Map/Set')
    }
  } catch (err) {
    rooms = undefined
    this[kOwner]?.(err)
  }
  if (rooms === undefined) {
    (Object.getPrototypeOf(this) as AdapterLike).apply.call(this, opts, callback)
    return
  }
  const stamp = ++lastStamp
  applying = true
  try {
    for (const room of rooms) {
      const ids = roomMap!.get(room)
      if (ids === undefined) continue
      for (const id of ids) {
        if (except!.size !== 0 && except!.has(id)) continue
        const socket = sockets!.get(id) as Record<symbol, number> | undefined
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

/** The counters and state of the fast path installed on `io`; undefined when it is not installed. */
export function fastBroadcastStats (io: Server): FastBroadcastStats | undefined {
  return (io as unknown as Record<symbol, FastBroadcastStats | undefined>)[kInstalled]
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

/** A listener on the Engine.IO server's `flush` or `drain`, which this path does not emit. */
function serverObserved (conn: EngineSocketLike): boolean {
  const e = conn.server._events
  return e.flush !== undefined || e.drain !== undefined
}

/** No listener on the Engine.IO socket's events this path does not emit (`packetCreate`, `flush`, `drain`). */
function unobserved (conn: EngineSocketLike): boolean {
  const e = conn._events
  return e.packetCreate === undefined && e.flush === undefined && e.drain === undefined
}

/**
 * The WebSocket frame `ws` writes for Engine.IO's message packet of `text` (`4` and the text): a final text
 * frame, unmasked, uncompressed, its length in 7, 16 or 64 bits; one Buffer.
 */
export function messageFrame (text: string): Buffer {
  const length = Buffer.byteLength(text) + 1
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10
  const frame = Buffer.allocUnsafe(head + length)
  frame[0] = 0x81
  if (head === 2) {
    frame[1] = length
  } else if (head === 4) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeUInt32BE(Math.floor(length / 0x100000000), 2)
    frame.writeUInt32BE(length >>> 0, 6)
  }
  frame[head] = 0x34 // '4': Engine.IO's message packet
  frame.write(text, head + 1, 'utf8')
  return frame
}

// ---- Versions, read once per process from the package.json of each copy actually loaded ----

interface Dependency { package: DependencyName, usedBy: string, found: string }
interface Modules {
  EngineSocket: abstract new (...args: never[]) => unknown
  WebSocket: abstract new (...args: never[]) => unknown
  Adapter: { prototype: object }
}
interface Dependencies { found: Dependency[], modules: Modules | undefined }

let resolved: Dependencies | undefined

/**
 * socket.io as this module resolves it, engine.io and socket.io-adapter as socket.io does, ws as engine.io
 * (connections) and socket.io-adapter (frames) do: the copies in use, whatever the hoisting.
 */
function dependencies (): Dependencies {
  if (resolved !== undefined) return resolved
  const found: Dependency[] = []
  const locate = (from: string | undefined, name: DependencyName, usedBy: string): string | undefined => {
    const dir = from === undefined ? undefined : packageDir(from.startsWith('file:') ? from : join(from, 'package.json'), name)
    let version = 'not found'
    if (dir !== undefined) {
      try { version = String((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown }).version) } catch {}
    }
    found.push({ package: name, usedBy, found: version })
    return dir
  }
  const sio = locate(import.meta.url, 'socket.io', 'the server')
  const eio = locate(sio, 'engine.io', 'used by socket.io')
  const adapter = locate(sio, 'socket.io-adapter', 'used by socket.io')
  const ws = locate(eio, 'ws', 'used by engine.io')
  locate(adapter, 'ws', 'used by socket.io-adapter')
  let modules: Modules | undefined
  try {
    if (eio !== undefined && ws !== undefined && adapter !== undefined) {
      const load = (dir: string): any => createRequire(join(dir, 'package.json'))(dir)
      modules = { EngineSocket: load(eio).Socket, WebSocket: load(ws).WebSocket, Adapter: load(adapter).Adapter }
    }
  } catch {} // reported as a shape problem on the first connection
  resolved = { found, modules }
  return resolved
}

/** The directory of package `name` as Node resolves it from the file `from` (ignoring `exports`, which may hide package.json). */
function packageDir (from: string, name: string): string | undefined {
  for (const dir of createRequire(from).resolve.paths(name) ?? []) {
    if (existsSync(join(dir, name, 'package.json'))) return join(dir, name)
  }
  return undefined
}

function versionProblems (deps: Dependencies, tested: Readonly<Record<string, readonly string[]>>): Array<Dependency & { tested: readonly string[] }> {
  const wrong: Array<Dependency & { tested: readonly string[] }> = []
  for (const d of deps.found) {
    const ok = tested[d.package] ?? []
    if (!ok.includes(d.found)) wrong.push({ ...d, tested: ok })
  }
  return wrong
}

// ---- The shapes, checked once on a real websocket connection ----

const isObject = (x: unknown): x is Record<string | symbol, unknown> => typeof x === 'object' && x !== null

/** What is wrong with the fields and types the path reads, on `socket`'s connection; undefined when nothing is. */
function shapeProblem (socket: Socket, modules: Modules | undefined): string | undefined {
  try {
    if (modules === undefined || typeof modules.EngineSocket !== 'function' || typeof modules.WebSocket !== 'function' || typeof modules.Adapter?.prototype !== 'object') {
      return 'engine.io, ws or socket.io-adapter does not export Socket, WebSocket or Adapter'
    }
    const client = socket.client as unknown as Record<string, unknown>
    const conn = client.conn as Record<string, unknown>
    if (conn !== (socket.conn as unknown) || typeof Object.getPrototypeOf(client).writeToEngine !== 'function') return 'socket.io client: conn or Client.prototype.writeToEngine'
    if (!(conn instanceof modules.EngineSocket)) return 'engine.io socket: not an instance of the checked engine.io\'s Socket'
    if (conn.readyState !== 'open') return `engine.io socket: readyState ${String(conn.readyState)}, expected 'open'`
    if (conn.upgrading !== false) return 'engine.io socket: upgrading is not false'
    if (!Array.isArray(conn.writeBuffer)) return 'engine.io socket: writeBuffer is not an array'
    if (!isObject(conn._events)) return 'engine.io socket: _events is not an object'
    if (!isObject(conn.server) || !isObject(conn.server._events)) return 'engine.io socket: server._events is not an object'
    const t = conn.transport as Record<string, unknown>
    if (!isObject(t) || t.name !== 'websocket') return 'engine.io socket: transport.name is not \'websocket\''
    if (typeof t.writable !== 'boolean') return 'websocket transport: writable is not a boolean'
    if (typeof t.emit !== 'function' || typeof t.onError !== 'function') return 'websocket transport: emit or onError is not a function'
    if ((t as unknown as TransportLike).listenerCount('ready') === 0) return 'websocket transport: nothing listens to \'ready\' (Engine.IO\'s flush)'
    const ws = t.socket as Record<string, unknown>
    if (!(ws instanceof modules.WebSocket)) return 'websocket transport: socket is not a ws WebSocket of the checked ws'
    if (ws.readyState !== WS_OPEN) return 'ws: readyState is not OPEN (1)'
    const sender = ws._sender as Record<string, unknown>
    if (!isObject(sender) || typeof sender._state !== 'number' || !Array.isArray(sender._queue)) return 'ws: _sender._state is not a number or _sender._queue not an array'
    const sock = ws._socket as Record<string, unknown>
    if (!(sock instanceof NetSocket)) return 'ws: _socket is not a net.Socket'
    if (typeof sock.writable !== 'boolean' || typeof sock.writableLength !== 'number' || sock.errored !== null || typeof sock.write !== 'function') {
      return 'net.Socket: writable, writableLength, errored (null on a new connection) or write'
    }
    const adapter = socket.nsp.adapter as unknown as Record<string, unknown>
    const proto = baseAdapterPrototype(adapter)
    if (proto !== modules.Adapter.prototype) return 'adapter: does not descend from the checked socket.io-adapter\'s Adapter'
    if (typeof proto.apply !== 'function' || typeof proto.computeExceptSids !== 'function' || typeof proto._encode !== 'function') {
      return 'adapter: Adapter.prototype.apply, computeExceptSids or _encode is not a function'
    }
    const rooms = adapter.rooms
    const nsp = adapter.nsp as Record<string, unknown> | undefined
    if (!(rooms instanceof Map) || !(rooms.get(socket.id) instanceof Set)) return 'adapter: rooms is not a Map of Sets'
    if (!isObject(nsp) || !(nsp.sockets instanceof Map) || nsp.sockets.get(socket.id) !== socket) return 'adapter: nsp.sockets is not a Map of the namespace\'s sockets'
    return undefined
  } catch (err) {
    return `the check threw ${(err as Error).message}`
  }
}
