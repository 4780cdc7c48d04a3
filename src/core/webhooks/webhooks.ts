// Webhooks: which endpoint wants which event, and the queue that delivers them (Redis or memory).
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { batchedDelivery, type BatchOptions } from './batching.js'
import { httpDelivery } from './delivery.js'
import type { DeadLetter, Deliver, Outcome, QueuedEvent, WebhookJob, WebhookQueue } from './job.js'
import { MemoryQueue } from './memory-queue.js'
import type { WebhooksOptions } from '../../config/webhooks.js'
export type { WebhooksOptions } from '../../config/webhooks.js'
import { jobsStream, RedisQueue } from './redis-queue.js'

/** An event for the backends: `type` (`user.online`, ...), its tenant, its data, and when it happened (now by default). */
export interface WebhookEvent {
  readonly type: string
  readonly tenantId: string
  readonly data: unknown
  readonly at?: number
}

/**
 * What a plugin gets as `realtime.webhooks`: queue events for the backends' endpoints (`webhooks` in the config).
 *
 * @example
 * if (realtime.webhooks.wants('order.shipped')) await realtime.webhooks.emit({ type: 'order.shipped', tenantId, data: { orderId } })
 */
export interface PluginWebhooks {
  /** Whether some endpoint takes events of this type: skip building events nobody wants. */
  wants (type: string): boolean
  /** Queues the event once for each endpoint that wants it (deduplicating across nodes is the caller's job). */
  emit (event: WebhookEvent): Promise<void>
  /** With Redis and endpoints: the stream a Lua script appends events to, atomically with its own writes (see `lua`); otherwise undefined. */
  readonly stream: string | undefined
  /** Lua defining `rt_webhook(stream, type, tenantId, data, at)`, to prepend to such a script. */
  readonly lua: string
}

export interface WebhooksDeps {
  options: WebhooksOptions
  /** With Redis the queue is durable and shared by the nodes; without, it is this process's (lost when it stops). */
  redis: Redis | undefined
  keyPrefix: string
  nodeId: string
  log: { warn: (o: object, m: string) => void, error: (o: object, m: string) => void }
  /** Counts attempts (a batch once) by outcome, and the deliveries that became dead letters. */
  count?: { attempt: (endpoint: string, outcome: Outcome['kind']) => void, dead: (endpoint: string) => void }
}

/**
 * Queues each event once per endpoint that wants it. The body (`{ type, timestamp, tenantId, data }`) is written
 * once; each attempt signs it anew. Deduplicating the logical event across nodes is the job of whoever emits it:
 * `emit` queues what it is given. With Redis an event is one stream entry, fanned out by the node that reads it;
 * a Lua script may append one to `stream` in the same call as the state change that made it (see `eventLua`).
 */
export class Webhooks implements PluginWebhooks {
  readonly lua = eventLua
  readonly #o: WebhooksDeps
  readonly #queue: WebhookQueue
  readonly #redis: RedisQueue | undefined
  readonly #types: ReadonlySet<string>
  readonly #flush: (() => void) | undefined

