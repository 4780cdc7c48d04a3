// Batched delivery: an endpoint's jobs of one tenant gathered into one POST, up to a size or a delay (always in the batch format, even a batch of one).
import { createHash } from 'node:crypto'
import type { Deliver, Outcome, WebhookJob } from './job.js'

export interface BatchOptions {
  readonly maxSize: number
  readonly maxDelayMs: number
}

interface Held {
  readonly jobs: WebhookJob[]
  readonly done: Array<(outcome: Outcome) => void>
  timer: NodeJS.Timeout | undefined
}

/**
 * Wraps a delivery: jobs of an endpoint with a batch policy wait until `maxSize` of one tenant are held or
 * `maxDelayMs` passed, then go as one job whose body is `{ type: 'batch', timestamp, tenantId, events }` (each
 * event with its own `id`, the `webhook-id` it would have had alone). The batch's `webhook-id` is derived from its
 * members' ids, so the same batch sent again carries the same id. Every member gets the batch's outcome, and
 * each is retried on its own schedule (a retry may land in another batch: receivers deduplicate on the events' ids).
 */
export function batchedDelivery (deliver: Deliver, policies: ReadonlyMap<string, BatchOptions>, now: () => number = Date.now): { deliver: Deliver, flush: () => void } {
  const held = new Map<string, Held>()

  const flush = (key: string): void => {
    const h = held.get(key)
    if (h === undefined) return
    held.delete(key)
    clearTimeout(h.timer)
    const outcome = deliver(combine(h.jobs, now())).catch((err: unknown): Outcome => ({ kind: 'retry', error: (err as Error).message }))
    for (const done of h.done) void outcome.then(done)
  }

  return {
    deliver: async (job) => {
      const policy = policies.get(job.endpoint)
      if (policy === undefined || policy.maxSize <= 1) return await deliver(job)
      const key = `${job.endpoint}\u0000${job.tenantId}`
      let h = held.get(key)
      if (h === undefined) {
        h = { jobs: [], done: [], timer: undefined }
        held.set(key, h)
        h.timer = setTimeout(() => { flush(key) }, policy.maxDelayMs)
      }
      const outcome = new Promise<Outcome>((resolve) => { h.done.push(resolve) })
      h.jobs.push(job)
      if (h.jobs.length >= policy.maxSize) flush(key)
      return await outcome
    },
    /** Sends what is held now (at shutdown, so that no attempt waits for a timer). */
    flush: () => { for (const key of [...held.keys()]) flush(key) }
  }
}

function combine (jobs: readonly WebhookJob[], at: number): WebhookJob {
  const first = jobs[0]!
  const id = `batch_${createHash('sha256').update(jobs.map((j) => j.id).sort().join(',')).digest('base64url').slice(0, 32)}`
  const events = jobs.map((j) => ({ id: j.id, ...JSON.parse(j.body) as object }))
  const body = JSON.stringify({ type: 'batch', timestamp: new Date(at).toISOString(), tenantId: first.tenantId, events })
  return { ...first, id, type: 'batch', body, attempts: Math.max(...jobs.map((j) => j.attempts)) }
}
