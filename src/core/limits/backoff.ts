// Back-pressure on a refused client: its WebSocket connection is not read for the retry period (0.1 to 1 s).

/** The shortest and longest a refused connection goes unread. */
const MIN_PAUSE_MS = 100
const MAX_PAUSE_MS = 1000

interface Pausable {
  readonly isPaused?: boolean
  pause?: () => void
  resume?: () => void
  terminate?: () => void
}

/**
 * Stops reading the connection of a socket over its rate limit for `ms` (0.1 s at least, 1 s at most): what it keeps
 * sending waits in the kernel's buffers and TCP flow control slows the client down, instead of the server
 * parsing events only to refuse them while other clients wait. WebSocket only (HTTP long-polling sends a
 * request at a time); one timer per pause, only while a client is refused.
 */
export function backOff (conn: Conn, ms: number): void {
  const ws = websocketOf(conn)
  if (ws?.pause === undefined || ws.resume === undefined || ws.isPaused === true) return
  ws.pause()
  setTimeout(() => { if (!stopped.has(ws)) ws.resume!() }, Math.min(Math.max(ms, MIN_PAUSE_MS), MAX_PAUSE_MS)).unref()
}

/** How long a connection that is no longer read has to deliver what was written to it before it is cut. */
const CUT_AFTER_MS = 1000

/**
 * Stops reading a connection for good (a flooder being disconnected): what it has sent and keeps sending is
 * never parsed. What is written to it (the error, the disconnect, the WebSocket close) has a second to get out,
 * then the TCP connection is cut, since the client's answer to the close is never read.
 */
export function stopReading (conn: Conn): void {
  const ws = websocketOf(conn)
  if (ws?.pause === undefined) return
  stopped.add(ws)
  if (ws.isPaused !== true) ws.pause()
  if (ws.terminate !== undefined) setTimeout(() => { ws.terminate!() }, CUT_AFTER_MS).unref()
}

/** Connections that are never read again: a back-off ending does not resume them. */
const stopped = new WeakSet<Pausable>()

type Conn = { transport?: { name?: string, socket?: unknown } }

function websocketOf (conn: Conn): Pausable | undefined {
  const transport = conn.transport
  return transport?.name === 'websocket' ? transport.socket as Pausable | undefined : undefined
}