  constructor (deps: WebhooksDeps) {
    this.#o = deps
    const { options, log } = deps
    const names = options.endpoints.map((e) => e.name)
    names.forEach((name, i) => {
      const first = names.indexOf(name)
      if (first !== i) throw new Error(`webhooks.endpoints[${i}].name: "${name}" is already the name of webhooks.endpoints[${first}]`)
    })
    const retry = options.retry
    const batches = new Map<string, BatchOptions>()
    for (const e of options.endpoints) if (e.batch !== undefined) batches.set(e.name, e.batch)
    const slots = options.concurrency * Math.max(1, ...[...batches.values()].map((b) => b.maxSize))
    const maxDelay = Math.max(0, ...[...batches.values()].map((b) => b.maxDelayMs))
    this.#types = new Set(options.endpoints.flatMap((e) => e.events))
    this.#redis = deps.redis === undefined
      ? undefined
      : new RedisQueue({
        redis: deps.redis,
        keyPrefix: deps.keyPrefix,
        nodeId: deps.nodeId,
        retry,
        concurrency: slots,
        deadLetterMax: options.deadLetterMax,
        // Longer than an attempt can take, its batch's wait included: a job held that long was abandoned.
        visibilityMs: Math.max(30_000, options.timeoutMs * 3 + maxDelay),
        pollMs: Math.min(1000, retry.initialDelayMs),
        fanout: (event) => this.#jobs(event),
        onError: (err, what) => { log.warn({ err }, `webhooks: ${what} failed`) }
      })
    this.#queue = this.#redis ?? new MemoryQueue({ retry, concurrency: slots, deadLetterMax: options.deadLetterMax, onError: (err, job) => { log.error({ err, webhookId: job.id }, 'webhook attempt failed unexpectedly') } })
    if (options.endpoints.length > 0) {
      const http = httpDelivery(options.endpoints, options.timeoutMs)
      const count = deps.count
      const counted: Deliver = count === undefined
        ? http
        : async (job) => {
          const outcome = await http(job)
          count.attempt(job.endpoint, outcome.kind)
          return outcome
        }
      const batched = batches.size === 0 ? undefined : batchedDelivery(counted, batches)
      this.#flush = batched?.flush
      const deliver = batched?.deliver ?? counted
      // `job.attempts` counts this attempt: out of attempts on a retryable outcome, or failed, it is a dead letter.
      this.#queue.start(count === undefined
        ? deliver
        : async (job) => {
          const outcome = await deliver(job)
          if (outcome.kind === 'failed' || (outcome.kind === 'retry' && job.attempts >= retry.attempts)) count.dead(job.endpoint)
          return outcome
        })
    }
  }

  /** Whether any endpoint is configured. */
  get enabled (): boolean { return this.#o.options.endpoints.length > 0 }

  /** Whether queued deliveries survive a crash of this node (Redis). */
  get durable (): boolean { return this.#queue.durable }

  /** Whether some endpoint takes events of this type (of some tenant): nothing needs to be built otherwise. */
  wants (type: string): boolean {
    return this.#types.has('*') || this.#types.has(type)
  }

  /**
   * The Redis stream a Lua script appends an event to, atomically with the change that made it:
   * `XADD <stream> * event <JSON { type, tenantId, data, at }>` (see `eventLua`). Undefined without Redis
   * or without endpoints.
   */
  get stream (): string | undefined {
    return this.#redis !== undefined && this.enabled ? jobsStream(this.#o.keyPrefix) : undefined
  }

  /** Queues `event` for every endpoint that wants it; resolves once queued (in Redis when configured). */
  async emit (event: WebhookEvent, now: number = Date.now()): Promise<void> {
    if (!this.enabled || !this.wants(event.type)) return
    const queued: QueuedEvent = { type: event.type, tenantId: event.tenantId, data: event.data, at: event.at ?? now }
    if (this.#redis !== undefined) await this.#redis.enqueueEvent(queued)
    else await this.#queue.enqueue(this.#jobs(queued))
  }

  async deadLetters (options: { tenantId?: string, limit: number }): Promise<DeadLetter[]> {
    return await this.#queue.deadLetters(options)
  }

  async replay (deadIds: readonly string[], tenantId?: string): Promise<number> {
    return await this.#queue.replay(deadIds, tenantId)
  }

  async close (): Promise<void> {
    this.#flush?.()
    await this.#queue.close()
  }

  /** One job per endpoint that wants the event, with the body written once. */
  #jobs (event: QueuedEvent): WebhookJob[] {
    const body = JSON.stringify({ type: event.type, timestamp: new Date(event.at).toISOString(), tenantId: event.tenantId, data: event.data })
    const jobs: WebhookJob[] = []
    for (const e of this.#o.options.endpoints) {
      if (!e.events.includes('*') && !e.events.includes(event.type)) continue
      if (e.tenants !== undefined && !e.tenants.includes(event.tenantId)) continue
      jobs.push({ id: `msg_${randomUUID()}`, endpoint: e.name, tenantId: event.tenantId, type: event.type, body, attempts: 0, queuedAt: event.at })
    }
    return jobs
  }
}

/**
 * A Lua function for scripts that queue events atomically with their own writes (prepend it to the script):
 * `rt_webhook(stream, type, tenantId, data, at)` appends the event when `stream` is not empty (pass `''` when
 * webhooks are off). `data` is a Lua table, encoded with cjson.
 */
export const eventLua = `
local function rt_webhook(stream, type, tenantId, data, at)
  if stream == '' then return end
  redis.call('XADD', stream, '*', 'event', cjson.encode({ type = type, tenantId = tenantId, data = data, at = at }))
end
`
