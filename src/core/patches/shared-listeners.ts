// Patch of the per-connection listeners of Engine.IO (its socket's on the transport, its websocket transport's on ws,
// its handshake's) and of Socket.IO's client (on its connection and decoder), engine.io 6.6 and socket.io 4.8:
// functions shared by every connection instead of bound copies and closures made for each one.
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Server } from 'socket.io'
import { compactListeners, freshListenerTable } from './listener-tables.js'
import { installCorkedFlush } from './corked-flush.js'

/**
 * On each emitter a shared listener hears, what it serves: on ws's WebSocket its Engine.IO transport, on the
 * transport its Engine.IO socket, on the Engine.IO socket and on the decoder the Socket.IO client.
 */
const kOwner = Symbol('rt.sharedListeners.owner')
/** Set on the Engine.IO and Socket.IO servers whose connections take the shared listeners. */
const kShared = Symbol('rt.sharedListeners')

type Fn = (...args: any[]) => unknown
interface EmitterLike {
  on: (event: string, fn: Fn) => unknown
  removeListener: (event: string, fn: Fn) => unknown
}
interface TransportLike extends EmitterLike { [kOwner]?: EngineSocketLike }
interface EngineSocketLike extends EmitterLike {
  [kOwner]?: ClientLike
  server: { [kShared]?: true } | null
  transport: TransportLike
  cleanupFn: Array<() => void>
  onError: (...args: unknown[]) => void
  onPacket: (packet: unknown) => void
  onDrain: () => void
  onClose: (...args: unknown[]) => void
  flush: () => void
}
interface DecoderLike extends EmitterLike { [kOwner]?: ClientLike }
interface WsLike extends EmitterLike {
  [kOwner]?: WsTransportLike
  send: (data: unknown, cb: (err?: Error) => void) => void
}
interface WsTransportLike extends TransportLike {
  socket: WsLike
  writable: boolean
  perMessageDeflate: unknown
  _doSend: (data: unknown) => void
  _doSendLast: (data: unknown) => void
  _onSent: (err?: Error) => void
  _onSentLast: (err?: Error) => void
  onError: (...args: unknown[]) => void
  onClose: (...args: unknown[]) => void
  emit: (event: string) => boolean
}
interface EngineLike {
  clients: Record<string, unknown>
  clientsCount: number
  createTransport: (name: string, req: { websocket?: WsLike }) => unknown
  handshake?: unknown
  on: (event: 'connection', fn: (conn: EngineSocketLike & { id: string, server: EngineLike }) => void) => void
}
interface EngineModule {
  Socket?: { prototype: Proto<EngineSocketLike> }
  Transport?: { prototype: { onData?: (this: WsTransportLike, data: unknown) => void } }
  transports?: { websocket?: unknown }
}
interface ClientLike {
  server: { [kShared]?: true, _connectTimeout: number }
  conn: EngineSocketLike
  decoder: DecoderLike
  nsps: { size: number }
  connectTimeout: ReturnType<typeof setTimeout> | undefined
  close: () => void
  ondata: (data: unknown) => void
  onerror: (err: unknown) => void
  onclose: (reason: unknown, description: unknown) => void
  ondecoded: (packet: unknown) => void
}
interface Proto<T> { [kShared]?: true, setTransport?: (this: T, transport: TransportLike) => void, setup?: (this: T) => void, destroy?: (this: T) => void }

// The Engine.IO socket's listeners on its transport (`this` is the transport). `error` and `close` are heard once,
// as Engine.IO's `once` heard them: each removes itself before it runs.
function onTransportError (this: TransportLike, ...args: unknown[]): void {
  this.removeListener('error', onTransportError)
  this[kOwner]!.onError(...args)
}
function onTransportReady (this: TransportLike): void { this[kOwner]!.flush() }
function onTransportPacket (this: TransportLike, packet: unknown): void { this[kOwner]!.onPacket(packet) }
function onTransportDrain (this: TransportLike): void { this[kOwner]!.onDrain() }
function onTransportClose (this: TransportLike, ...args: unknown[]): void {
  this.removeListener('close', onTransportClose)
  this[kOwner]!.onClose('transport close', ...args)
}

