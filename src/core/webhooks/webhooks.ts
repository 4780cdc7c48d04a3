// Webhooks: the endpoints' options, which endpoint wants which event, and the queue that delivers them (Redis or memory).
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { Type, type Static } from 'typebox'
import { httpDelivery } from './delivery.js'
import type { DeadLetter, WebhookJob, WebhookQueue } from './job.js'
import { MemoryQueue } from './memory-queue.js'
import { RedisQueue } from './redis-queue.js'

export const WebhookEndpoint = Type.Object({
  name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 64, description: 'The endpoint\'s name, in logs and dead letters.' }),
  url: Type.String({ pattern: '^https?://', description: 'Where deliveries are POSTed.' }),
  secret: Type.String({ pattern: '^whsec_[A-Za-z0-9+/=]{24,}$', description: 'The Standard Webhooks signing secret, `whsec_` and at least 18 random bytes in base64 (`whsec_$(openssl rand -base64 32)`).' }),
  events: Type.Array(Type.String({ minLength: 1 }), { default: ['*'], minItems: 1, description: 'Event types this endpoint gets (`user.online`, ...); `*`: all.' }),
  tenants: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Only the events of these tenants; absent: every tenant\'s.' }))
}, { additionalProperties: false })

export const WebhooksOptions = Type.Object({
  endpoints: Type.Array(WebhookEndpoint, { default: [], description: 'Where events are delivered; none: webhooks are off.' }),
  timeoutMs: Type.Integer({ minimum: 100, default: 5000, description: 'An attempt not answered within this long is retried.' }),
  retry: Type.Object({
    attempts: Type.Integer({ minimum: 1, default: 8, description: 'Attempts in all before a delivery becomes a dead letter.' }),
    initialDelayMs: Type.Integer({ minimum: 10, default: 1000, description: 'Wait before the second attempt; it doubles at each attempt (with jitter), up to maxDelayMs.' }),
    maxDelayMs: Type.Integer({ minimum: 10, default: 600000 })
  }, { additionalProperties: false, default: {} }),
  concurrency: Type.Integer({ minimum: 1, default: 8, description: 'Attempts under way at once, per node.' }),
  deadLetterMax: Type.Integer({ minimum: 1, default: 10000, description: 'Dead letters kept (the oldest trimmed first).' })
}, { additionalProperties: false, default: {} })

export type WebhooksOptions = Static<typeof WebhooksOptions>

/** An event for the backends: `type` (`user.online`, ...), its tenant, and its data. */
export interface WebhookEvent {
  readonly type: string
  readonly tenantId: string
  readonly data: unknown
}

export interface WebhooksDeps {
  options: WebhooksOptions
  /** With Redis the queue is durable and shared by the nodes; without, it is this process's (lost when it stops). */
  redis: Redis | undefined
  keyPrefix: string
  nodeId: string
  log: { warn: (o: object, m: string) => void, error: (o: object, m: string) => void }
}

/**
 * Queues each event once per endpoint that wants it. The body (`{ type, timestamp, tenantId, data }`) is written
 * once; each attempt signs it anew. Deduplicating the logical event across nodes is the job of whoever emits it:
 * `emit` queues what it is given.
 */
export class Webhooks {
  readonly #o: WebhooksDeps
  readonly #queue: WebhookQueue

  constructor (deps: WebhooksDeps) {
    this.#o = deps
    const { options, log } = deps
    const retry = options.retry
    this.#queue = deps.redis === undefined
      ? new MemoryQueue({ retry, concurrency: options.concurrency, deadLetterMax: options.deadLetterMax, onError: (err, job) => { log.error({ err, webhookId: job.id }, 'webhook attempt failed unexpectedly') } })
      : new RedisQueue({
        redis: deps.redis,
        keyPrefix: deps.keyPrefix,
        nodeId: deps.nodeId,
        retry,
        concurrency: options.concurrency,
        deadLetterMax: options.deadLetterMax,
        visibilityMs: Math.max(30_000, options.timeoutMs * 3),
        pollMs: Math.min(1000, retry.initialDelayMs),
        onError: (err, what) => { log.warn({ err }, `webhooks: ${what} failed`) }
      })
    if (options.endpoints.length > 0) this.#queue.start(httpDelivery(options.endpoints, options.timeoutMs))
  }

  /** Whether any endpoint is configured. */
  get enabled (): boolean { return this.#o.options.endpoints.length > 0 }

  /** Whether queued deliveries survive a crash of this node (Redis). */
  get durable (): boolean { return this.#queue.durable }

  /** Queues `event` for every endpoint that wants it; resolves once queued (in Redis when configured). */
  async emit (event: WebhookEvent, now: number = Date.now()): Promise<void> {
    const body = JSON.stringify({ type: event.type, timestamp: new Date(now).toISOString(), tenantId: event.tenantId, data: event.data })
    const jobs: WebhookJob[] = []
    for (const e of this.#o.options.endpoints) {
      if (!e.events.includes('*') && !e.events.includes(event.type)) continue
      if (e.tenants !== undefined && !e.tenants.includes(event.tenantId)) continue
      jobs.push({ id: `msg_${randomUUID()}`, endpoint: e.name, tenantId: event.tenantId, type: event.type, body, attempts: 0, queuedAt: now })
    }
    await this.#queue.enqueue(jobs)
  }

  async deadLetters (options: { tenantId?: string, limit: number }): Promise<DeadLetter[]> {
    return await this.#queue.deadLetters(options)
  }

  async replay (deadIds: readonly string[], tenantId?: string): Promise<number> {
    return await this.#queue.replay(deadIds, tenantId)
  }

  async close (): Promise<void> {
    await this.#queue.close()
  }
}
