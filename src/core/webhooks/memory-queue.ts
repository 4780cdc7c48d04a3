// The webhook queue without Redis: jobs, retries and dead letters in this process's memory (lost when it stops).
import { randomUUID } from 'node:crypto'
import { retryDelay, type DeadLetter, type Deliver, type RetryPolicy, type WebhookJob, type WebhookQueue } from './job.js'

export interface MemoryQueueOptions {
  retry: RetryPolicy
  /** Attempts under way at once. */
  concurrency: number
  /** Dead letters kept; the oldest go first. */
  deadLetterMax: number
  onError: (err: unknown, job: WebhookJob) => void
}

/** Not crash-safe: what waits here is lost when the process stops (documented; Redis makes the queue durable). */
export class MemoryQueue implements WebhookQueue {
  readonly durable = false
  readonly #o: MemoryQueueOptions
  readonly #ready: WebhookJob[] = []
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #dead: DeadLetter[] = []
  readonly #running = new Set<Promise<void>>()
  #deliver: Deliver | undefined
  #closed = false

  constructor (options: MemoryQueueOptions) {
    this.#o = options
  }

  async enqueue (jobs: readonly WebhookJob[]): Promise<void> {
    this.#ready.push(...jobs)
    this.#pump()
  }

  start (deliver: Deliver): void {
    this.#deliver = deliver
    this.#pump()
  }

  async deadLetters ({ tenantId, limit }: { tenantId?: string, limit: number }): Promise<DeadLetter[]> {
    const out: DeadLetter[] = []
    for (let i = this.#dead.length - 1; i >= 0 && out.length < limit; i--) {
      const d = this.#dead[i]!
      if (tenantId === undefined || d.tenantId === tenantId) out.push(d)
    }
    return out
  }

  async replay (deadIds: readonly string[], tenantId?: string): Promise<number> {
    const wanted = new Set(deadIds)
    const again: WebhookJob[] = []
    for (let i = this.#dead.length - 1; i >= 0; i--) {
      const d = this.#dead[i]!
      if (!wanted.has(d.deadId) || (tenantId !== undefined && d.tenantId !== tenantId)) continue
      this.#dead.splice(i, 1)
      again.unshift(jobOf(d))
    }
    await this.enqueue(again)
    return again.length
  }

  async close (): Promise<void> {
    this.#closed = true
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    await Promise.all(this.#running)
  }

  #pump (): void {
    const deliver = this.#deliver
    if (deliver === undefined) return
    while (!this.#closed && this.#running.size < this.#o.concurrency && this.#ready.length > 0) {
      const job = this.#ready.shift()!
      const run = this.#attempt(deliver, job).finally(() => {
        this.#running.delete(run)
        this.#pump()
      })
      this.#running.add(run)
    }
  }

  async #attempt (deliver: Deliver, job: WebhookJob): Promise<void> {
    const tried = { ...job, attempts: job.attempts + 1 }
    let outcome
    try {
      outcome = await deliver(tried)
    } catch (err) {
      this.#o.onError(err, tried)
      outcome = { kind: 'retry' as const, error: (err as Error).message }
    }
    if (outcome.kind === 'delivered' || this.#closed) return
    if (outcome.kind === 'retry' && tried.attempts < this.#o.retry.attempts) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer)
        this.#ready.push(tried)
        this.#pump()
      }, retryDelay(this.#o.retry, tried.attempts))
      timer.unref()
      this.#timers.add(timer)
      return
    }
    this.#dead.push({ ...tried, deadId: randomUUID(), error: outcome.error, failedAt: Date.now() })
    if (this.#dead.length > this.#o.deadLetterMax) this.#dead.shift()
  }
}

/** A dead letter queued again: its first attempt anew. */
export function jobOf (d: DeadLetter): WebhookJob {
  return { id: d.id, endpoint: d.endpoint, tenantId: d.tenantId, type: d.type, body: d.body, attempts: 0, queuedAt: d.queuedAt }
}
