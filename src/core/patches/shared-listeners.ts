// Patch of the listeners Engine.IO's socket puts on its transport and Socket.IO's client puts on its connection and
// decoder (engine.io 6.6, socket.io 4.8): functions shared by every connection instead of bound copies per connection.
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Server } from 'socket.io'

/** The connection an Engine.IO transport, an Engine.IO socket or a Socket.IO decoder serves. */
const kOwner = Symbol('rt.sharedListeners.owner')
/** Set on the Engine.IO and Socket.IO servers whose connections take the shared listeners. */
const kShared = Symbol('rt.sharedListeners')

type Fn = (...args: any[]) => unknown
interface EmitterLike {
  on: (event: string, fn: Fn) => unknown
  once: (event: string, fn: Fn) => unknown
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

// The Socket.IO client's listeners on its Engine.IO socket and its decoder (`this` is the emitter).
function onConnData (this: EngineSocketLike, data: unknown): void { this[kOwner]!.ondata(data) }
function onConnError (this: EngineSocketLike, err: unknown): void { this[kOwner]!.onerror(err) }
function onConnClose (this: EngineSocketLike, reason: unknown, description: unknown): void { this[kOwner]!.onclose(reason, description) }
function onDecoded (this: DecoderLike, packet: unknown): void { this[kOwner]!.ondecoded(packet) }

/**
 * Engine.IO's socket listens to its transport with five functions made for each transport (four `bind`s and an
 * arrow, `error` and `close` through `once`, whose wrapper is a bound function with a state object), and keeps a
 * closure over all five to remove them. Socket.IO's `Client` binds four of its methods and keeps them as its own
 * properties, to listen to its Engine.IO socket (`data`, `error`, `close`) and its decoder (`decoded`). That is
 * about 650 bytes of heap per connection, the same functions every time.
 *
 * Here every connection gets the same functions, which find their connection through one symbol property of
 * the emitter they listen to (`this`, as `EventEmitter` and the decoder's emitter call listeners): the same
 * events, in the same order, with the same arguments, heard as often (`error` and `close` of the transport
 * once). Removal is by the same functions: `setTransport`'s clean-up closure now holds only the transport, and
 * `Client.destroy` removes the shared listeners. Nothing else reads the bound functions (Socket.IO calls
 * `onclose` and `onerror` as methods).
 *
 * Installed on `Socket.prototype.setTransport` of Engine.IO and `Client.prototype.setup`/`destroy` of Socket.IO,
 * each only when its source is the one this was written for, and acting only for the servers given to
 * `installSharedListeners` (any other server in the process keeps the library's own code). Answers what was
 * installed.
 */
export function installSharedListeners (io: Server): { transport: boolean, client: boolean } {
  const protos = prototypes()
  const transport = protos.engineSocket !== undefined && patchSetTransport(protos.engineSocket)
  const client = protos.client !== undefined && patchClient(protos.client)
  if (transport) (io.engine as unknown as { [kShared]?: true })[kShared] = true
  if (client) (io as unknown as { [kShared]?: true })[kShared] = true
  return { transport, client }
}

/** engine.io 6.6's `setTransport`: the five listeners, `error` and `close` with `once`, and their clean-up. */
const SET_TRANSPORT_SHAPE = /const onError = this\.onError\.bind\(this\);\s*const onReady = \(\) => this\.flush\(\);\s*const onPacket = this\.onPacket\.bind\(this\);\s*const onDrain = this\.onDrain\.bind\(this\);\s*const onClose = this\.onClose\.bind\(this, "transport close"\);\s*this\.transport = transport;\s*this\.transport\.once\("error", onError\);\s*this\.transport\.on\("ready", onReady\);\s*this\.transport\.on\("packet", onPacket\);\s*this\.transport\.on\("drain", onDrain\);\s*this\.transport\.once\("close", onClose\);\s*this\.cleanupFn\.push\(function \(\) \{\s*transport\.removeListener\("error", onError\);\s*transport\.removeListener\("ready", onReady\);\s*transport\.removeListener\("packet", onPacket\);\s*transport\.removeListener\("drain", onDrain\);\s*transport\.removeListener\("close", onClose\);\s*\}\);\s*\}$/

function patchSetTransport (proto: Proto<EngineSocketLike>): boolean {
  if (proto[kShared] === true) return true
  const original = proto.setTransport
  if (typeof original !== 'function' || !SET_TRANSPORT_SHAPE.test(String(original))) return false
  proto.setTransport = function setTransport (this: EngineSocketLike, transport: TransportLike): void {
    if (this.server?.[kShared] !== true) { original.call(this, transport); return }
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

/**
 * The prototypes of Engine.IO's `Socket` and Socket.IO's `Client` as socket.io loads them (its own engine.io,
 * wherever it is installed; `Client` is not in socket.io's `exports`, so it is loaded by its file).
 */
function prototypes (): { engineSocket?: Proto<EngineSocketLike>, client?: Proto<ClientLike> } {
  const found: { engineSocket?: Proto<EngineSocketLike>, client?: Proto<ClientLike> } = {}
  try {
    const sioMain = createRequire(import.meta.url).resolve('socket.io')
    const fromSio = createRequire(sioMain)
    found.client = (fromSio(join(dirname(sioMain), 'client.js')) as { Client?: { prototype: Proto<ClientLike> } }).Client?.prototype
    found.engineSocket = (fromSio('engine.io') as { Socket?: { prototype: Proto<EngineSocketLike> } }).Socket?.prototype
  } catch {}
  return found
}
