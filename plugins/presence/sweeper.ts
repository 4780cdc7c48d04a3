/**
 * The periodic work of a node: renew its lease, release dead nodes' sockets, end due debounces. It runs
 * every `intervalMs` (with ±10 % jitter, so nodes do not sweep in lockstep) and earlier when woken for a
 * debounce that ends sooner; never twice at once. Every node runs one: there is no leader to lose.
 */
export class Sweeper {
  readonly #tick: () => Promise<number | undefined>
  readonly #intervalMs: number
  readonly #onError: (err: unknown) => void
  #timer: NodeJS.Timeout | undefined
  #wake: NodeJS.Timeout | undefined
  #wakeAt = Infinity
  #running: Promise<void> | undefined
  #again = false
  #stopped = false

  /** `tick` returns in how many ms it wants to run again (a debounce ending), if sooner than the interval. */
  constructor (tick: () => Promise<number | undefined>, intervalMs: number, onError: (err: unknown) => void) {
    this.#tick = tick
    this.#intervalMs = intervalMs
    this.#onError = onError
  }

  start (): void {
    if (this.#stopped || this.#timer !== undefined) return
    const next = (): void => {
      const jitter = 0.9 + Math.random() * 0.2
      this.#timer = setTimeout(() => { void this.run().finally(() => { if (!this.#stopped) next() }) }, Math.round(this.#intervalMs * jitter))
      this.#timer.unref()
    }
    next()
  }

  /** Runs a tick in `ms` (or keeps an earlier wake-up). */
  wakeIn (ms: number): void {
    const at = Date.now() + ms
    if (this.#stopped || at >= this.#wakeAt) return
    clearTimeout(this.#wake)
    this.#wakeAt = at
    this.#wake = setTimeout(() => {
      this.#wakeAt = Infinity
      void this.run()
    }, Math.max(0, ms))
    this.#wake.unref()
  }

  /** Runs a tick now; a call during a tick makes it run once more after it. */
  async run (): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true
      return await this.#running
    }
    this.#running = (async () => {
      do {
        this.#again = false
        try {
          const next = await this.#tick()
          if (next !== undefined && next < this.#intervalMs) this.wakeIn(next)
        } catch (err) {
          this.#onError(err)
        }
      } while (this.#again && !this.#stopped)
    })()
    try {
      await this.#running
    } finally {
      this.#running = undefined
    }
  }

  /** Stops the timers and waits for a running tick. */
  async stop (): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    clearTimeout(this.#wake)
    await this.#running
  }
}
