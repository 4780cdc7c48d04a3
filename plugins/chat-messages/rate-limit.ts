/**
 * Messages per socket within a sliding window. Sockets live on one node, so the count is local; it
 * is forgotten with the socket (a WeakMap).
 */
export class SocketRateLimiter {
  readonly #hits = new WeakMap<object, number[]>()

  /** `max` sends per `windowMs`; 0 disables the limit. */
  constructor (readonly max: number, readonly windowMs: number) {}

  /** Counts one send of `socket`; false when it exceeds the limit (a refused send counts too). */
  take (socket: object, now = Date.now()): boolean {
    if (this.max === 0) return true
    let hits = this.#hits.get(socket)
    if (hits === undefined) {
      hits = []
      this.#hits.set(socket, hits)
    }
    const since = now - this.windowMs
    while (hits.length > 0 && hits[0]! <= since) hits.shift()
    if (hits.length >= this.max) return false
    hits.push(now)
    return true
  }
}