// Engine.IO's websocket transport's listeners on its ws WebSocket (`this` is the WebSocket); `close` heard once.
let transportOnData: (this: WsTransportLike, data: unknown) => void
function onWsMessage (this: WsLike, data: Buffer, isBinary: boolean): void {
  transportOnData.call(this[kOwner]!, isBinary ? data : data.toString())
}
function onWsClose (this: WsLike, ...args: unknown[]): void {
  this.removeListener('close', onWsClose)
  this[kOwner]!.onClose(...args)
}
function onWsError (this: WsLike, ...args: unknown[]): void { this[kOwner]!.onError(...args) }

/** The Engine.IO server forgets a closed connection (`this` is the Engine.IO socket); heard once. */
function onConnForget (this: EngineSocketLike & { id: string, server: EngineLike }): void {
  this.removeListener('close', onConnForget)
  delete this.server.clients[this.id]
  this.server.clientsCount--
}

// The Socket.IO client's listeners on its Engine.IO socket and its decoder (`this` is the emitter).
function onConnData (this: EngineSocketLike, data: unknown): void { this[kOwner]!.ondata(data) }
function onConnError (this: EngineSocketLike, err: unknown): void { this[kOwner]!.onerror(err) }
function onConnClose (this: EngineSocketLike, reason: unknown, description: unknown): void { this[kOwner]!.onclose(reason, description) }
function onDecoded (this: DecoderLike, packet: unknown): void { this[kOwner]!.ondecoded(packet) }

/**
 * Per connection, Engine.IO and Socket.IO make listeners that are the same functions every time, bound to the
 * connection or closing over it:
 * - Engine.IO's socket listens to its transport with five (four `bind`s and an arrow; `error` and `close` through
 *   `once`, whose wrapper is a bound function with a state object) and keeps a closure over all five to remove them;
 * - its websocket transport listens to ws's WebSocket with three (an arrow for `message`, a bound `onClose` through
 *   `once`, a bound `onError`);
 * - its server's handshake adds a `close` listener to the socket (through `once`) that forgets it, and a `headers`
 *   listener to the transport, which only a polling transport ever emits;
 * - Socket.IO's `Client` binds four of its methods and keeps them as its own properties, to listen to its Engine.IO
 *   socket (`data`, `error`, `close`) and its decoder (`decoded`).
 * About 1.4 kB of heap per idle connection in all.
 *
 * Here every connection gets the same functions, which find their connection through one symbol property of the
 * emitter they listen to (`this`, as `EventEmitter` and the decoder's emitter call listeners): the same events, in
 * the same order, with the same arguments, heard as often (`once` listeners remove themselves before they run).
 * Removal is by the same functions: `setTransport`'s clean-up closure now holds only the transport, and
 * `Client.destroy` removes the shared listeners. Nothing else reads the bound functions (Socket.IO calls `onclose`
 * and `onerror` as methods). The handshake's two listeners cannot be kept from being made: at the `connection` event
 * the `close` one is replaced by a shared one in the same place (first), and the websocket transport's `headers`
 * one is removed.
 *
 * Each part is installed only when the source it replaces is the one it was written for (engine.io 6.6's
 * `Socket.setTransport`, websocket transport and handshake, socket.io 4.8's `Client.setup` and `destroy`; the
 * handshake's listeners are then found by their place and shape at each connection); the prototypes' replacements
 * act only for the servers given here, and the websocket transport is made by this server's own
 * `createTransport`: any other server in the process keeps the libraries' own code. Answers which of the first three parts were installed.
 */
