// Token expiry of connected clients: the core's expiry wheel (one timer for all), its handler and service types.

/** How often the wheel looks for due items, in ms: expiry and the end of the grace are noticed at most this late. */
const TICK_MS = 250

/**
 * Per item, under the wheel's own symbol (an item may be in several wheels), the slot (a `TICK_MS` period
 * since `SLOT_BASE`) it waits for: positive while its token is valid, negated once expired and in its grace
 * period. One property, no timer and no closure per item.
 */
type Slotted = Record<symbol, number | undefined>
const nextSlot = (): number => Math.floor(Date.now() / TICK_MS) + 1
/**
 * Items hold their slot counted from here, not from the epoch: a slot since the epoch (~7e9) is above V8's small
 * integer range (2^30) and would be a heap number per item (16 B per connection); counted from the start of the
 * process it stays small for years. Every slot put is at least `nextSlot()`, so the stored value is never 0.
 */
const SLOT_BASE = nextSlot() - 1

/** What an expiry wheel does to the items it holds (Socket.IO sockets, a plugin's WebSocket clients). */
export interface ExpiryHandler<T extends object> {
  /** The item's token expired: tell its client, which has `graceMs` to refresh. */
  expired: (item: T) => void
  /** The grace period ran out without a refresh: end the item's session. */
  ended: (item: T) => void
}

/**
 * Token expiry of connected clients, in the core's one timing structure. A client whose token expires is told
 * (`expired`) and, unless it is re-armed by a refresh or disarmed first, ended `graceMs` later (`ended`).
 *
 * @example
 * const expiry = app.realtime.expiry<Client>({
 *   expired: (client) => { client.send({ type: 'auth_expired', expiredAt: client.user.exp! * 1000, graceMs: expiry.graceMs }) },
 *   ended: (client) => { client.ws.close(4401, 'token expired') }
 * })
 * expiry.arm(client, client.user.exp)   // once authenticated, and again after each refresh
 * expiry.disarm(client)                 // when the connection closes
 */
export interface ExpiryService<T extends object> {
  /** `auth.expiryGraceMs`: how long an expired client may live before `ended`. */
  readonly graceMs: number
  /** Arms, or re-arms after a refresh, the expiry of the item's token; `exp` in seconds since the epoch (the JWT claim), none: never. */
  arm: (item: T, exp: number | undefined) => void
  /** Forgets the item (it closed): neither `expired` nor `ended` will be called for it. */
  disarm: (item: T) => void
}

/**
 * Items wait in buckets by the slot their token expires in, then by the slot their grace ends in, and one
 * timer, running only while a bucket is waiting, takes out the due ones: a timer per item would cost memory
 * and, each item's delay being different, a Node timer list per item.
 */
export class ExpiryWheel<T extends object> implements ExpiryService<T> {
  readonly #buckets = new Map<number, Set<T>>()
  readonly #slot = Symbol('rt.expiry')
  readonly #handler: ExpiryHandler<T>
  readonly #onError: (err: unknown) => void
  readonly graceMs: number
  /** Slots up to this one have been taken out. */
  #done = 0
  #timer: NodeJS.Timeout | undefined

  constructor (graceMs: number, handler: ExpiryHandler<T>, onError: (err: unknown) => void) {
    this.graceMs = graceMs
    this.#handler = handler
    this.#onError = onError
  }

  arm (item: T, exp: number | undefined): void {
    this.disarm(item)
    if (exp === undefined) return
    if (this.#timer === undefined) {
      this.#done = nextSlot() - 1
      this.#timer = setInterval(() => { this.#tick() }, TICK_MS).unref()
    }
    // A token already expired (within the clock tolerance) goes into the next slot; never into one being
    // taken out or already taken out, which no tick would visit again.
    this.#put(item, Math.max(Math.ceil(exp * 1000 / TICK_MS), nextSlot()), 1)
  }

  disarm (item: T): void {
    const armed = (item as Slotted)[this.#slot]
    if (armed === undefined) return
    ;(item as Slotted)[this.#slot] = undefined
    const slot = Math.abs(armed) + SLOT_BASE
    const bucket = this.#buckets.get(slot)
    if (bucket !== undefined && bucket.delete(item) && bucket.size === 0) this.#buckets.delete(slot)
    this.#stopWhenIdle()
  }

  #put (item: T, slot: number, phase: 1 | -1): void {
    let bucket = this.#buckets.get(slot)
    if (bucket === undefined) this.#buckets.set(slot, bucket = new Set())
    bucket.add(item)
    ;(item as Slotted)[this.#slot] = (slot - SLOT_BASE) * phase
  }

  #tick (): void {
    const now = Math.floor(Date.now() / TICK_MS)
    if (now - this.#done > this.#buckets.size) {
      // A long gap (a clock jump, a blocked loop): look at the buckets rather than at every slot in between.
      for (const slot of [...this.#buckets.keys()]) if (slot <= now) this.#takeOut(slot)
    } else {
      for (let slot = this.#done + 1; slot <= now; slot++) this.#takeOut(slot)
    }
    this.#done = now
    this.#stopWhenIdle()
  }

  #takeOut (slot: number): void {
    const bucket = this.#buckets.get(slot)
    if (bucket === undefined) return
    this.#buckets.delete(slot)
    // One grace slot for the whole bucket: items that expired together are ended together.
    const graceSlot = Math.max(Math.ceil((Date.now() + this.graceMs) / TICK_MS), nextSlot())
    for (const item of bucket) {
      const s = item as Slotted
      const inGrace = (s[this.#slot] ?? 0) < 0
      if (inGrace) {
        s[this.#slot] = undefined
        this.#call(this.#handler.ended, item)
      } else {
        // Into its grace bucket first: `expired` may close (disarm) or refresh (re-arm) the item.
        this.#put(item, graceSlot, -1)
        this.#call(this.#handler.expired, item)
      }
    }
  }

  #call (fn: (item: T) => void, item: T): void {
    try {
      fn(item)
    } catch (err) {
      this.#onError(err)
    }
  }

  #stopWhenIdle (): void {
    if (this.#buckets.size > 0 || this.#timer === undefined) return
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
