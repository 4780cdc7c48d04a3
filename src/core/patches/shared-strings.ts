// Socket.IO's handshake strings that most connections repeat (header values, the URL, the time): one copy shared.
import type { Socket } from 'socket.io'

/**
 * Headers whose values repeat from one client to the next: the same host, upgrade and WebSocket version for
 * every client, one origin and a few user agents and languages per application. Unique values
 * (`sec-websocket-key`, `authorization`, `cookie`) are not pooled.
 */
const POOLED_HEADERS = ['host', 'connection', 'upgrade', 'sec-websocket-version', 'sec-websocket-extensions', 'origin', 'user-agent', 'accept', 'accept-encoding', 'accept-language', 'cache-control', 'pragma'] as const

/** Bounds of the pool: a client that sends junk values fills it once, and later values are kept as they came. */
const MAX_POOLED = 1024
const MAX_POOLED_LENGTH = 1024

/**
 * Strings by value: the first copy of each value seen, up to `MAX_POOLED` values of at most `MAX_POOLED_LENGTH`
 * characters each. Nothing is ever removed: the pool holds at most about 2 MB, and once full it only answers
 * for the values it holds.
 */
export class StringPool {
  readonly #values = new Map<string, string>()

  /** The pooled copy of `value` (equal to it), or `value` itself if it is not pooled and the pool is full. */
  share (value: string): string {
    const pooled = this.#values.get(value)
    if (pooled !== undefined) return pooled
    if (this.#values.size < MAX_POOLED && value.length <= MAX_POOLED_LENGTH) this.#values.set(value, value)
    return value
  }

  get size (): number { return this.#values.size }
}

/**
 * Each connection's request headers and each namespace socket's `handshake` are separate strings made by the
 * HTTP parser and by Socket.IO, although most values are the same for every client: `host`, `upgrade`,
 * `connection` and the WebSocket version and extensions for all of them; the origin, user agent and
 * languages for most; the handshake URL for every client of a transport. Replacing each by an equal string
 * from a pool changes no value a plugin reads (strings compare by value) and leaves one copy per distinct
 * value. `handshake.time` (a date with seconds) is shared with the previous handshake's when equal, as under
 * a burst of connections. Together about 250 bytes of heap per idle connection from a Node client, more from
 * browsers, whose user agent and languages are long (`bench/profile/memory-snapshot.js`).
 */
export class HandshakeStrings {
  readonly #pool = new StringPool()
  #lastTime = ''

  /** Shares the repeated strings of `socket`'s handshake (its headers are its connection's request headers). */
  share (socket: Socket): void {
    const handshake = socket.handshake as { headers: Record<string, unknown>, time: unknown, url: unknown }
    const headers = handshake.headers
    if (headers !== null && typeof headers === 'object') {
      for (const name of POOLED_HEADERS) {
        const value = headers[name]
        if (typeof value === 'string') headers[name] = this.#pool.share(value)
      }
    }
    if (typeof handshake.url === 'string') handshake.url = this.#pool.share(handshake.url)
    const request = socket.request as { url?: unknown } | undefined
    if (typeof request?.url === 'string') request.url = this.#pool.share(request.url)
    const time = handshake.time
    if (typeof time === 'string') {
      if (time === this.#lastTime) handshake.time = this.#lastTime
      else this.#lastTime = time
    }
  }
}
