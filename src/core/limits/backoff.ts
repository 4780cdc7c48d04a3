// Back-pressure on a refused client: its WebSocket connection is not read for the retry period (0.1 to 1 s).

/** The shortest and longest a refused connection goes unread. */
const MIN_PAUSE_MS = 100
const MAX_PAUSE_MS = 1000

interface Pausable {
  readonly isPaused?: boolean
  pause?: () => void
  resume?: () => void
}

/**
 * Stops reading the connection of a socket over its rate limit for `ms` (0.1 s at least, 1 s at most): what it keeps
 * sending waits in the kernel's buffers and TCP flow control slows the client down, instead of the server
 * parsing events only to refuse them while other clients wait. WebSocket only (HTTP long-polling sends a
 * request at a time); one timer per pause, only while a client is refused.
 */
export function backOff (conn: { transport?: { name?: string, socket?: unknown } }, ms: number): void {
  const transport = conn.transport
  if (transport?.name !== 'websocket') return
  const ws = transport.socket as Pausable | undefined
  if (ws?.pause === undefined || ws.resume === undefined || ws.isPaused === true) return
  ws.pause()
  setTimeout(() => { ws.resume!() }, Math.min(Math.max(ms, MIN_PAUSE_MS), MAX_PAUSE_MS)).unref()
}
