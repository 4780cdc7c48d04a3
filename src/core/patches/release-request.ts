// Patch of what Engine.IO keeps of a connection's HTTP upgrade request (engine.io 6.6.12, ws 8): only what is read later.
import type { IncomingMessage } from 'node:http'
import type { Server } from 'socket.io'

/**
 * Engine.IO keeps the upgrade request (`conn.request`, an `IncomingMessage`) for the life of the connection,
 * with its stream state, raw headers, trailers and listeners; the upgrade's response stand-in
 * (`WebSocketResponse`, for Engine.IO middlewares) stays reachable through a `close` listener on the TCP
 * socket, and so does the request through it; and a no-op `error` listener added before the upgrade
 * (`onUpgradeError`) stays on the WebSocket next to the transport's own. About 1 kB a connection, measured
 * with `bench/profile/memory-snapshot.js` (bench/README.md, "Memory per connection").
 *
 * What is read later is kept: Socket.IO builds each namespace socket's `handshake` from `conn.request` when the
 * client joins the namespace, which may be long after the upgrade (`headers`, `headers.origin`, `url`,
 * `_query`, `connection.encrypted`), and the core authenticates from `handshake.headers` and logs
 * `handshake.address` (read from `conn.remoteAddress`, not from the request). So `conn.request` becomes a
 * record of those fields (the same objects: the same `headers`), with `socket`/`connection` still the TCP
 * socket, instead of being set to null as Socket.IO's "Memory usage" page suggests (null would give every
 * later namespace an empty `handshake.headers`). Plugins that read other fields of `socket.request` (the raw
 * headers, the request's stream) get undefined.
 *
 * Every transport (a connection that starts with polling keeps its first poll's request, as Engine.IO did); the
 * listeners are those of a websocket connection, and only those that match the shape this was written for: the
 * `close` listener is dropped only when Engine.IO has no middleware (nothing could listen to the response's
 * `close`), and only the listeners whose source and name are those of engine.io 6.6.
 */
export function installRequestRelease (io: Server): void {
  const engine = io.engine as unknown as EngineLike
  engine.on('connection', (c: unknown) => {
    const conn = c as ConnLike
    const req = conn.request
    if (req === null || typeof req !== 'object' || req.headers === null || typeof req.headers !== 'object') return
    const ws = req.websocket
    const tcp = req.socket
    conn.request = {
      headers: req.headers,
      url: req.url,
      method: req.method,
      _query: req._query,
      socket: tcp,
      connection: tcp
    } as unknown as IncomingMessage & RequestLike
    const upgradeError = listenerOf(ws, 'error', isUpgradeError)
    if (upgradeError !== undefined) ws!.removeListener('error', upgradeError)
    if (Array.isArray(engine.middlewares) && engine.middlewares.length === 0) {
      const responseClose = listenerOf(tcp, 'close', isResponseClose)
      if (responseClose !== undefined) tcp!.removeListener('close', responseClose)
    }
  })
}

/**
 * The first listener of `event` on `emitter` that `matches`, read from its table without the copies
 * `listeners()` makes (a `once` listener is matched, and answered, as the function it wraps, which `removeListener`
 * takes); undefined when there is none or the emitter is not shaped like an `EventEmitter`.
 */
function listenerOf (emitter: EmitterLike | undefined, event: string, matches: (l: Listener) => boolean): Listener | undefined {
  const entry = emitter?._events?.[event]
  if (entry === undefined || typeof emitter!.removeListener !== 'function') return undefined
  if (!Array.isArray(entry)) return matching(entry, matches)
  for (const l of entry) {
    const fn = matching(l, matches)
    if (fn !== undefined) return fn
  }
  return undefined
}

/** A table's entry (a listener, or a `once` wrapper of one) as the listener it is, when that `matches`. */
function matching (entry: unknown, matches: (l: Listener) => boolean): Listener | undefined {
  const fn = (entry as { listener?: unknown } | null)?.listener ?? entry
  return typeof fn === 'function' && matches(fn as Listener) ? fn as Listener : undefined
}

/** Engine.IO's no-op `error` listener added to the WebSocket before the upgrade. */
const isUpgradeError = (l: Listener): boolean => l.name === 'onUpgradeError'
/** The upgrade's response stand-in's `close` listener on the TCP socket (matched by source: it is an arrow). */
const isResponseClose = (l: Listener): boolean => l.name === '' && String(l) === RESPONSE_CLOSE

/** engine.io 6.6's `WebSocketResponse`: `socket.once("close", () => this.emit("close"))`. */
const RESPONSE_CLOSE = '() => this.emit("close")'

type Listener = (...args: unknown[]) => void
interface EmitterLike {
  _events?: Record<string, Listener | Listener[] | undefined>
  removeListener: (event: string, l: Listener) => void
}
interface RequestLike {
  headers: Record<string, unknown>
  url?: string
  method?: string
  _query?: Record<string, string>
  socket?: EmitterLike
  websocket?: EmitterLike
}
interface ConnLike { request: RequestLike | null }
interface EngineLike {
  on: (event: 'connection', fn: (conn: unknown) => void) => void
  middlewares?: unknown[]
}
