// Patch of the listener tables (`_events`) of a connection's event emitters: ws's WebSocket, Engine.IO's transport and
// socket, Socket.IO's socket.
import type { Socket } from 'socket.io'

/**
 * Past about this many properties added by computed keys, V8 keeps an object in dictionary mode anyway: a copy
 * would gain nothing.
 */
const MAX_FAST_KEYS = 12

/**
 * A listener table that V8 keeps in fast mode and that inherits nothing. Node's `EventEmitter` makes its tables
 * (`_events`) with a null prototype, which V8 creates in dictionary mode: a hash table sized for growth (about 190
 * bytes for one event, 290 for four, 480 for eight) that never shrinks after a removal, and slower to fill than an
 * object whose properties V8 lays out in place. `new ListenerTable()` is an ordinary object, so its properties are
 * laid out in place as they are added, and every table filled in the same order shares one layout; its prototype
 * is an object with no properties and a null prototype, so no event name (`__proto__`, `toString`, `constructor`)
 * finds an inherited property, as in Node's own tables. About 60 bytes for up to four events, 130 for eight.
 */
function ListenerTable (): void {}
ListenerTable.prototype = Object.create(null) as object
const tableProto: object = ListenerTable.prototype
const newTable = (): Record<string, unknown> => new (ListenerTable as unknown as new () => Record<string, unknown>)()

interface EmitterTable { _events?: unknown, _eventsCount?: unknown }

/**
 * Gives an emitter that no one listens to yet a fast table (see `ListenerTable`). `EventEmitter` reads its table
 * through `_events` on every call and keeps no other reference to it, so the new table serves every later `on`,
 * `off` and `emit`; when its last listener is removed, `EventEmitter` goes back to a table of its own. Anything
 * else (an emitter with listeners, a table Node did not make) is left alone.
 */
export function freshListenerTable (emitter: unknown): void {
  const e = emitter as EmitterTable
  const events = e._events
  if (e._eventsCount === 0 && typeof events === 'object' && events !== null && Object.getPrototypeOf(events) === null) e._events = newTable()
}

/**
 * Makes an emitter's table as small as its listeners, once they are registered:
 * - a fast table (`freshListenerTable`) keeps its object; an event with three listeners or more holds them in an
 *   array that V8 grew to 17 slots at the third (the Engine.IO socket's `close`: about 150 bytes unused), which is
 *   replaced by a copy as long as its entries;
 * - Node's own table is copied into a fast one, with the same keys in the same order and each array copied so.
 * A later removal may move the table back to dictionary mode, which is where Node's start. Tables with symbol keys
 * (errorMonitor; `for-in` would not copy them), with more than `MAX_FAST_KEYS` events, or not made by Node (a
 * stream's, shaped in advance and fast already) are left alone.
 */
export function compactListeners (emitter: unknown): void {
  if (typeof emitter !== 'object' || emitter === null) return
  const { _events: events, _eventsCount: count } = emitter as EmitterTable
  if (typeof events !== 'object' || events === null || typeof count !== 'number' || count > MAX_FAST_KEYS) return
  const table = events as Record<string, unknown>
  const proto = Object.getPrototypeOf(events)
  if (proto === tableProto) {
    for (const key in table) {
      const listeners = table[key]
      if (Array.isArray(listeners) && listeners.length > 2) table[key] = listeners.slice()
    }
    return
  }
  if (proto !== null) return
  const copy = newTable()
  let copied = 0
  // for-in: half the cost of Reflect.ownKeys here, but no symbol keys: a table with any is left (`copied` < count).
  for (const key in table) {
    const listeners = table[key]
    copy[key] = Array.isArray(listeners) ? listeners.slice() : listeners
    copied++
  }
  if (copied === count) (emitter as EmitterTable)._events = copy
}

/**
 * Compacts the listener tables of a namespace socket's connection (see `compactListeners`): the socket, its
 * Engine.IO socket and transport, and a WebSocket transport's WebSocket. Called once the socket's own listeners
 * are registered; anything not shaped like an `EventEmitter`'s table (a stream's, a missing transport, a polling
 * transport's request) is left alone.
 */
export function compactListenerTables (socket: Socket): void {
  compactListeners(socket)
  const conn = socket.conn as unknown as { transport?: { socket?: unknown } } | undefined
  compactListeners(conn)
  compactListeners(conn?.transport)
  compactListeners(conn?.transport?.socket)
}
