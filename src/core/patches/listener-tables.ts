// Patch of the listener tables (`_events`) of a connection's event emitters: ws's WebSocket, Engine.IO's transport and
// socket, Socket.IO's socket.
import type { Socket } from 'socket.io'

/**
 * Past about this many properties added by computed keys, V8 keeps an object in dictionary mode anyway: a copy
 * would gain nothing.
 */
const MAX_FAST_KEYS = 12

/**
 * Node's `EventEmitter` keeps its listeners in `_events`, an object made with a null prototype, which V8 creates
 * in dictionary mode: a hash table sized for growth (about 190 bytes for one event, 290 for four, 480 for eight)
 * that never shrinks after a removal. A connection has four of them, filled once when it opens: Engine.IO's
 * listeners on ws's WebSocket and on its own transport, Socket.IO's (and the core's) on the Engine.IO socket, the
 * core's on the Socket.IO socket. (Node's streams, the TCP socket and ws's parser, start from a table already
 * shaped for their usual events, in fast mode.) A copy with the same keys
 * in the same order, made as an ordinary object whose prototype is then set to null, stays in V8's fast mode:
 * about 60 bytes for up to four events, 130 for eight. An event with three listeners or more holds them in an
 * array that V8 grew to 17 slots at the third (the Engine.IO socket's `close`: about 150 bytes unused); the copy
 * holds a copy of it, as long as its entries. `EventEmitter` reads the table and its arrays through `_events` on
 * every call (`emit` iterates over a copy, a removal splices in place or replaces) and keeps no other reference
 * to them, so the copies serve every later `on`, `off` and `emit`; with a null prototype, no event name
 * (`__proto__`, `toString`) finds an inherited property. A later removal may move the copy back to dictionary
 * mode, which is where it started.
 */
function compact (emitter: unknown): void {
  if (typeof emitter !== 'object' || emitter === null) return
  const { _events: events, _eventsCount: count } = emitter as { _events?: unknown, _eventsCount?: unknown }
  if (typeof events !== 'object' || events === null || typeof count !== 'number' || count > MAX_FAST_KEYS || Object.getPrototypeOf(events) !== null) return
  const copy: Record<string, unknown> = {}
  Object.setPrototypeOf(copy, null)
  let copied = 0
  // for-in: half the cost of Reflect.ownKeys here, but no symbol keys (errorMonitor): a table with any is left.
  for (const key in events) {
    const listeners = (events as Record<string, unknown>)[key]
    copy[key] = Array.isArray(listeners) ? listeners.slice() : listeners
    copied++
  }
  if (copied === count) (emitter as { _events: unknown })._events = copy
}

/**
 * Copies the listener tables of a namespace socket's connection into fast-mode objects (see `compact`): the
 * socket, its Engine.IO socket and transport, and a WebSocket transport's WebSocket. Called once the socket's
 * own listeners are registered; anything not shaped like an `EventEmitter`'s null-prototype table (a stream's,
 * a missing transport, a polling transport's request) is left alone.
 */
export function compactListenerTables (socket: Socket): void {
  compact(socket)
  const conn = socket.conn as unknown as { transport?: { socket?: unknown } } | undefined
  compact(conn)
  compact(conn?.transport)
  compact(conn?.transport?.socket)
}
