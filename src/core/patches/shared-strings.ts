// Socket.IO's handshake strings that most connections repeat (header values, the URL, the time): one copy shared.
import { Socket } from 'socket.io'

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

/**
 * The current time as `String(new Date())` writes it ("Wed Dec 02 2026 13:20:55 GMT+0000 (Coordinated Universal
 * Time)", to the second, in the local time zone), formatted once a second: formatting a date reads the time zone's
 * rules and is one of the dearest steps of Socket.IO's handshake (about 1.5% of bare Socket.IO's CPU per
 * handshake in a CPU profile, `bench/profile/cpu-by-package.js`), and under a burst every socket of the same second
 * gets the same text. Time zones are whole minutes from UTC today, so a local second starts with a UTC one.
 */
export class SecondClock {
  #second = Number.NaN
  #text = ''

  /** `String(new Date(ms))`, the same string for every `ms` of one second. */
  text (ms: number): string {
    const second = Math.floor(ms / 1000)
    if (second !== this.#second) {
      this.#text = String(new Date(ms))
      this.#second = second
    }
    return this.#text
  }
}

const kClock = Symbol('rt.handshakeClock')

/** socket.io 4.8's `buildHandshake`, white space folded: the handshake object, its `time` formatted for every socket. */
const BUILD_HANDSHAKE = 'buildHandshake(auth) { var _a, _b, _c, _d; return { headers: ((_a = this.request) === null || _a === void 0 ? void 0 : _a.headers) || {}, time: new Date() + "", address: this.conn.remoteAddress, xdomain: !!((_b = this.request) === null || _b === void 0 ? void 0 : _b.headers.origin), // @ts-ignore secure: !this.request || !!this.request.connection.encrypted, issued: +new Date(), url: (_c = this.request) === null || _c === void 0 ? void 0 : _c.url, // @ts-ignore query: ((_d = this.request) === null || _d === void 0 ? void 0 : _d._query) || {}, auth, }; }'

interface HandshakeSource {
  nsp: { server: { [kClock]?: true } }
  request: { headers: Record<string, unknown>, connection: { encrypted?: unknown }, url?: string, _query?: Record<string, string> } | undefined
  conn: { remoteAddress: string }
}

/**
 * The handshakes of `io`'s sockets get their `time` from a `SecondClock` instead of formatting `new Date()` each:
 * the same object, with the same properties in the same order and the same values (`issued` and `time` now read
 * the clock once, so they name the same millisecond). Socket.IO's `buildHandshake` is replaced on its prototype only
 * when its source is the one written for; it acts for the servers given here, and builds every other server's
 * handshakes as before. Answers whether it is installed.
 */
export function installHandshakeClock (io: object): boolean {
  const proto = Socket.prototype as unknown as { buildHandshake?: (this: HandshakeSource, auth: unknown) => unknown, [kClock]?: true }
  if (proto[kClock] !== true) {
    const original = proto.buildHandshake
    if (typeof original !== 'function' || String(original).replace(/\s+/g, ' ') !== BUILD_HANDSHAKE) return false
    const clock = new SecondClock()
    proto.buildHandshake = function buildHandshake (this: HandshakeSource, auth: unknown): unknown {
      if (this.nsp.server[kClock] !== true) return original.call(this, auth)
      const request = this.request
      const now = Date.now()
      return {
        // `||` as Socket.IO writes them.
        headers: request?.headers || {},
        time: clock.text(now),
        address: this.conn.remoteAddress,
        xdomain: Boolean(request?.headers.origin),
        secure: !request || Boolean(request.connection.encrypted),
        issued: now,
        url: request?.url,
        query: request?._query || {},
        auth
      }
    }
    proto[kClock] = true
  }
  (io as { [kClock]?: true })[kClock] = true
  return true
}
