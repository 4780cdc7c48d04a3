// What the core logs about sockets: connections and disconnections (debug), refusals (info), events nothing handles (info, at most once per socket a window), oversized frames (info).
import type { FastifyBaseLogger } from 'fastify'
import { FrameTooLarge, UnknownEvent, type RealtimeError } from '../lib/errors.js'
import type { RealtimeSocket } from './socket-types.js'

/** How much of a client-chosen event name a log line keeps. */
const EVENT_ECHO_MAX = 100
const UNKNOWN_EVENT: string = new UnknownEvent('').code
const FRAME_TOO_LARGE: string = new FrameTooLarge('').code

/** Whether `debug` lines are written (pino's `isLevelEnabled`; a logger without it is asked to write them). */
const debugOn = (log: FastifyBaseLogger): boolean =>
  (log as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('debug') ?? true

/** The per-socket state of a repeated line: written until `until`, then counting what it leaves out. */
interface Repeat { until: number, repeated: number }
const kIgnored = Symbol('realtime-server.log.ignored')
type Throttled = RealtimeSocket & { [kIgnored]?: Repeat }

/**
 * Whether a disconnect's description is the transport closing over `socketio.maxHttpBufferSize`: ws ends the
 * connection (close code 1009) with `RangeError: Max payload size exceeded`, which Engine.IO wraps in a
 * TransportError. (Over HTTP long-polling Engine.IO answers the POST 413 and the client closes: the server sees a
 * plain `transport close` later.)
 */
const isOversized = (description: unknown): description is Error =>
  description instanceof Error && description.message.includes('Max payload size exceeded')

export interface SocketLogOptions {
  log: FastifyBaseLogger
  /** `server.logRepeatMs`: a line a client can repeat at will is written at most once per socket within it. */
  repeatMs: number
  /** `socketio.maxHttpBufferSize`, named in the oversized-frame line. */
  maxFrameBytes: number
}

/**
 * The log lines of the sockets' lives. None is written on the per-event path of handled events: connections and
 * disconnections once each, refusals once per handshake, events nothing handles once per socket a window.
 */
export class SocketLog {
  readonly #o: SocketLogOptions
  /** The transport errors already logged as oversized frames (each namespace socket of the connection sees the same one). */
  readonly #oversized = new WeakSet<Error>()

  constructor (options: SocketLogOptions) {
    this.#o = options
  }

  /** `debug` 'socket connected': user, tenant, namespace, transport, address. */
  connected (socket: RealtimeSocket): void {
    // On every handshake: the line's fields are not gathered when debug is off.
    if (!debugOn(this.#o.log)) return
    const user = socket.data.user
    this.#o.log.debug({ nsp: socket.nsp.name, socketId: socket.id, userId: user.userId, tenantId: user.tenantId, transport: socket.conn.transport.name, ip: socket.handshake.address }, 'socket connected')
  }

  /**
   * `debug` 'socket disconnected' with Socket.IO's reason and how long the socket lived; a frame over
   * `socketio.maxHttpBufferSize` is also logged at `info` as `RT_ERR_FRAME_TOO_LARGE`, once per connection.
   */
  disconnected (socket: RealtimeSocket, reason: string, description: unknown): void {
    const user = socket.data.user
    const { log } = this.#o
    if (debugOn(log)) log.debug({ nsp: socket.nsp.name, socketId: socket.id, userId: user.userId, tenantId: user.tenantId, transport: socket.conn.transport.name, reason, durationMs: Date.now() - socket.handshake.issued }, 'socket disconnected')
    if (reason === 'transport error' && isOversized(description) && !this.#oversized.has(description)) {
      this.#oversized.add(description)
      log.info({ nsp: socket.nsp.name, socketId: socket.id, userId: user.userId, tenantId: user.tenantId, transport: socket.conn.transport.name, ip: socket.handshake.address, code: FRAME_TOO_LARGE, limit: this.#o.maxFrameBytes }, 'connection closed: frame too large')
    }
  }

  /**
   * `info` 'socket connection refused' for every handshake a namespace middleware refuses (authentication, the
   * cool-off after a flood, a connection limit): the catalog code, its message as `reason`, what caused it
   * (`cause`: why the token was refused), and the user when the token was read.
   */
  refused (socket: RealtimeSocket, err: RealtimeError): void {
    const user = socket.data.user as RealtimeSocket['data']['user'] | undefined
    // The verifier's reason: a string (`missing claim sub`, the token library's message) or the error it wraps.
    const cause = typeof err.cause === 'string' ? err.cause : err.cause instanceof Error ? err.cause.message : undefined
    this.#o.log.info({
      nsp: socket.nsp.name,
      socketId: socket.id,
      code: err.code,
      reason: err.message,
      ...(cause === undefined ? {} : { cause }),
      ...(user === undefined ? {} : { userId: user.userId, tenantId: user.tenantId }),
      transport: socket.conn.transport.name,
      ip: socket.handshake.address
    }, 'socket connection refused')
  }

  /**
   * `info` 'client event nothing handles' (`RT_ERR_UNKNOWN_EVENT`), at most once per socket within
   * `server.logRepeatMs`: a client looping over a typo writes one line a window, and the next line says how many
   * were left out (`repeated`).
   */
  ignored (socket: RealtimeSocket, event: string, acked: boolean): void {
    const { repeatMs, log } = this.#o
    let repeated = 0
    if (repeatMs > 0) {
      const now = Date.now()
      const state = (socket as Throttled)[kIgnored]
      if (state === undefined) {
        (socket as Throttled)[kIgnored] = { until: now + repeatMs, repeated: 0 }
      } else if (now < state.until) {
        state.repeated++
        return
      } else {
        repeated = state.repeated
        state.until = now + repeatMs
        state.repeated = 0
      }
    }
    const user = socket.data.user
    const shown = event.length > EVENT_ECHO_MAX ? `${event.slice(0, EVENT_ECHO_MAX)}...` : event
    log.info({ nsp: socket.nsp.name, socketId: socket.id, userId: user.userId, tenantId: user.tenantId, code: UNKNOWN_EVENT, event: shown, ack: acked, repeated }, 'client event nothing handles')
  }
}