export function installSharedListeners (io: Server): { transport: boolean, client: boolean, websocket: boolean } {
  const { engine, client: clientProto } = modules()
  const server = io.engine as unknown as EngineLike & { [kShared]?: true }
  const transport = engine?.Socket !== undefined && patchSetTransport(engine.Socket.prototype)
  // What these servers' sockets flush at once to a websocket leaves in one system call (corked-flush.ts).
  if (transport) installCorkedFlush(engine.Socket!.prototype, (s) => (s as EngineLike & { [kShared]?: true } | undefined)?.[kShared] === true)
  const client = clientProto !== undefined && patchClient(clientProto)
  if (transport) server[kShared] = true
  if (client) (io as unknown as { [kShared]?: true })[kShared] = true
  const websocket = engine !== undefined && leanWebSocket(server, engine)
  if (HANDSHAKE_SHAPE.test(String(server.handshake))) server.on('connection', shareHandshakeListeners)
  return { transport, client, websocket }
}

/** engine.io 6.6's `setTransport`: the five listeners, `error` and `close` with `once`, and their clean-up. */
const SET_TRANSPORT_SHAPE = /const onError = this\.onError\.bind\(this\);\s*const onReady = \(\) => this\.flush\(\);\s*const onPacket = this\.onPacket\.bind\(this\);\s*const onDrain = this\.onDrain\.bind\(this\);\s*const onClose = this\.onClose\.bind\(this, "transport close"\);\s*this\.transport = transport;\s*this\.transport\.once\("error", onError\);\s*this\.transport\.on\("ready", onReady\);\s*this\.transport\.on\("packet", onPacket\);\s*this\.transport\.on\("drain", onDrain\);\s*this\.transport\.once\("close", onClose\);\s*this\.cleanupFn\.push\(function \(\) \{\s*transport\.removeListener\("error", onError\);\s*transport\.removeListener\("ready", onReady\);\s*transport\.removeListener\("packet", onPacket\);\s*transport\.removeListener\("drain", onDrain\);\s*transport\.removeListener\("close", onClose\);\s*\}\);\s*\}$/

function patchSetTransport (proto: Proto<EngineSocketLike>): boolean {
  if (proto[kShared] === true) return true
  const original = proto.setTransport
  if (typeof original !== 'function' || !SET_TRANSPORT_SHAPE.test(String(original))) return false
  proto.setTransport = function setTransport (this: EngineSocketLike, transport: TransportLike): void {
    if (this.server?.[kShared] !== true) { original.call(this, transport); return }
    // Both emitters are new here, or have no listener left (a transport that was upgraded to): fast tables.
    freshListenerTable(this)
    freshListenerTable(transport)
    this.transport = transport
    transport[kOwner] = this
    transport.on('error', onTransportError)
    transport.on('ready', onTransportReady)
    transport.on('packet', onTransportPacket)
    transport.on('drain', onTransportDrain)
    transport.on('close', onTransportClose)
    this.cleanupFn.push(() => {
      transport.removeListener('error', onTransportError)
      transport.removeListener('ready', onTransportReady)
      transport.removeListener('packet', onTransportPacket)
      transport.removeListener('drain', onTransportDrain)
      transport.removeListener('close', onTransportClose)
    })
  }
  proto[kShared] = true
  return true
}

/** socket.io 4.8's `Client.setup` (four bound methods as listeners, then the connect timeout) and `destroy`. */
const SETUP_SHAPE = /this\.onclose = this\.onclose\.bind\(this\);\s*this\.ondata = this\.ondata\.bind\(this\);\s*this\.onerror = this\.onerror\.bind\(this\);\s*this\.ondecoded = this\.ondecoded\.bind\(this\);\s*(\/\/[^\n]*\s*)?this\.decoder\.on\("decoded", this\.ondecoded\);\s*this\.conn\.on\("data", this\.ondata\);\s*this\.conn\.on\("error", this\.onerror\);\s*this\.conn\.on\("close", this\.onclose\);\s*this\.connectTimeout = setTimeout\(\(\) => \{\s*if \(this\.nsps\.size === 0\) \{[^}]*this\.close\(\);\s*\}\s*else \{[^}]*\}\s*\}, this\.server\._connectTimeout\);\s*\}$/
const DESTROY_SHAPE = /this\.conn\.removeListener\("data", this\.ondata\);\s*this\.conn\.removeListener\("error", this\.onerror\);\s*this\.conn\.removeListener\("close", this\.onclose\);\s*(\/\/[^\n]*\s*)?this\.decoder\.removeListener\("decoded", this\.ondecoded\);\s*if \(this\.connectTimeout\) \{\s*clearTimeout\(this\.connectTimeout\);\s*this\.connectTimeout = undefined;\s*\}\s*\}$/

