// Patch of Socket.IO's client event dispatch (socket.io 4.8): a namespace's listeners found in one table shared by its sockets.
import { Socket } from 'socket.io'

/** A client event listener shared by every socket (`this` is the socket). */
export type TableListener = (this: Socket, ...args: unknown[]) => void
/** Called, synchronously as an `onAny` listener would be, for a client event that nothing listens to. */
export type UnknownListener = (socket: Socket, event: string, last: unknown) => void

interface EventTable {
  readonly listeners: ReadonlyMap<string, TableListener>
  readonly unknown: UnknownListener
}

const kTable = Symbol('rt.eventTable')

/**
 * Socket.IO finds an event's listener in the socket's own `EventEmitter` (`socket.on(event, fn)`), so a server
 * whose namespace handles N events registers N listeners on every socket: N entries of a dictionary-mode
 * `_events` object per connection, and N `socket.on` calls per handshake; and a catch-all needs an `onAny`
 * listener (an array per socket, copied for every event). Every socket of a namespace has the same listeners,
 * so they are looked up in one table per namespace instead: `Socket.prototype.dispatch` (what `onevent` calls
 * after the `onAny` listeners) finds the event in its namespace's table and runs the listener as Socket.IO
 * runs an `EventEmitter` listener: after the socket's `use()` middlewares, on the next tick, only if the
 * socket is still connected, with the same arguments (the ack callback last), and then any listener a plugin
 * added with `socket.on` for the same event. An event not in the table goes to `unknown` first (when the
 * socket has no listener of its own for it) and then to Socket.IO's own dispatch, unchanged.
 *
 * Namespaces without a table (any other Socket.IO server in the process) take Socket.IO's dispatch. Installed
 * only on the shape this was written for (`dispatch` and `run` of socket.io 4.8); otherwise `installEventTable`
 * answers false and the caller registers its listeners on each socket as before.
 */
export function installEventTable (): boolean {
  const proto = Socket.prototype as unknown as SocketProto
  if (proto[kTable] === true) return true
  const original = proto.dispatch
  if (typeof original !== 'function' || typeof proto.run !== 'function' || typeof proto._onerror !== 'function') return false
  if (!DISPATCH_SHAPE.test(String(original))) return false
  const emit = Object.getPrototypeOf(proto).emitUntyped as ((this: TableSocket, ...args: unknown[]) => boolean) | undefined
  if (typeof emit !== 'function') return false
  proto.dispatch = function dispatch (this: TableSocket, args: unknown[]): void {
    const table = this.nsp[kTable]
    if (table === undefined) { original.call(this, args); return }
    const event = args[0] as string
    const listener = table.listeners.get(event)
    if (listener === undefined) {
      if (this.listenerCount(event) === 0) table.unknown(this as unknown as Socket, event, args.length > 1 ? args[args.length - 1] : undefined)
      original.call(this, args)
      return
    }
    this.run(args, (err?: Error) => {
      process.nextTick(() => {
        if (err !== undefined && err !== null) { this._onerror(err); return }
        if (!this.connected) return
        listener.apply(this as unknown as Socket, args.slice(1))
        if (this.listenerCount(event) > 0) emit.apply(this, args)
      })
    })
  }
  proto[kTable] = true
  return true
}

/** Gives the sockets of `nsp` the listeners of `listeners` (replacing the previous table), and `unknown`. */
export function setEventTable (nsp: object, listeners: ReadonlyMap<string, TableListener>, unknown: UnknownListener): void {
  (nsp as TableNamespace)[kTable] = { listeners, unknown }
}

/** socket.io 4.8's `dispatch`: `run` the middlewares, then on the next tick `_onerror` or the emitter's emit. */
const DISPATCH_SHAPE = /this\.run\(event,[\s\S]*process\.nextTick\([\s\S]*this\._onerror\(err\)[\s\S]*this\.connected[\s\S]*super\.emitUntyped\.apply\(this, event\)/

interface SocketProto {
  [kTable]?: true
  dispatch: (this: TableSocket, args: unknown[]) => void
  run: unknown
  _onerror: unknown
}
interface TableNamespace { [kTable]?: EventTable }
/** The parts of a Socket.IO socket the patched dispatch uses (`run` and `_onerror` are private in its types). */
interface TableSocket {
  readonly nsp: TableNamespace
  readonly connected: boolean
  listenerCount: (event: string) => number
  run: (args: unknown[], fn: (err?: Error) => void) => void
  _onerror: (err: Error) => void
}