function patchClient (proto: Proto<ClientLike>): boolean {
  if (proto[kShared] === true) return true
  const { setup, destroy } = proto
  if (typeof setup !== 'function' || typeof destroy !== 'function' || !SETUP_SHAPE.test(String(setup)) || !DESTROY_SHAPE.test(String(destroy))) return false
  proto.setup = function (this: ClientLike): void {
    if (this.server[kShared] !== true) { setup.call(this); return }
    this.conn[kOwner] = this
    this.decoder[kOwner] = this
    this.decoder.on('decoded', onDecoded)
    this.conn.on('data', onConnData)
    this.conn.on('error', onConnError)
    this.conn.on('close', onConnClose)
    // A client that has joined no namespace by then is closed, as Socket.IO's own setup does.
    this.connectTimeout = setTimeout(() => { if (this.nsps.size === 0) this.close() }, this.server._connectTimeout)
  }
  proto.destroy = function (this: ClientLike): void {
    if (this.conn[kOwner] !== this) { destroy.call(this); return }
    this.conn.removeListener('data', onConnData)
    this.conn.removeListener('error', onConnError)
    this.conn.removeListener('close', onConnClose)
    this.decoder.removeListener('decoded', onDecoded)
    if (this.connectTimeout !== undefined) {
      clearTimeout(this.connectTimeout)
      this.connectTimeout = undefined
    }
  }
  proto[kShared] = true
  return true
}

/** engine.io 6.6's websocket transport constructor: the four send callbacks, then the three listeners on ws. */
const WEBSOCKET_SHAPE = /constructor\(req\) \{\s*super\(req\);\s*this\._doSend = \(data\) => \{\s*this\.socket\.send\(data, this\._onSent\);\s*\};\s*this\._doSendLast = \(data\) => \{\s*this\.socket\.send\(data, this\._onSentLast\);\s*\};\s*this\._onSent = \(err\) => \{\s*if \(err\) \{\s*this\.onError\("write error", err\.stack\);\s*\}\s*\};\s*this\._onSentLast = \(err\) => \{\s*if \(err\) \{\s*this\.onError\("write error", err\.stack\);\s*\}\s*else \{\s*this\.emit\("drain"\);\s*this\.writable = true;\s*this\.emit\("ready"\);\s*\}\s*\};\s*this\.socket = req\.websocket;\s*this\.socket\.on\("message", \(data, isBinary\) => \{\s*const message = isBinary \? data : data\.toString\(\);\s*debug\([^;]*\);\s*super\.onData\(message\);\s*\}\);\s*this\.socket\.once\("close", this\.onClose\.bind\(this\)\);\s*this\.socket\.on\("error", this\.onError\.bind\(this\)\);\s*this\.writable = true;\s*this\.perMessageDeflate = null;\s*\}/

/**
 * Makes this server's websocket transports as Engine.IO's constructor makes them (its base `Transport`
 * constructor, then the same fields in the same order), with the shared listeners on ws's WebSocket instead of a
 * closure and two bound methods. Other transports, and every other server, are made by Engine.IO.
 */
function leanWebSocket (server: EngineLike, engine: EngineModule): boolean {
  const { Transport, transports } = engine
  const WebSocketTransport = transports?.websocket
  const onData = Transport?.prototype.onData
  if (typeof Transport !== 'function' || typeof WebSocketTransport !== 'function' || typeof onData !== 'function') return false
  if (Object.getPrototypeOf(WebSocketTransport) !== Transport || !WEBSOCKET_SHAPE.test(String(WebSocketTransport))) return false
  transportOnData = onData
  const create = server.createTransport
  server.createTransport = function createTransport (this: EngineLike, name: string, req: { websocket?: WsLike }): unknown {
    if (name !== 'websocket' || req.websocket === undefined) return create.call(this, name, req)
    const t = Reflect.construct(Transport as unknown as Fn, [req], WebSocketTransport as unknown as Fn) as WsTransportLike
    t._doSend = (data) => { t.socket.send(data, t._onSent) }
    t._doSendLast = (data) => { t.socket.send(data, t._onSentLast) }
    t._onSent = (err) => { if (err !== undefined && err !== null) t.onError('write error', err.stack) }
    t._onSentLast = (err) => {
      if (err !== undefined && err !== null) {
        t.onError('write error', err.stack)
      } else {
        t.emit('drain')
        t.writable = true
        t.emit('ready')
      }
    }
    const ws = req.websocket
    t.socket = ws
    ws[kOwner] = t
    ws.on('message', onWsMessage)
    ws.on('close', onWsClose)
    ws.on('error', onWsError)
    // ws made the WebSocket with Node's table, which already holds Engine.IO's `onUpgradeError`.
    compactListeners(ws)
    t.writable = true
    t.perMessageDeflate = null
    return t
  }
  return true
}

/**
 * engine.io 6.6's handshake: after the socket is made, an arrow `(headers, req)` listens to the transport's
 * `headers`; then, last before `connection` is emitted, an arrow `()` heard once on the socket's `close` forgets it.
 */
const HANDSHAKE_SHAPE = /const socket = new socket_1\.Socket\(id, this, transport, req, protocol\);\s*transport\.on\("headers", \(headers, req\) => \{[^]*?this\.emit\("initial_headers", headers, req\);[^]*?this\.emit\("headers", headers, req\);\s*\}\);\s*transport\.onRequest\(req\);\s*this\.clients\[id\] = socket;\s*this\.clientsCount\+\+;\s*socket\.once\("close", \(\) => \{\s*delete this\.clients\[id\];\s*this\.clientsCount--;\s*\}\);\s*this\.emit\("connection", socket\);/

/** An arrow function of `arity` parameters made in place (no name, no `prototype`), as the handshake's two are. */
const isArrow = (fn: unknown, arity: number): fn is Fn =>
  typeof fn === 'function' && fn.length === arity && fn.name === '' && !Object.hasOwn(fn, 'prototype')

/**
 * At the `connection` event: the handshake's two listeners of each connection (see `installSharedListeners`),
 * found by their place and shape, the handshake's source having been checked once.
 */
function shareHandshakeListeners (conn: EngineSocketLike & { id: string, server: EngineLike }): void {
  const events = (conn as unknown as { _events?: Record<string, unknown> })._events
  const first = events === undefined ? undefined : Array.isArray(events.close) ? events.close[0] : events.close
  const forget = (first as { listener?: unknown } | undefined)?.listener
  if (isArrow(forget, 0)) {
    conn.removeListener('close', forget)
    ;(conn as unknown as { prependListener: (event: string, fn: Fn) => void }).prependListener('close', onConnForget)
  }
  const transport = conn.transport as TransportLike & { name?: string, _events?: Record<string, unknown> }
  const headers = transport.name === 'websocket' ? transport._events?.headers : undefined
  if (isArrow(headers, 2)) transport.removeListener('headers', headers)
}

/**
 * Engine.IO as socket.io loads it (its own engine.io, wherever it is installed) and the prototype of Socket.IO's
 * `Client` (not in socket.io's `exports`: loaded by its file).
 */
function modules (): { engine?: EngineModule, client?: Proto<ClientLike> } {
  const found: { engine?: EngineModule, client?: Proto<ClientLike> } = {}
  try {
    const sioMain = createRequire(import.meta.url).resolve('socket.io')
    const fromSio = createRequire(sioMain)
    found.client = (fromSio(join(dirname(sioMain), 'client.js')) as { Client?: { prototype: Proto<ClientLike> } }).Client?.prototype
    found.engine = fromSio('engine.io') as EngineModule
  } catch {}
  return found
}
